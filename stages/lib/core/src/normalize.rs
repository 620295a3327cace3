//! Pixel normalisation (docs/method.md section 3), shared by training (before its
//! random augmentation) and prediction, so that both stages feed the network
//! exactly the same numbers: `--data-normalization` (per sample, or the
//! preprocess artifact's experiment, plate or global channel statistics),
//! the statistics of a well, and the scaling of a site's bytes.

use crate::error::{CoreError, Result};
use crate::index::{DatasetIndex, CHANNELS};
use crate::stats_table::StatsTable;

/// `--data-normalization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalization {
    /// Per image and channel: (x - mean) / (std + 1e-8), std with divisor N-1.
    Sample,
    /// Per-experiment channel statistics.
    Experiment,
    /// The average of the per-experiment statistics.
    Global,
    /// Per-plate channel statistics (the 2nd-place solution's choice).
    Plate,
}

impl std::str::FromStr for Normalization {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "sample" => Self::Sample,
            "experiment" => Self::Experiment,
            "global" => Self::Global,
            "plate" => Self::Plate,
            _ => {
                return Err(CoreError::Flag {
                    flag: "--data-normalization",
                    message: format!("{s:?}: expected sample, experiment, global or plate"),
                })
            }
        })
    }
}

/// Channel statistics on the [0, 1] scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelNorm {
    pub mean: [f32; CHANNELS],
    pub std: [f32; CHANNELS],
}

/// The normalisation statistics of a well's sites ([0, 1] scale); None for
/// per-sample normalisation.
pub fn norm_of(
    index: &DatasetIndex,
    stats: Option<&StatsTable>,
    how: Normalization,
    well: usize,
) -> Result<Option<ChannelNorm>> {
    let w = &index.wells[well];
    let exp = &index.experiments[w.experiment].name;
    let missing = || CoreError::NoPixelStats {
        experiment: exp.clone(),
    };
    let st = match how {
        Normalization::Sample => return Ok(None),
        Normalization::Experiment => stats
            .and_then(|s| s.experiments.get(exp).cloned())
            .ok_or_else(missing)?,
        Normalization::Plate => stats
            .and_then(|s| s.plates.get(&(exp.clone(), w.plate)).cloned())
            .ok_or_else(missing)?,
        Normalization::Global => stats.map(|s| s.global()).ok_or_else(missing)?,
    };
    let mut n = ChannelNorm {
        mean: [0.0; 6],
        std: [0.0; 6],
    };
    for c in 0..6 {
        n.mean[c] = (st.mean[c] / 255.0) as f32;
        n.std[c] = (st.std[c] / 255.0) as f32;
    }
    Ok(Some(n))
}

/// [0, 1] scaling and normalisation of a site's 6 x S x S uint8 pixels
/// (channel-major, row-major). `stats` is None for `Sample` (per-image
/// statistics) and the experiment/plate/global ones otherwise.
pub fn normalize(p: &[u8], s: usize, stats: Option<&ChannelNorm>) -> Vec<f32> {
    let n = s * s;
    let mut out = vec![0f32; p.len()];
    for (c, (src, dst)) in p.chunks_exact(n).zip(out.chunks_exact_mut(n)).enumerate() {
        let (mean, inv) = match stats {
            Some(st) => channel_affine(Some((st.mean[c], st.std[c])), 0, 0, n),
            None => {
                let sum: u64 = src.iter().map(|&v| v as u64).sum();
                let sq: u64 = src.iter().map(|&v| (v as u64) * (v as u64)).sum();
                channel_affine(None, sum, sq, n)
            }
        };
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = normalized(v, mean, inv);
        }
    }
    out
}

/// The (mean, 1 / std) that [`normalized`] applies to one channel of `n`
/// pixels: the given (mean, std) on the [0, 1] scale, or, when `stats` is
/// None, the channel's own from the exact integer sums of its 8-bit pixels
/// (`sum` of v, `sq` of v * v; std with divisor N-1, plus 1e-8). Shared by
/// [`normalize`] and the training data path, which computes the sums
/// through its augmentation's index maps, so both give the same bits.
pub fn channel_affine(stats: Option<(f32, f32)>, sum: u64, sq: u64, n: usize) -> (f32, f32) {
    let (mean, std) = match stats {
        Some((m, s)) => (m as f64, s as f64),
        None => {
            let m = sum as f64 / n as f64;
            let var = if n > 1 {
                (sq as f64 - n as f64 * m * m) / (n as f64 - 1.0)
            } else {
                0.0
            };
            (m / 255.0, var.max(0.0).sqrt() / 255.0 + 1e-8)
        }
    };
    (mean as f32, (1.0 / std) as f32)
}

/// One pixel scaled to [0, 1] and normalised with [`channel_affine`]'s pair.
#[inline]
pub fn normalized(v: u8, mean: f32, inv: f32) -> f32 {
    (v as f32 / 255.0 - mean) * inv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(s: usize) -> Vec<u8> {
        (0..CHANNELS * s * s).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn sample_normalisation_gives_zero_mean_unit_sample_std() {
        let s = 8;
        let p = ramp(s);
        let x = normalize(&p, s, None);
        for ch in x.chunks_exact(s * s) {
            let n = ch.len() as f64;
            let m: f64 = ch.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var: f64 = ch.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / (n - 1.0);
            assert!(
                m.abs() < 1e-5 && (var.sqrt() - 1.0).abs() < 1e-4,
                "{m} {var}"
            );
        }
        let st = ChannelNorm {
            mean: [0.5; 6],
            std: [0.25; 6],
        };
        let y = normalize(&[255u8; 6 * 4], 2, Some(&st));
        assert!(y.iter().all(|&v| (v - 2.0).abs() < 1e-6));
    }

    #[test]
    fn the_flag_names_its_values() {
        assert_eq!(
            "plate".parse::<Normalization>().unwrap(),
            Normalization::Plate
        );
        assert_eq!(
            "x".parse::<Normalization>().unwrap_err().to_string(),
            "--data-normalization \"x\": expected sample, experiment, global or plate"
        );
    }
}
