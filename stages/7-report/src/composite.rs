//! Recursion's colour convention for showing a 6-channel site as one RGB
//! image (rxrx1-utils, `rxrx.io.convert_tensor_to_rgb`): channel c gets a
//! colour and a display range [0, hi]; its 8-bit value v becomes
//! `x = min(v / hi, 1)`, each colour component contributes `trunc(x * rgb)`,
//! the six contributions are summed and clipped to 255.
//!
//! The reference computes `x` in floating point and truncates with numpy's
//! `dtype=int`; here the same value is `min(v, hi) * rgb / hi` in integer
//! arithmetic, which equals the reference's result for every 8-bit value of
//! every channel (checked against numpy) and leaves no rounding question.

/// One channel's colour and the top of its display range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelColour {
    pub rgb: [u8; 3],
    /// Values at or above `hi` show at full colour; must be > 0.
    pub hi: u8,
}

/// Channels 1..6 (index 0..5) of RxRx1, as rxrx1-utils' `RGB_MAP`.
pub const RXRX1_COLOURS: [ChannelColour; 6] = [
    ChannelColour {
        rgb: [19, 0, 249],
        hi: 51,
    },
    ChannelColour {
        rgb: [42, 255, 31],
        hi: 107,
    },
    ChannelColour {
        rgb: [255, 0, 25],
        hi: 64,
    },
    ChannelColour {
        rgb: [45, 255, 252],
        hi: 191,
    },
    ChannelColour {
        rgb: [250, 0, 253],
        hi: 89,
    },
    ChannelColour {
        rgb: [254, 255, 40],
        hi: 191,
    },
];

impl ChannelColour {
    /// What a value `v` of this channel adds to the pixel's R, G, B.
    pub fn contribution(&self, v: u8) -> [u16; 3] {
        let hi = self.hi.max(1) as u32;
        let v = (v as u32).min(hi);
        self.rgb.map(|c| (v * c as u32 / hi) as u16)
    }
}

/// The composite colour of one pixel from its six channel values.
pub fn pixel(values: [u8; 6]) -> [u8; 3] {
    let mut sum = [0u16; 3];
    for (colour, v) in RXRX1_COLOURS.iter().zip(values) {
        let c = colour.contribution(v);
        for k in 0..3 {
            sum[k] += c[k];
        }
    }
    sum.map(|s| s.min(255) as u8)
}

/// The composite of a site: six equally long channel planes (row-major, one
/// byte per pixel) -> interleaved RGB bytes, 3 per pixel.
///
/// # Panics
/// When the planes differ in length (callers check the image sizes first).
pub fn composite(channels: [&[u8]; 6]) -> Vec<u8> {
    let n = channels[0].len();
    assert!(
        channels.iter().all(|c| c.len() == n),
        "channel planes of different sizes"
    );
    // One table per channel: value -> contribution.
    let lut: Vec<[[u16; 3]; 256]> = RXRX1_COLOURS
        .iter()
        .map(|colour| std::array::from_fn(|v| colour.contribution(v as u8)))
        .collect();
    let mut out = Vec::with_capacity(n * 3);
    for i in 0..n {
        let mut sum = [0u16; 3];
        for (table, plane) in lut.iter().zip(channels) {
            let c = table[plane[i] as usize];
            sum[0] += c[0];
            sum[1] += c[1];
            sum[2] += c[2];
        }
        out.extend(sum.map(|s| s.min(255) as u8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_stays_black() {
        assert_eq!(pixel([0; 6]), [0, 0, 0]);
    }

    #[test]
    fn a_channel_at_or_above_its_range_shows_its_full_colour() {
        for (c, colour) in RXRX1_COLOURS.iter().enumerate() {
            for v in [colour.hi, colour.hi.saturating_add(1), 255] {
                let mut values = [0; 6];
                values[c] = v;
                assert_eq!(pixel(values), colour.rgb, "channel {} value {v}", c + 1);
            }
        }
    }

    #[test]
    fn contributions_are_truncated_per_channel() {
        // Channel 1, v = 25 of 51: 25*19/51 = 9.31, 0, 25*249/51 = 122.06.
        assert_eq!(RXRX1_COLOURS[0].contribution(25), [9, 0, 122]);
        // Channel 2, v = 50 of 107: 19.63, 119.16, 14.49.
        assert_eq!(RXRX1_COLOURS[1].contribution(50), [19, 119, 14]);
        // Channel 4, v = 1 of 191: 45/191, 255/191 = 1.34, 252/191 = 1.32.
        assert_eq!(RXRX1_COLOURS[3].contribution(1), [0, 1, 1]);
        // An exact multiple: channel 1, v = 17 = 51/3: 19/3 = 6.33, 249/3 = 83.
        assert_eq!(RXRX1_COLOURS[0].contribution(17), [6, 0, 83]);
        // Truncation happens before summing: channels 1 and 3 at v = 1 give
        // (0.37 + 3.98, 0, 4.88 + 0.39) -> (0 + 3, 0, 4 + 0), not (4, 0, 5).
        assert_eq!(pixel([1, 0, 1, 0, 0, 0]), [3, 0, 4]);
    }

    #[test]
    fn sums_clip_at_255() {
        // Channels 1 and 3 full: (19 + 255, 0, 249 + 25) -> (255, 0, 255).
        assert_eq!(pixel([255, 0, 255, 0, 0, 0]), [255, 0, 255]);
        // Every channel full: all three components clip.
        assert_eq!(pixel([255; 6]), [255, 255, 255]);
        // Channel 2 half (v = 53: 20, 126, 15) + channel 6 half (v = 95:
        // 126, 126, 19): (146, 252, 34), no clipping yet.
        assert_eq!(pixel([0, 53, 0, 0, 0, 95]), [146, 252, 34]);
        // One more step in channel 6 (v = 96: 127, 128, 20) pushes G to 254;
        // v = 100 (132, 133, 20) clips G: 126 + 133 = 259 -> 255.
        assert_eq!(pixel([0, 53, 0, 0, 0, 96]), [147, 254, 35]);
        assert_eq!(pixel([0, 53, 0, 0, 0, 100]), [152, 255, 35]);
    }

    #[test]
    fn planes_give_the_pixels_in_order() {
        let ch: [Vec<u8>; 6] = [
            vec![0, 51, 25],
            vec![0, 0, 50],
            vec![0, 0, 0],
            vec![0, 0, 1],
            vec![0, 0, 0],
            vec![0, 255, 0],
        ];
        let rgb = composite(std::array::from_fn(|c| ch[c].as_slice()));
        // Pixel 1: channel 1 full [19,0,249] + channel 6 full [254,255,40]
        // -> (273, 255, 289) clipped. Pixel 2: [9,0,122] + [19,119,14] +
        // [0,1,1] = (28, 120, 137).
        assert_eq!(rgb, vec![0, 0, 0, 255, 255, 255, 28, 120, 137]);
        for i in 0..3 {
            let px = pixel(std::array::from_fn(|c| ch[c][i]));
            assert_eq!(&rgb[3 * i..3 * i + 3], &px);
        }
    }
}
