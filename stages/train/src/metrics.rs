//! The per-epoch metrics table (`NAME.metrics.parquet`, schema
//! data-schemas/metrics.md), rewritten atomically after every epoch so it
//! can be plotted while training runs.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array};
use parquet::arrow::ArrowWriter;

#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub epoch: u32,
    pub scope: String,
    pub loss: Option<f64>,
    pub accuracy: Option<f64>,
    pub samples: u64,
    pub lr: Option<f64>,
    pub pseudo_labels: Option<u32>,
}

/// Writes all rows to `path` (via a temporary file and a rename).
pub fn write(path: &Path, rows: &[MetricRow], seed: u64, cv_number: i32) -> Result<(), String> {
    let mut schema = rcic_core::schema::metrics_schema();
    schema.metadata.insert("seed".to_string(), seed.to_string());
    schema
        .metadata
        .insert("cv_number".to_string(), cv_number.to_string());
    let cols: Vec<ArrayRef> = vec![
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.epoch))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.scope.as_str()),
        )),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.loss))),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.accuracy))),
        Arc::new(UInt64Array::from_iter_values(
            rows.iter().map(|r| r.samples),
        )),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.lr))),
        Arc::new(UInt32Array::from_iter(rows.iter().map(|r| r.pseudo_labels))),
    ];
    let batch = RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("parquet.tmp");
    let f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut w = ArrowWriter::try_new(f, batch.schema(), None).map_err(|e| e.to_string())?;
    w.write(&batch).map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}
