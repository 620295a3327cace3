//! RxRx1's optional pixel_stats.csv (per site and channel: mean, std, median,
//! min, max on the 0-255 scale), read and pooled per experiment: the
//! statistics behind `--data-normalization experiment|global`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::csvread::CsvTable;
use crate::error::{Collector, Result};
use crate::index::CHANNELS;

/// Pooled per-experiment channel statistics (0-255 scale).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChannelStats {
    pub mean: [f64; CHANNELS],
    pub std: [f64; CHANNELS],
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct PixelStats {
    /// experiment -> pooled statistics over all its sites.
    pub experiments: BTreeMap<String, ChannelStats>,
    /// Rows read.
    pub rows: usize,
}

const COLUMNS: &[&str] = &[
    "id_code",
    "experiment",
    "plate",
    "well",
    "site",
    "channel",
    "mean",
    "std",
    "median",
    "min",
    "max",
];

impl PixelStats {
    /// Reads `path` if it exists.
    pub fn load_optional(path: &Path, max_problems: usize) -> Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        let mut problems = Collector::new(max_problems);
        let table = CsvTable::read(path, &mut problems)?;
        let cols = table.columns(path, COLUMNS)?;
        // experiment -> channel -> (n, sum of means, sum of (std^2 + mean^2))
        let mut acc: BTreeMap<String, [(f64, f64, f64); CHANNELS]> = BTreeMap::new();
        for (line, rec) in &table.rows {
            let f = |i: usize| rec.get(cols[i]).unwrap_or("").trim();
            let channel = f(5)
                .parse::<usize>()
                .ok()
                .filter(|c| (1..=CHANNELS).contains(c));
            let mean = f(6)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && (0.0..=255.0).contains(v));
            let std = f(7)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0);
            match (channel, mean, std) {
                (Some(c), Some(m), Some(s)) => {
                    let a = &mut acc.entry(f(1).to_string()).or_insert([(0.0, 0.0, 0.0); CHANNELS])[c - 1];
                    a.0 += 1.0;
                    a.1 += m;
                    a.2 += s * s + m * m;
                }
                _ => problems.push(
                    path,
                    Some(*line),
                    format!(
                        "expected channel 1..{CHANNELS}, mean in 0..255 and std >= 0; got channel {:?}, mean {:?}, std {:?}",
                        f(5),
                        f(6),
                        f(7)
                    ),
                ),
            }
        }
        problems.finish()?;
        let experiments = acc
            .into_iter()
            .map(|(e, a)| {
                let mut s = ChannelStats {
                    mean: [0.0; CHANNELS],
                    std: [0.0; CHANNELS],
                };
                for c in 0..CHANNELS {
                    let (n, sm, sq) = a[c];
                    if n > 0.0 {
                        let m = sm / n;
                        s.mean[c] = m;
                        s.std[c] = (sq / n - m * m).max(0.0).sqrt();
                    }
                }
                (e, s)
            })
            .collect();
        Ok(Some(Self {
            experiments,
            rows: table.rows.len(),
        }))
    }
}
