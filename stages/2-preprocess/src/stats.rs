//! Pixel statistics on the 0-255 scale: per site and channel (stored with
//! the tensors), and exact integer sums per plate, pooled into the
//! per-experiment and per-plate table `pixel_stats.parquet`. Standard
//! deviations use the divisor N-1. Sums are integers, so shard runs pooled
//! by a merge give exactly the numbers of a single run.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array, UInt8Array};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rcic_core::CHANNELS;
use serde::{Deserialize, Serialize};

use crate::error::{PreprocessError, Result};

/// Pixels summed in 32 bits before widening: 2^16 squares of at most 255^2
/// stay below 2^32, so a block's sums are exact.
const SUM_BLOCK: usize = 1 << 16;

/// Sum and sum of squares of one channel's pixels, exact: with SSE2 on
/// x86_64 (where every target has it), else in 32-bit lanes that the
/// compiler vectorises. A 256-bin histogram stalls on runs of one value, as
/// the dark background of a microscopy image is.
pub fn channel_sums(px: &[u8]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    let (done, s, q) = sums_sse2(px);
    #[cfg(not(target_arch = "x86_64"))]
    let (done, s, q) = (0, 0, 0);
    let (rs, rq) = channel_sums_scalar(&px[done..]);
    (s + rs, q + rq)
}

/// The portable sums: blocks of [`SUM_BLOCK`] pixels in 32-bit lanes, then
/// widened to 64 bits.
fn channel_sums_scalar(px: &[u8]) -> (u64, u64) {
    px.chunks(SUM_BLOCK).fold((0, 0), |(s, q), block| {
        let (bs, bq) = block.iter().fold((0u32, 0u32), |(s, q), &v| {
            let v = v as u32;
            (s + v, q + v * v)
        });
        (s + bs as u64, q + bq as u64)
    })
}

/// Sums 16 pixels at a time: `psadbw` against zero adds them into two
/// 64-bit lanes; `pmaddwd` of the 16-bit pixels with themselves adds pairs
/// of squares into four 32-bit lanes, widened to 64 bits every
/// [`SUM_BLOCK`] pixels (a lane then holds 2^14 squares, below 2^31). Returns
/// how many pixels it did (a multiple of 16) and their sums.
#[cfg(target_arch = "x86_64")]
fn sums_sse2(px: &[u8]) -> (usize, u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_add_epi64, _mm_loadu_si128, _mm_madd_epi16, _mm_sad_epu8,
        _mm_setzero_si128, _mm_storeu_si128, _mm_unpackhi_epi32, _mm_unpackhi_epi8,
        _mm_unpacklo_epi32, _mm_unpacklo_epi8,
    };
    let n = px.len() / 16 * 16;
    let lanes = |v: __m128i| {
        let mut out = [0u64; 2];
        // SAFETY: a 16-byte store into a 16-byte array.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast::<__m128i>(), v) };
        out[0] + out[1]
    };
    // SAFETY: SSE2 is part of every x86_64 target; every load is of 16 bytes
    // at `i` with `i + 16 <= n <= px.len()`.
    unsafe {
        let zero = _mm_setzero_si128();
        let (mut sum, mut sumsq) = (zero, zero);
        for start in (0..n).step_by(SUM_BLOCK) {
            let mut block = zero;
            for i in (start..n.min(start + SUM_BLOCK)).step_by(16) {
                let x = _mm_loadu_si128(px.as_ptr().add(i).cast::<__m128i>());
                sum = _mm_add_epi64(sum, _mm_sad_epu8(x, zero));
                let (lo, hi) = (_mm_unpacklo_epi8(x, zero), _mm_unpackhi_epi8(x, zero));
                block = _mm_add_epi32(block, _mm_madd_epi16(lo, lo));
                block = _mm_add_epi32(block, _mm_madd_epi16(hi, hi));
            }
            // The four 32-bit lanes are non-negative: widen them to 64 bits.
            sumsq = _mm_add_epi64(sumsq, _mm_unpacklo_epi32(block, zero));
            sumsq = _mm_add_epi64(sumsq, _mm_unpackhi_epi32(block, zero));
        }
        (n, lanes(sum), lanes(sumsq))
    }
}

/// Mean and std (divisor n-1; 0 when n < 2) from exact sums.
pub fn mean_std(n: u64, sum: u64, sumsq: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = sum as f64 / n as f64;
    if n < 2 {
        return (mean, 0.0);
    }
    // n*sumsq - sum^2 exactly in 128 bits, then one division.
    let num = n as u128 * sumsq as u128 - sum as u128 * sum as u128;
    let var = num as f64 / (n as f64 * (n - 1) as f64);
    (mean, var.sqrt())
}

/// Exact sums of a plate (or an experiment), per channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sums {
    pub sites: u64,
    /// Pixels per channel.
    pub pixels: u64,
    pub sum: [u64; CHANNELS],
    pub sumsq: [u64; CHANNELS],
}

impl Sums {
    pub fn add(&mut self, other: &Sums) {
        self.sites += other.sites;
        self.pixels += other.pixels;
        for c in 0..CHANNELS {
            self.sum[c] += other.sum[c];
            self.sumsq[c] += other.sumsq[c];
        }
    }

    /// Adds one site's channel sums.
    pub fn add_site(&mut self, pixels_per_channel: u64, sums: &[(u64, u64); CHANNELS]) {
        self.sites += 1;
        self.pixels += pixels_per_channel;
        for (c, (s, q)) in sums.iter().enumerate() {
            self.sum[c] += s;
            self.sumsq[c] += q;
        }
    }
}

/// A plate's sums, as shard runs record them in `plate_sums.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlateSums {
    pub experiment: String,
    pub plate: u8,
    pub sums: Sums,
}

/// Writes `pixel_stats.parquet`: per experiment (sorted), its 6 experiment
/// rows, then 6 rows for each of its plates (sorted).
pub fn write_pixel_stats(plates: &[PlateSums], dataset_key: &str, path: &Path) -> Result<()> {
    let mut by_exp: BTreeMap<&str, BTreeMap<u8, &Sums>> = BTreeMap::new();
    for p in plates {
        by_exp
            .entry(&p.experiment)
            .or_default()
            .insert(p.plate, &p.sums);
    }
    let (mut level, mut exp, mut plate, mut channel, mut mean, mut std, mut sites) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut push = |l: &str, e: &str, p: Option<u8>, s: &Sums| {
        for c in 0..CHANNELS {
            let (m, sd) = mean_std(s.pixels, s.sum[c], s.sumsq[c]);
            level.push(l.to_string());
            exp.push(e.to_string());
            plate.push(p);
            channel.push(c as u8 + 1);
            mean.push(m);
            std.push(sd);
            sites.push(s.sites);
        }
    };
    for (e, ps) in &by_exp {
        let mut total = Sums::default();
        ps.values().for_each(|s| total.add(s));
        push("experiment", e, None, &total);
        for (p, s) in ps {
            push("plate", e, Some(*p), s);
        }
    }
    let mut schema = rcic_core::schema::pixel_stats_schema();
    schema
        .metadata
        .insert("dataset_key".to_string(), dataset_key.to_string());
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(level)),
        Arc::new(StringArray::from(exp)),
        Arc::new(UInt8Array::from(plate)),
        Arc::new(UInt8Array::from(channel)),
        Arc::new(Float64Array::from(mean)),
        Arc::new(Float64Array::from(std)),
        Arc::new(UInt64Array::from(sites)),
    ];
    let batch = RecordBatch::try_new(Arc::new(schema), cols)?;
    let file =
        std::fs::File::create(path).map_err(|e| PreprocessError::io(path, "cannot create", e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("level")))
        .build();
    let pq = |e| PreprocessError::Parquet {
        path: path.to_path_buf(),
        cause: e,
    };
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(pq)?;
    w.write(&batch).map_err(pq)?;
    w.close().map_err(pq)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_sample_std() {
        let px = [1u8, 2, 3, 4];
        let (s, q) = channel_sums(&px);
        assert_eq!((s, q), (10, 30));
        let (m, sd) = mean_std(4, s, q);
        assert_eq!(m, 2.5);
        assert!((sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_std(1, 7, 49), (7.0, 0.0));
    }

    /// The blocked sums equal a 256-bin histogram's, including on blocks
    /// of all 255s (the 32-bit worst case) and across block boundaries.
    #[test]
    fn channel_sums_match_a_histogram() {
        let hist = |px: &[u8]| {
            let mut h = [0u64; 256];
            px.iter().for_each(|&v| h[v as usize] += 1);
            h.iter().enumerate().fold((0u64, 0u64), |(s, q), (v, &n)| {
                (s + v as u64 * n, q + (v * v) as u64 * n)
            })
        };
        let mut x = 0x2545_f491_u32;
        let noise: Vec<u8> = (0..3 * SUM_BLOCK + 17)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        let white = vec![255u8; 2 * SUM_BLOCK + 1];
        for px in [&noise[..], &white[..], &[][..], &noise[..SUM_BLOCK]] {
            assert_eq!(channel_sums(px), hist(px));
        }
        let n = white.len() as u64;
        assert_eq!(channel_sums(&white), (255 * n, 255 * 255 * n));
    }
}
