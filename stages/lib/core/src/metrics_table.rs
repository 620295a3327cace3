//! The per-epoch metrics table (`NAME.metrics.parquet`, schema
//! data-schemas/metrics.md): its row and its writer, here so that the train
//! stage that writes it and the report that reads it (and its tests) share
//! one definition. Written through a temporary file and a rename
//! ([`rcic_cli::publish::AtomicFile`]), so that a reader never sees half a
//! table while training runs.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array};
use parquet::arrow::ArrowWriter;
use rcic_cli::publish::AtomicFile;

use crate::error::{CoreError, Result};

/// One epoch's figures for one scope (`train`, `val`, `val:<cell type>`).
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

/// Writes all rows to `path`, with the run's seed and fold in the schema
/// metadata (via a temporary sibling and a rename).
pub fn write(path: &Path, rows: &[MetricRow], seed: u64, cv_number: i32) -> Result<()> {
    let mut schema = crate::schema::metrics_schema();
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
    let batch = RecordBatch::try_new(Arc::new(schema), cols)?;
    let mut f = AtomicFile::create(path)?;
    let parquet = |cause| CoreError::Parquet {
        path: path.to_path_buf(),
        cause,
    };
    let mut w = ArrowWriter::try_new(f.file(), batch.schema(), None).map_err(parquet)?;
    w.write(&batch).map_err(parquet)?;
    w.close().map_err(parquet)?;
    Ok(f.commit()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[test]
    fn writes_the_documented_schema_with_seed_and_fold() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.metrics.parquet");
        let rows = vec![
            MetricRow {
                epoch: 0,
                scope: "train".into(),
                loss: Some(1.5),
                accuracy: Some(0.25),
                samples: 96,
                lr: Some(1e-3),
                pseudo_labels: None,
            },
            MetricRow {
                epoch: 0,
                scope: "val:HEPG2".into(),
                loss: None,
                accuracy: Some(0.5),
                samples: 0,
                lr: None,
                pseudo_labels: Some(4),
            },
        ];
        write(&p, &rows, 7, -1).unwrap();
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["m.metrics.parquet"], "no temporary left");
        let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&p).unwrap()).unwrap();
        let schema = b.schema().clone();
        let r = b.build().unwrap();
        assert_eq!(schema.metadata()["seed"], "7");
        assert_eq!(schema.metadata()["cv_number"], "-1");
        let want = crate::schema::metrics_schema();
        assert_eq!(schema.fields(), want.fields());
        let n: usize = r.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(n, 2);
    }

    #[test]
    fn an_unwritable_folder_is_named() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, b"").unwrap();
        let e = write(&f.join("m.metrics.parquet"), &[], 0, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&f.display().to_string()), "{e}");
    }
}
