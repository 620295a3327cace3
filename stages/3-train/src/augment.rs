//! Per-sample augmentation and normalisation (docs/method.md sections 2-3), on a
//! site's 6 x S x S uint8 pixels (channel-major, row-major): random
//! horizontal flip, vertical flip and transpose (p = 0.5 each) and zoom
//! (square crop of side uniform in [round(scale*S), S], nearest resize back)
//! on the raw bytes; then scaling to [0, 1] and normalisation (the one
//! prediction uses too: [`rcic_core::normalize`]); then the pixel-wise
//! x*a + b with a ~ N(1, sa), b ~ N(0, sb) per channel.
//! Each sample's randomness comes from its own seeded generator, so results
//! do not depend on thread scheduling.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use rcic_core::normalize::{normalize, ChannelNorm};
use rcic_core::CHANNELS;

/// Augmentation options with the reference's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AugmentOptions {
    /// `--scale-aug` (1 = no zoom).
    pub scale_aug: f64,
    /// `--pw-aug` (a's std, b's std; 0,0 = none).
    pub pw_aug: (f64, f64),
}

impl Default for AugmentOptions {
    fn default() -> Self {
        Self {
            scale_aug: 0.5,
            pw_aug: (0.1, 0.1),
        }
    }
}

/// Mirrors every channel left-right.
pub fn flip_h(p: &mut [u8], s: usize) {
    for row in p.chunks_exact_mut(s) {
        row.reverse();
    }
}

/// Mirrors every channel top-bottom.
pub fn flip_v(p: &mut [u8], s: usize) {
    for ch in p.chunks_exact_mut(s * s) {
        for y in 0..s / 2 {
            let (a, b) = ch.split_at_mut((s - 1 - y) * s);
            a[y * s..y * s + s].swap_with_slice(&mut b[..s]);
        }
    }
}

/// Swaps rows and columns of every channel.
pub fn transpose(p: &mut [u8], s: usize) {
    for ch in p.chunks_exact_mut(s * s) {
        for y in 0..s {
            for x in y + 1..s {
                ch.swap(y * s + x, x * s + y);
            }
        }
    }
}

/// Crops the square of side `side` at (row, col) and resizes it back to S x S
/// with nearest neighbour (source index floor(i * side / S), as OpenCV's
/// INTER_NEAREST).
pub fn zoom(p: &[u8], s: usize, side: usize, row: usize, col: usize) -> Vec<u8> {
    let map: Vec<usize> = (0..s).map(|i| (i * side / s).min(side - 1)).collect();
    let mut out = vec![0u8; p.len()];
    for (src, dst) in p.chunks_exact(s * s).zip(out.chunks_exact_mut(s * s)) {
        for y in 0..s {
            let sy = row + map[y];
            for x in 0..s {
                dst[y * s + x] = src[sy * s + col + map[x]];
            }
        }
    }
    out
}

/// Step 1 of the augmentation: flips, transpose, zoom on the raw bytes.
pub fn geometric(p: &mut Vec<u8>, s: usize, rng: &mut impl Rng, scale_aug: f64) {
    if rng.random::<f64>() < 0.5 {
        flip_h(p, s);
    }
    if rng.random::<f64>() < 0.5 {
        flip_v(p, s);
    }
    if rng.random::<f64>() < 0.5 {
        transpose(p, s);
    }
    if scale_aug != 1.0 {
        let lo = ((s as f64 * scale_aug).round() as usize).clamp(1, s);
        let side = rng.random_range(lo..=s);
        let row = rng.random_range(0..=s - side);
        let col = rng.random_range(0..=s - side);
        *p = zoom(p, s, side, row, col);
    }
}

/// Step 3: per channel x * a + b, a ~ N(1, sa), b ~ N(0, sb).
pub fn pixelwise(x: &mut [f32], s: usize, rng: &mut impl Rng, (sa, sb): (f64, f64)) {
    if sa == 0.0 && sb == 0.0 {
        return;
    }
    let na = Normal::new(1.0, sa).expect("finite std");
    let nb = Normal::new(0.0, sb).expect("finite std");
    let ab: Vec<(f32, f32)> = (0..CHANNELS)
        .map(|_| (na.sample(rng) as f32, nb.sample(rng) as f32))
        .collect();
    for (ch, (a, b)) in x.chunks_exact_mut(s * s).zip(ab) {
        for v in ch {
            *v = *v * a + b;
        }
    }
}

/// The generator of one sample in one epoch (order-independent seeding).
pub fn sample_rng(seed: u64, epoch: u32, index: u64) -> ChaCha8Rng {
    let mut h = blake3_like(seed, epoch as u64, index);
    h ^= 0x9e37_79b9_7f4a_7c15;
    ChaCha8Rng::seed_from_u64(h)
}

fn blake3_like(a: u64, b: u64, c: u64) -> u64 {
    // SplitMix64 over the three words: cheap, well mixed, stable.
    let mut z = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.rotate_left(21) ^ c.rotate_left(42);
    for _ in 0..2 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
    }
    z
}

/// The whole training transform of one site.
pub fn train_transform(
    pixels: &[u8],
    s: usize,
    rng: &mut impl Rng,
    opts: &AugmentOptions,
    stats: Option<&ChannelNorm>,
) -> Vec<f32> {
    let mut p = pixels.to_vec();
    geometric(&mut p, s, rng, opts.scale_aug);
    let mut x = normalize(&p, s, stats);
    pixelwise(&mut x, s, rng, opts.pw_aug);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(s: usize) -> Vec<u8> {
        (0..CHANNELS * s * s).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn flips_and_transpose_move_pixels_where_expected() {
        let s = 4;
        let p = ramp(s);
        let at = |v: &[u8], c: usize, y: usize, x: usize| v[c * s * s + y * s + x];
        let mut h = p.clone();
        flip_h(&mut h, s);
        let mut v = p.clone();
        flip_v(&mut v, s);
        let mut t = p.clone();
        transpose(&mut t, s);
        for c in 0..CHANNELS {
            for y in 0..s {
                for x in 0..s {
                    assert_eq!(at(&h, c, y, x), at(&p, c, y, s - 1 - x));
                    assert_eq!(at(&v, c, y, x), at(&p, c, s - 1 - y, x));
                    assert_eq!(at(&t, c, y, x), at(&p, c, x, y));
                }
            }
        }
        // Odd sizes keep the middle row.
        let mut o = ramp(3);
        flip_v(&mut o, 3);
        assert_eq!(o[3..6], ramp(3)[3..6]);
    }

    #[test]
    fn zoom_is_crop_then_nearest_resize() {
        let s = 4;
        let p = ramp(s);
        // Side 2 at (1, 2): every source pixel repeated 2x2.
        let z = zoom(&p, s, 2, 1, 2);
        for c in 0..CHANNELS {
            for y in 0..s {
                for x in 0..s {
                    assert_eq!(
                        z[c * 16 + y * 4 + x],
                        p[c * 16 + (1 + y / 2) * 4 + 2 + x / 2]
                    );
                }
            }
        }
        assert_eq!(zoom(&p, s, s, 0, 0), p, "full side is the identity");
    }

    #[test]
    fn pixelwise_is_one_affine_map_per_channel_and_seeded() {
        let s = 3;
        let x0: Vec<f32> = (0..CHANNELS * 9).map(|i| i as f32 * 0.1).collect();
        let mut a = x0.clone();
        pixelwise(&mut a, s, &mut sample_rng(1, 0, 7), (0.1, 0.1));
        let mut b = x0.clone();
        pixelwise(&mut b, s, &mut sample_rng(1, 0, 7), (0.1, 0.1));
        assert_eq!(a, b);
        for c in 0..CHANNELS {
            let o = &x0[c * 9..c * 9 + 9];
            let n = &a[c * 9..c * 9 + 9];
            let slope = (n[8] - n[0]) / (o[8] - o[0]);
            let icpt = n[0] - slope * o[0];
            for k in 0..9 {
                assert!((n[k] - (slope * o[k] + icpt)).abs() < 1e-4);
            }
        }
        let mut c = x0.clone();
        pixelwise(&mut c, s, &mut sample_rng(1, 0, 8), (0.1, 0.1));
        assert_ne!(a, c);
    }

    #[test]
    fn zoom_side_stays_in_range() {
        let s = 16;
        for i in 0..200 {
            let mut rng = sample_rng(3, 1, i);
            let mut p = ramp(s);
            geometric(&mut p, s, &mut rng, 0.5);
            assert_eq!(p.len(), CHANNELS * s * s);
        }
    }
}
