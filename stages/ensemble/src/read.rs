//! Reading one prediction file (data-schemas/predictions.md): `split`,
//! `id_code`, `site`, `logits: fixed_size_list<float32, classes>`, one row per
//! site. The file is checked column by column here (types, split names,
//! finite logits); how its rows relate to the dataset is checked in
//! [`crate::table`].

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, UInt8Type};
use arrow_array::Array;
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{EnsembleError, Result};

/// The `split` column: validation wells of the model's fold, or test wells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PredSplit {
    Val,
    Test,
}

impl PredSplit {
    pub fn as_str(self) -> &'static str {
        match self {
            PredSplit::Val => "val",
            PredSplit::Test => "test",
        }
    }
}

/// One prediction file in memory: row-major logits (`rows x classes`).
#[derive(Debug, Clone)]
pub struct PredFile {
    pub path: PathBuf,
    pub classes: usize,
    pub split: Vec<PredSplit>,
    pub id_code: Vec<String>,
    pub site: Vec<u8>,
    pub logits: Vec<f32>,
}

impl PredFile {
    pub fn rows(&self) -> usize {
        self.split.len()
    }

    pub fn row_logits(&self, row: usize) -> &[f32] {
        &self.logits[row * self.classes..(row + 1) * self.classes]
    }

    /// Reads and checks the columns. Non-finite logits, unknown splits and
    /// wrong types are errors naming the row (0-based, in file order).
    pub fn read(path: &Path) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| EnsembleError::io(path, "cannot open prediction file", e))?;
        let pq = |source| EnsembleError::Parquet {
            path: path.to_path_buf(),
            source,
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
        let schema = builder.schema().clone();
        let bad = |m: String| EnsembleError::input(path, m);
        let col = |name: &str| {
            schema.index_of(name).map_err(|_| {
                bad(format!(
                    "no column {name:?}; expected split: utf8, id_code: utf8, site: uint8, logits: fixed_size_list<float32, classes> (data-schemas/predictions.md)"
                ))
            })
        };
        let (ci_split, ci_id, ci_site, ci_logits) =
            (col("split")?, col("id_code")?, col("site")?, col("logits")?);
        let classes = match schema.field(ci_logits).data_type() {
            DataType::FixedSizeList(f, n) if f.data_type() == &DataType::Float32 && *n > 0 => {
                *n as usize
            }
            other => {
                return Err(bad(format!(
                    "column logits is {other:?}; expected fixed_size_list<float32, classes>"
                )))
            }
        };
        for (ci, name, want) in [
            (ci_split, "split", DataType::Utf8),
            (ci_id, "id_code", DataType::Utf8),
            (ci_site, "site", DataType::UInt8),
        ] {
            let t = schema.field(ci).data_type();
            if t != &want {
                return Err(bad(format!("column {name} is {t:?}; expected {want:?}")));
            }
        }
        let n = builder.metadata().file_metadata().num_rows().max(0) as usize;
        let reader = builder.with_batch_size(4096).build().map_err(pq)?;
        let mut out = PredFile {
            path: path.to_path_buf(),
            classes,
            split: Vec::with_capacity(n),
            id_code: Vec::with_capacity(n),
            site: Vec::with_capacity(n),
            logits: Vec::with_capacity(n * classes),
        };
        for batch in reader {
            let batch = batch.map_err(|e| bad(format!("cannot decode: {e}")))?;
            let base = out.split.len();
            let splits = batch.column(ci_split).as_string::<i32>();
            let ids = batch.column(ci_id).as_string::<i32>();
            let sites = batch.column(ci_site).as_primitive::<UInt8Type>();
            let logits = batch.column(ci_logits).as_fixed_size_list();
            for (name, arr) in [
                ("split", batch.column(ci_split)),
                ("id_code", batch.column(ci_id)),
                ("site", batch.column(ci_site)),
                ("logits", batch.column(ci_logits)),
            ] {
                if arr.null_count() > 0 {
                    let r = (0..arr.len()).find(|&i| arr.is_null(i)).unwrap_or(0);
                    return Err(bad(format!(
                        "row {}: column {name} is null; expected a value",
                        base + r
                    )));
                }
            }
            for r in 0..batch.num_rows() {
                out.split.push(match splits.value(r) {
                    "val" => PredSplit::Val,
                    "test" => PredSplit::Test,
                    other => {
                        return Err(bad(format!(
                            "row {}: split {other:?}; expected \"val\" or \"test\"",
                            base + r
                        )))
                    }
                });
                out.id_code.push(ids.value(r).to_string());
                out.site.push(sites.value(r));
            }
            let values = logits.values().as_primitive::<Float32Type>();
            if values.null_count() > 0 {
                return Err(bad(
                    "logits hold null values; expected finite numbers".to_string()
                ));
            }
            let off = logits.offset() * classes;
            let vals = &values.values()[off..off + batch.num_rows() * classes];
            if let Some(k) = vals.iter().position(|x| !x.is_finite()) {
                let (r, c) = (k / classes, k % classes);
                return Err(bad(format!(
                    "row {} ({} site {}): logit of class {c} is {}; expected finite numbers",
                    base + r,
                    ids.value(r),
                    sites.value(r),
                    vals[k]
                )));
            }
            out.logits.extend_from_slice(vals);
        }
        Ok(out)
    }
}
