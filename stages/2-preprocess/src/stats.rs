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

/// Sum and sum of squares of one channel's pixels, exact. Blocks of
/// [`SUM_BLOCK`] pixels are summed in 32-bit lanes (a loop the compiler
/// vectorises; a 256-bin histogram stalls on runs of one value, as the dark
/// background of a microscopy image is), then widened to 64 bits.
pub fn channel_sums(px: &[u8]) -> (u64, u64) {
    px.chunks(SUM_BLOCK).fold((0, 0), |(s, q), block| {
        let (bs, bq) = block.iter().fold((0u32, 0u32), |(s, q), &v| {
            let v = v as u32;
            (s + v, q + v * v)
        });
        (s + bs as u64, q + bq as u64)
    })
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
