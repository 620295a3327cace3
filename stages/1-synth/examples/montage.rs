//! Views generated sites: `cargo run -p rcic-synth --example montage -- OUT.png PREFIX...`
//! where PREFIX is a site path without the channel suffix, e.g.
//! `data/train/HEPG2-01/Plate1/B02_s1`. Writes one row per site: the six
//! channels side by side (contrast-stretched), then an RGB composite in
//! RxRx1's usual colours.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, prefixes) = args
        .split_first()
        .expect("usage: montage OUT.png PREFIX...");
    let colors: [[f32; 3]; 6] = [
        [0.0, 0.0, 1.0],
        [0.0, 1.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 1.0],
        [1.0, 0.0, 1.0],
        [1.0, 1.0, 0.0],
    ];
    let mut rows = Vec::new();
    let mut size = 0;
    for p in prefixes {
        let chans: Vec<image::GrayImage> = (1..=6)
            .map(|c| {
                image::open(format!("{p}_w{c}.png"))
                    .expect("readable PNG")
                    .to_luma8()
            })
            .collect();
        size = chans[0].width();
        rows.push(chans);
    }
    let mut img = image::RgbImage::new(size * 7, size * rows.len() as u32);
    for (r, chans) in rows.iter().enumerate() {
        let y0 = r as u32 * size;
        for (c, ch) in chans.iter().enumerate() {
            let mut v: Vec<u8> = ch.as_raw().clone();
            v.sort_unstable();
            let hi = v[v.len() * 995 / 1000].max(1) as f32;
            for (x, y, px) in ch.enumerate_pixels() {
                let s = (px[0] as f32 / hi).min(1.0);
                let g = (s * 255.0) as u8;
                img.put_pixel(c as u32 * size + x, y0 + y, image::Rgb([g, g, g]));
                let o = img.get_pixel_mut(6 * size + x, y0 + y);
                for k in 0..3 {
                    o[k] = (o[k] as f32 + colors[c][k] * s * 200.0).min(255.0) as u8;
                }
            }
        }
    }
    img.save(out).expect("writable output");
}
