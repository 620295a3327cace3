//! Per-sample augmentation and normalisation (docs/method.md sections 2-3), on a
//! site's 6 x S x S uint8 pixels (channel-major, row-major): random
//! horizontal flip, vertical flip and transpose (p = 0.5 each) and zoom
//! (square crop of side uniform in [round(scale*S), S], nearest resize back)
//! on the raw bytes; then scaling to [0, 1] and normalisation (the one
//! prediction uses too: [`rcic_core::normalize`]); then the pixel-wise
//! x*a + b with a ~ N(1, sa), b ~ N(0, sb) per channel.
//! Each sample's randomness comes from its own seeded generator, so results
//! do not depend on thread scheduling.
//!
//! The data path runs this for every training sample, at 512 px 1.5 M
//! pixels each, so it is done in one pass ([`transform_into`]): the flips,
//! the transpose, the crop and the nearest resize fold into one map of
//! output rows to source rows and one of output columns to source columns
//! ([`Maps`]); per-sample statistics are exact integer sums over the 8-bit
//! pixels through those maps; and since every output value is a function of
//! its channel and its 8-bit source value only, the scaling, the
//! normalisation and the pixel-wise affine become one 256-entry table per
//! channel, applied while gathering straight into the batch buffer. No
//! intermediate image is made. The step-by-step functions ([`flip_h`],
//! [`flip_v`], [`transpose`], [`zoom`], [`geometric`], [`pixelwise`]) are
//! the definition the one-pass path is tested against, bit for bit.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use rcic_core::normalize::{channel_affine, normalized, ChannelNorm};
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

/// The whole training transform of one site, as a new buffer (see
/// [`transform_into`]).
pub fn train_transform(
    pixels: &[u8],
    s: usize,
    rng: &mut impl Rng,
    opts: &AugmentOptions,
    stats: Option<&ChannelNorm>,
) -> Vec<f32> {
    let mut out = vec![0f32; pixels.len()];
    transform_into(pixels, s, &Draw::sample(s, rng, opts), stats, &mut out);
    out
}

/// One sample's random choices, drawn in the order the step-by-step
/// transform draws them ([`geometric`], then [`pixelwise`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    pub flip_h: bool,
    pub flip_v: bool,
    pub transpose: bool,
    /// The zoom's square in the flipped and transposed image: side, top
    /// row, left column (S, 0, 0 without zoom).
    pub side: usize,
    pub row: usize,
    pub col: usize,
    /// Per channel (a, b) of the pixel-wise x*a + b; None without it.
    pub affine: Option<[(f32, f32); CHANNELS]>,
}

impl Draw {
    /// No augmentation: normalisation only (evaluation).
    pub fn identity(s: usize) -> Self {
        Self {
            flip_h: false,
            flip_v: false,
            transpose: false,
            side: s,
            row: 0,
            col: 0,
            affine: None,
        }
    }

    /// Draws one sample's choices from its generator.
    pub fn sample(s: usize, rng: &mut impl Rng, opts: &AugmentOptions) -> Self {
        let mut d = Self::identity(s);
        d.flip_h = rng.random::<f64>() < 0.5;
        d.flip_v = rng.random::<f64>() < 0.5;
        d.transpose = rng.random::<f64>() < 0.5;
        if opts.scale_aug != 1.0 {
            let lo = ((s as f64 * opts.scale_aug).round() as usize).clamp(1, s);
            d.side = rng.random_range(lo..=s);
            d.row = rng.random_range(0..=s - d.side);
            d.col = rng.random_range(0..=s - d.side);
        }
        let (sa, sb) = opts.pw_aug;
        if sa != 0.0 || sb != 0.0 {
            let na = Normal::new(1.0, sa).expect("finite std");
            let nb = Normal::new(0.0, sb).expect("finite std");
            d.affine = Some(std::array::from_fn(|_| {
                (na.sample(rng) as f32, nb.sample(rng) as f32)
            }));
        }
        d
    }
}

/// A draw's geometry as index maps: output pixel (y, x) is source pixel
/// (`rows[y]`, `cols[x]`), or (`rows[x]`, `cols[y]`) when `transpose`.
/// Indices are below S < 65536 (a site of that size would be 25 GB).
#[derive(Debug, Clone, PartialEq)]
pub struct Maps {
    pub rows: Vec<u32>,
    pub cols: Vec<u32>,
    pub transpose: bool,
}

impl Maps {
    /// Folds flips, transpose, crop and nearest resize (source index
    /// floor(i * side / S) of the crop, as OpenCV's INTER_NEAREST) together.
    pub fn of(d: &Draw, s: usize) -> Self {
        let near = |i: usize| (i * d.side / s).min(d.side - 1);
        let v = |a: usize| (if d.flip_v { s - 1 - a } else { a }) as u32;
        let h = |b: usize| (if d.flip_h { s - 1 - b } else { b }) as u32;
        // Without transpose the crop's rows are the flipped image's rows; with
        // it, the crop's columns are (the transposed image's columns are the
        // flipped image's rows).
        let (rows, cols) = if d.transpose {
            (
                (0..s).map(|i| v(d.col + near(i))).collect(),
                (0..s).map(|i| h(d.row + near(i))).collect(),
            )
        } else {
            (
                (0..s).map(|i| v(d.row + near(i))).collect(),
                (0..s).map(|i| h(d.col + near(i))).collect(),
            )
        };
        Self {
            rows,
            cols,
            transpose: d.transpose,
        }
    }
}

/// How many output rows (columns) read each source row (column); the
/// multiset of output pixels is {source (i, j) taken rows[i] * cols[j] times}.
struct Weights {
    rows: Vec<u32>,
    cols: Vec<u32>,
    /// The source columns read, first..=last (a contiguous range).
    first: usize,
    last: usize,
}

impl Weights {
    fn of(m: &Maps, s: usize) -> Self {
        let mut rows = vec![0u32; s];
        let mut cols = vec![0u32; s];
        m.rows.iter().for_each(|&r| rows[r as usize] += 1);
        m.cols.iter().for_each(|&c| cols[c as usize] += 1);
        let first = m.cols.iter().min().map_or(0, |&c| c as usize);
        let last = m.cols.iter().max().map_or(0, |&c| c as usize);
        Self {
            rows,
            cols,
            first,
            last,
        }
    }

    /// Exact sums of v and v * v over the output pixels of one channel.
    /// Per row the column weights add up to S, so the row's sums stay
    /// below 65025 * S and fit u32.
    fn sums(&self, ch: &[u8], s: usize) -> (u64, u64) {
        let (mut sum, mut sq) = (0u64, 0u64);
        let w = &self.cols[self.first..=self.last];
        for (i, &rw) in self.rows.iter().enumerate().filter(|(_, &rw)| rw > 0) {
            let px = &ch[i * s + self.first..=i * s + self.last];
            let (mut a, mut b) = (0u32, 0u32);
            for (&v, &cw) in px.iter().zip(w) {
                let v = v as u32;
                a += cw * v;
                b += cw * v * v;
            }
            sum += rw as u64 * a as u64;
            sq += rw as u64 * b as u64;
        }
        (sum, sq)
    }
}

/// The output value of each 8-bit value of one channel: [0, 1] scaling,
/// normalisation, then the pixel-wise affine, with the same f32 operations
/// in the same order as the step-by-step path.
fn channel_table(mean: f32, inv: f32, affine: Option<(f32, f32)>) -> [f32; 256] {
    std::array::from_fn(|v| {
        let x = normalized(v as u8, mean, inv);
        match affine {
            Some((a, b)) => x * a + b,
            None => x,
        }
    })
}

/// Writes one channel through the maps and its table. The maps' indices
/// are below S ([`Maps::of`] of a checked [`Draw`]).
fn write_channel(ch: &[u8], s: usize, m: &Maps, table: &[f32; 256], out: &mut [f32]) {
    assert!(ch.len() == s * s && out.len() == s * s && m.rows.len() == s && m.cols.len() == s);
    assert!(m.rows.iter().chain(&m.cols).all(|&i| (i as usize) < s));
    let identity_cols = !m.transpose && m.cols.iter().enumerate().all(|(i, &c)| c as usize == i);
    let offsets: Vec<usize> = m.rows.iter().map(|&r| r as usize * s).collect();
    // Output row y repeats row y-1 when it reads the same source line.
    let line = |y: usize| if m.transpose { m.cols[y] } else { m.rows[y] };
    for y in 0..s {
        if y > 0 && line(y) == line(y - 1) {
            out.copy_within((y - 1) * s..y * s, y * s);
            continue;
        }
        let dst = &mut out[y * s..(y + 1) * s];
        if m.transpose {
            let c = m.cols[y] as usize;
            for (d, &o) in dst.iter_mut().zip(&offsets) {
                // SAFETY: o = row * S and c are below S (checked above), so
                // o + c < S * S = ch.len().
                *d = table[unsafe { *ch.get_unchecked(o + c) } as usize];
            }
        } else {
            let src = &ch[offsets[y]..offsets[y] + s];
            if identity_cols {
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = table[v as usize];
                }
            } else {
                for (d, &c) in dst.iter_mut().zip(&m.cols) {
                    // SAFETY: c < S = src.len() (checked above).
                    *d = table[unsafe { *src.get_unchecked(c as usize) } as usize];
                }
            }
        }
    }
}

/// The training (or, with [`Draw::identity`], evaluation) transform of one
/// site in one pass, written into `out` (6 x S x S floats): the same bits
/// as [`geometric`], [`rcic_core::normalize::normalize`] and [`pixelwise`]
/// one after the other. `stats` is None for per-sample normalisation.
pub fn transform_into(
    pixels: &[u8],
    s: usize,
    draw: &Draw,
    stats: Option<&ChannelNorm>,
    out: &mut [f32],
) {
    let n = s * s;
    assert!(
        pixels.len() == CHANNELS * n && out.len() == CHANNELS * n,
        "a site of size {s} has {} values",
        CHANNELS * n
    );
    let maps = Maps::of(draw, s);
    let mut weights = None;
    for (c, (ch, dst)) in pixels
        .chunks_exact(n)
        .zip(out.chunks_exact_mut(n))
        .enumerate()
    {
        let (mean, inv) = match stats {
            Some(st) => channel_affine(Some((st.mean[c], st.std[c])), 0, 0, n),
            None => {
                let w = weights.get_or_insert_with(|| Weights::of(&maps, s));
                let (sum, sq) = w.sums(ch, s);
                channel_affine(None, sum, sq, n)
            }
        };
        let table = channel_table(mean, inv, draw.affine.map(|ab| ab[c]));
        write_channel(ch, s, &maps, &table, dst);
    }
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

    /// The definition: geometric on the bytes, normalisation, pixel-wise.
    fn step_by_step(
        p: &[u8],
        s: usize,
        rng: &mut impl Rng,
        o: &AugmentOptions,
        stats: Option<&ChannelNorm>,
    ) -> Vec<f32> {
        let mut q = p.to_vec();
        geometric(&mut q, s, rng, o.scale_aug);
        let mut x = rcic_core::normalize::normalize(&q, s, stats);
        pixelwise(&mut x, s, rng, o.pw_aug);
        x
    }

    #[test]
    fn one_pass_equals_step_by_step_bit_for_bit() {
        let stats = ChannelNorm {
            mean: [0.1, 0.2, 0.3, 0.05, 0.5, 0.01],
            std: [0.05, 0.1, 0.2, 0.01, 0.3, 0.02],
        };
        let opts = [
            AugmentOptions::default(),
            AugmentOptions {
                scale_aug: 1.0,
                pw_aug: (0.0, 0.0),
            },
            AugmentOptions {
                scale_aug: 0.2,
                pw_aug: (0.3, 0.0),
            },
        ];
        for s in 1..=13 {
            let p: Vec<u8> = (0..CHANNELS * s * s)
                .map(|i| ((i * 7919 + s * 31) % 256) as u8)
                .collect();
            for (oi, o) in opts.iter().enumerate() {
                for k in 0..24 {
                    for st in [None, Some(&stats)] {
                        let want = step_by_step(&p, s, &mut sample_rng(5, 1, k), o, st);
                        let got = train_transform(&p, s, &mut sample_rng(5, 1, k), o, st);
                        let same = want
                            .iter()
                            .zip(&got)
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(same, "size {s}, options {oi}, sample {k}");
                    }
                }
            }
            let mut id = vec![0f32; p.len()];
            transform_into(&p, s, &Draw::identity(s), None, &mut id);
            assert_eq!(id, rcic_core::normalize::normalize(&p, s, None));
        }
    }

    #[test]
    fn maps_fold_the_geometry() {
        let s = 4;
        let p = ramp(s);
        let mut d = Draw::identity(s);
        (d.flip_h, d.transpose, d.side, d.row, d.col) = (true, true, 2, 1, 2);
        let m = Maps::of(&d, s);
        let mut q = p.clone();
        flip_h(&mut q, s);
        transpose(&mut q, s);
        let q = zoom(&q, s, 2, 1, 2);
        for y in 0..s {
            for x in 0..s {
                let (i, j) = (m.rows[x] as usize, m.cols[y] as usize);
                assert_eq!(q[y * s + x], p[i * s + j]);
            }
        }
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
