//! Reads `pixel_stats.parquet` (the preprocess artifact's per-experiment and
//! per-plate channel statistics) back into a lookup table: the statistics
//! behind `--data-normalization experiment|global|plate`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::{Array, Float64Array, StringArray, UInt8Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{CoreError, Result};
use crate::index::CHANNELS;
use crate::pixelstats::ChannelStats;

/// Channel statistics (0-255 scale) per experiment and per (experiment, plate).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsTable {
    pub experiments: BTreeMap<String, ChannelStats>,
    pub plates: BTreeMap<(String, u8), ChannelStats>,
}

impl StatsTable {
    pub fn read(path: &Path) -> Result<Self> {
        let pq = |e| CoreError::Parquet {
            path: path.to_path_buf(),
            cause: e,
        };
        let fmt = |m: &str| CoreError::Format {
            path: path.to_path_buf(),
            message: m.to_string(),
        };
        let file = File::open(path).map_err(|e| CoreError::io(path, "cannot open", e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(pq)?
            .build()
            .map_err(pq)?;
        let mut t = Self::default();
        let blank = || ChannelStats {
            mean: [0.0; CHANNELS],
            std: [0.0; CHANNELS],
        };
        for batch in reader {
            let batch = batch?;
            let col = |n: &str| {
                batch
                    .column_by_name(n)
                    .ok_or_else(|| fmt(&format!("no column {n}; expected the pixel_stats schema")))
            };
            let level = col("level")?
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| fmt("level: expected utf8"))?;
            let exp = col("experiment")?
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| fmt("experiment: expected utf8"))?;
            let plate = col("plate")?
                .as_any()
                .downcast_ref::<UInt8Array>()
                .ok_or_else(|| fmt("plate: expected uint8"))?;
            let channel = col("channel")?
                .as_any()
                .downcast_ref::<UInt8Array>()
                .ok_or_else(|| fmt("channel: expected uint8"))?;
            let mean = col("mean")?
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| fmt("mean: expected float64"))?;
            let std = col("std")?
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| fmt("std: expected float64"))?;
            for i in 0..batch.num_rows() {
                let c = channel.value(i) as usize;
                if !(1..=CHANNELS).contains(&c) {
                    return Err(fmt(&format!("row {i}: channel {c} outside 1..{CHANNELS}")));
                }
                let entry = match level.value(i) {
                    "experiment" => t
                        .experiments
                        .entry(exp.value(i).to_string())
                        .or_insert_with(blank),
                    "plate" if !plate.is_null(i) => t
                        .plates
                        .entry((exp.value(i).to_string(), plate.value(i)))
                        .or_insert_with(blank),
                    other => {
                        return Err(fmt(&format!(
                            "row {i}: level {other:?}; expected experiment or plate (with a plate)"
                        )))
                    }
                };
                entry.mean[c - 1] = mean.value(i);
                entry.std[c - 1] = std.value(i);
            }
        }
        Ok(t)
    }

    /// The average of the per-experiment statistics (`global`).
    pub fn global(&self) -> ChannelStats {
        let n = self.experiments.len().max(1) as f64;
        let mut g = ChannelStats {
            mean: [0.0; CHANNELS],
            std: [0.0; CHANNELS],
        };
        for s in self.experiments.values() {
            for c in 0..CHANNELS {
                g.mean[c] += s.mean[c] / n;
                g.std[c] += s.std[c] / n;
            }
        }
        g
    }
}
