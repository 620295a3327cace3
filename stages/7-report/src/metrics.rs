//! Reading the train stage's per-epoch metrics (`NAME.metrics.parquet`,
//! data-schemas/metrics.md): one row per epoch and scope (`train`, `val`,
//! `val:<cell type>`), the seed and fold in the schema's metadata. The
//! columns are checked against rcic-core's schema, so a file of another kind
//! is refused with the expected schema in the message.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{ReportError, Result};

pub use rcic_core::metrics_table::MetricRow;

/// One training run's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub path: PathBuf,
    /// The schema metadata's `seed` and `cv_number`, when present.
    pub seed: Option<String>,
    pub cv_number: Option<String>,
    pub rows: Vec<MetricRow>,
}

const EXPECTED: &str = "epoch: uint32, scope: utf8, loss: float64, accuracy: float64, samples: uint64, lr: float64, pseudo_labels: uint32 (data-schemas/metrics.md)";

impl Metrics {
    pub fn read(path: &Path) -> Result<Self> {
        let file =
            File::open(path).map_err(|e| ReportError::io(path, "cannot open metrics file", e))?;
        let pq = |cause| ReportError::Parquet {
            path: path.to_path_buf(),
            cause,
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
        let schema = builder.schema().clone();
        for want in rcic_core::schema::metrics_schema().fields() {
            let got = schema.field_with_name(want.name()).map_err(|_| {
                ReportError::input(
                    path,
                    format!("no column {:?}; expected {EXPECTED}", want.name()),
                )
            })?;
            if got.data_type() != want.data_type() {
                return Err(ReportError::input(
                    path,
                    format!(
                        "column {:?} is {}, expected {}; expected {EXPECTED}",
                        want.name(),
                        got.data_type(),
                        want.data_type()
                    ),
                ));
            }
        }
        let meta = schema.metadata();
        let mut rows = Vec::new();
        for batch in builder.build().map_err(pq)? {
            let batch = batch.map_err(|cause| ReportError::Decode {
                path: path.to_path_buf(),
                cause,
            })?;
            read_batch(path, &batch, &mut rows)?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            seed: meta.get("seed").filter(|s| !s.is_empty()).cloned(),
            cv_number: meta.get("cv_number").filter(|s| !s.is_empty()).cloned(),
            rows,
        })
    }

    /// `(epoch, value)` of one scope's column, in epoch order, nulls and
    /// non-finite values left out.
    pub fn series(&self, scope: &str, value: fn(&MetricRow) -> Option<f64>) -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = self
            .rows
            .iter()
            .filter(|r| r.scope == scope)
            .filter_map(|r| {
                value(r)
                    .filter(|x| x.is_finite())
                    .map(|x| (r.epoch as f64, x))
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    }

    /// Epochs whose `train` row records a pseudo-labelling round, with the
    /// wells it added.
    pub fn pseudo_label_epochs(&self) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = self
            .rows
            .iter()
            .filter(|r| r.scope == "train")
            .filter_map(|r| r.pseudo_labels.map(|n| (r.epoch, n)))
            .collect();
        v.sort();
        v
    }

    /// The scopes present, `train` and `val` first, then the others sorted.
    pub fn scopes(&self) -> Vec<String> {
        let mut v: Vec<String> = self.rows.iter().map(|r| r.scope.clone()).collect();
        v.sort_by_key(|s| (s != "train", s != "val", s.clone()));
        v.dedup();
        v
    }
}

fn read_batch(path: &Path, b: &RecordBatch, rows: &mut Vec<MetricRow>) -> Result<()> {
    let col = |name: &str| b.column_by_name(name).expect("checked against the schema");
    let epoch = col("epoch").as_primitive::<UInt32Type>();
    let scope = col("scope").as_string::<i32>();
    let loss = col("loss").as_primitive::<Float64Type>();
    let acc = col("accuracy").as_primitive::<Float64Type>();
    let samples = col("samples").as_primitive::<UInt64Type>();
    let lr = col("lr").as_primitive::<Float64Type>();
    let pl = col("pseudo_labels").as_primitive::<UInt32Type>();
    let opt_f = |a: &arrow_array::Float64Array, i: usize| a.is_valid(i).then(|| a.value(i));
    for i in 0..b.num_rows() {
        if epoch.is_null(i) || scope.is_null(i) || samples.is_null(i) {
            return Err(ReportError::input(
                path,
                format!("row {}: null epoch, scope or samples", rows.len()),
            ));
        }
        rows.push(MetricRow {
            epoch: epoch.value(i),
            scope: scope.value(i).to_string(),
            loss: opt_f(loss, i),
            accuracy: opt_f(acc, i),
            samples: samples.value(i),
            lr: opt_f(lr, i),
            pseudo_labels: pl.is_valid(i).then(|| pl.value(i)),
        });
    }
    Ok(())
}

/// Writes a metrics file with the documented schema (tests only).
#[cfg(test)]
pub(crate) fn write_for_test(path: &Path, rows: &[MetricRow], seed: u64) {
    rcic_core::metrics_table::write(path, rows, seed, 0).unwrap();
}

#[cfg(test)]
pub(crate) fn rows_for_test(epochs: u32, pl_from: u32) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for e in 0..epochs {
        rows.push(MetricRow {
            epoch: e,
            scope: "train".into(),
            loss: Some(5.0 - e as f64 * 0.5),
            accuracy: Some(0.1 * e as f64),
            samples: 100,
            lr: Some(1e-3),
            pseudo_labels: (e >= pl_from).then_some(10 * e),
        });
        rows.push(MetricRow {
            epoch: e,
            scope: "val".into(),
            loss: None,
            accuracy: Some(0.05 * e as f64),
            samples: 20,
            lr: None,
            pseudo_labels: None,
        });
        rows.push(MetricRow {
            epoch: e,
            scope: "val:HEPG2".into(),
            loss: None,
            accuracy: Some(0.04 * e as f64),
            samples: 0,
            lr: None,
            pseudo_labels: None,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_documented_schema() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.metrics.parquet");
        let rows = rows_for_test(4, 2);
        write_for_test(&p, &rows, 7);
        let m = Metrics::read(&p).unwrap();
        assert_eq!(m.rows, rows);
        assert_eq!(
            (m.seed.as_deref(), m.cv_number.as_deref()),
            (Some("7"), Some("0"))
        );
        assert_eq!(
            m.series("val", |r| r.accuracy),
            vec![
                (0.0, 0.0),
                (1.0, 0.05),
                (2.0, 0.1),
                (3.0, 0.15000000000000002)
            ]
        );
        assert_eq!(m.series("val", |r| r.loss), vec![]);
        assert_eq!(m.pseudo_label_epochs(), vec![(2, 20), (3, 30)]);
        assert_eq!(m.scopes(), vec!["train", "val", "val:HEPG2"]);
    }

    #[test]
    fn other_files_are_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.parquet");
        std::fs::write(&p, b"PAR1 nope").unwrap();
        let e = Metrics::read(&p).unwrap_err().to_string();
        assert!(e.contains("x.parquet") && e.contains("Parquet"), "{e}");
        let e = Metrics::read(&d.path().join("missing.parquet"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.parquet"), "{e}");

        // A Parquet file with other columns.
        use arrow_array::{ArrayRef, UInt32Array};
        use std::sync::Arc;
        let batch = RecordBatch::try_from_iter([(
            "epoch",
            Arc::new(UInt32Array::from(vec![1u32])) as ArrayRef,
        )])
        .unwrap();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(File::create(&p).unwrap(), batch.schema(), None)
                .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let e = Metrics::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("x.parquet") && e.contains("no column \"scope\""),
            "{e}"
        );
    }
}
