//! Reading one prediction file (data-schemas/predictions.md): `split`,
//! `id_code`, `site`, `logits: fixed_size_list<float32, classes>`, one row per
//! site, with the Arrow/Parquet record batch reader (any standard codec).
//! The keys (`split`, `id_code`, `site`) are read first and held
//! ([`PredFile::read`]); the logits are then streamed chunk by chunk
//! ([`PredFile::for_each_row`], [`crate::logits`]), never held whole. The file is checked
//! column by column here (types, split names, nulls, finite logits, errors
//! naming the row); how its rows relate to the dataset is checked in
//! [`crate::table`].

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::UInt8Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use crate::error::{EnsembleError, Result};

/// The `split` column: validation wells of the model's fold, or test wells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PredSplit {
    Val,
    Test,
}

impl PredSplit {
    pub const BOTH: [PredSplit; 2] = [PredSplit::Val, PredSplit::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            PredSplit::Val => "val",
            PredSplit::Test => "test",
        }
    }

    /// 0 for val, 1 for test: an index into per-split pairs.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One prediction file: the keys of its rows, in file order.
#[derive(Debug, Clone)]
pub struct PredFile {
    pub path: PathBuf,
    pub classes: usize,
    pub split: Vec<PredSplit>,
    pub id_code: Vec<String>,
    pub site: Vec<u8>,
}

/// Where the four columns are in a projected batch, and the class count.
struct Layout {
    split: usize,
    id: usize,
    site: usize,
    classes: usize,
}

const EXPECTED: &str = "expected split: utf8, id_code: utf8, site: uint8, logits: fixed_size_list<float32, classes> (data-schemas/predictions.md)";

impl PredFile {
    pub fn rows(&self) -> usize {
        self.split.len()
    }

    fn bad(&self, message: String) -> EnsembleError {
        EnsembleError::input(&self.path, message)
    }

    /// Reads and checks the schema and the key columns. Unknown splits,
    /// nulls and wrong types are errors naming the row (0-based, in file
    /// order).
    pub fn read(path: &Path) -> Result<Self> {
        let (reader, at) = open(path, &[0, 1, 2], 65536)?;
        let mut out = PredFile {
            path: path.to_path_buf(),
            classes: at.classes,
            split: Vec::new(),
            id_code: Vec::new(),
            site: Vec::new(),
        };
        for batch in reader {
            out.append_keys(&batch.map_err(|e| decode(path, e))?, &at)?;
        }
        Ok(out)
    }

    /// Checks one record batch of the key columns and appends its rows.
    fn append_keys(&mut self, batch: &RecordBatch, at: &Layout) -> Result<()> {
        let base = self.rows();
        for (name, ci) in [("split", at.split), ("id_code", at.id), ("site", at.site)] {
            null_free(batch, ci, base, name).map_err(|m| self.bad(m))?;
        }
        let splits = batch.column(at.split).as_string::<i32>();
        let ids = batch.column(at.id).as_string::<i32>();
        let sites = batch.column(at.site).as_primitive::<UInt8Type>();
        for r in 0..batch.num_rows() {
            self.split.push(match splits.value(r) {
                "val" => PredSplit::Val,
                "test" => PredSplit::Test,
                other => {
                    return Err(self.bad(format!(
                        "row {}: split {other:?}; expected \"val\" or \"test\"",
                        base + r
                    )))
                }
            });
            self.id_code.push(ids.value(r).to_string());
            self.site.push(sites.value(r));
        }
        Ok(())
    }

    /// Streams the logits: `f(row, logits)` for every row in file order,
    /// each checked (whole, no nulls, finite numbers) before it is handed
    /// over ([`crate::logits::stream`]).
    pub fn for_each_row(&self, mut f: impl FnMut(usize, &[f32])) -> Result<()> {
        crate::logits::stream(&self.path, self.classes, |r, row| {
            if r >= self.rows() {
                return Err(self.bad(format!(
                    "logits have more rows than the keys ({}); expected one per row",
                    self.rows()
                )));
            }
            // A fold without early exit vectorises; the bad class is looked
            // for only in a bad row.
            if !row.iter().fold(true, |ok, x| ok & x.is_finite()) {
                let c = row.iter().position(|x| !x.is_finite()).unwrap_or(0);
                return Err(self.bad(format!(
                    "row {r} ({} site {}): logit of class {c} is {}; expected finite numbers",
                    self.id_code[r], self.site[r], row[c]
                )));
            }
            f(r, row);
            Ok(())
        })
    }
}

fn decode(path: &Path, cause: arrow_schema::ArrowError) -> EnsembleError {
    EnsembleError::Decode {
        path: path.to_path_buf(),
        cause,
    }
}

/// Column `ci` of `batch` has no null, else the message naming the row.
fn null_free(
    batch: &RecordBatch,
    ci: usize,
    base: usize,
    name: &str,
) -> std::result::Result<(), String> {
    let arr = batch.column(ci);
    match (0..arr.len()).find(|&i| arr.is_null(i)) {
        None => Ok(()),
        Some(r) => Err(format!(
            "row {}: column {name} is null; expected a value",
            base + r
        )),
    }
}

/// A reader of the columns `which` (0 split, 1 id_code, 2 site, 3 logits)
/// in batches of `batch` rows, and where they are in its batches.
fn open(path: &Path, which: &[usize], batch: usize) -> Result<(ParquetRecordBatchReader, Layout)> {
    let file =
        File::open(path).map_err(|e| EnsembleError::io(path, "cannot open prediction file", e))?;
    let pq = |cause| EnsembleError::Parquet {
        path: path.to_path_buf(),
        cause,
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let (roots, at) = layout(builder.schema(), which).map_err(|m| EnsembleError::input(path, m))?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(batch)
        .build()
        .map_err(pq)?;
    Ok((reader, at))
}

/// The places in the file of the columns `which` (of split, id_code, site,
/// logits) and, as [`Layout`], in the batches read with only them; or what
/// is wrong with the four columns.
fn layout(schema: &Schema, which: &[usize]) -> std::result::Result<(Vec<usize>, Layout), String> {
    let col = |name: &str| {
        schema
            .index_of(name)
            .map_err(|_| format!("no column {name:?}; {EXPECTED}"))
    };
    let (split, id, site, logits) = (col("split")?, col("id_code")?, col("site")?, col("logits")?);
    let classes = match schema.field(logits).data_type() {
        DataType::FixedSizeList(f, n) if f.data_type() == &DataType::Float32 && *n > 0 => {
            *n as usize
        }
        other => {
            return Err(format!(
                "column logits is {other:?}; expected fixed_size_list<float32, classes>"
            ))
        }
    };
    for (ci, name, want) in [
        (split, "split", DataType::Utf8),
        (id, "id_code", DataType::Utf8),
        (site, "site", DataType::UInt8),
    ] {
        let t = schema.field(ci).data_type();
        if t != &want {
            return Err(format!("column {name} is {t:?}; expected {want:?}"));
        }
    }
    let all = [split, id, site, logits];
    let mut roots: Vec<usize> = which.iter().map(|&k| all[k]).collect();
    roots.sort_unstable();
    let at = |ci: usize| roots.iter().position(|&k| k == ci).unwrap_or(0);
    let projected = Layout {
        split: at(split),
        id: at(id),
        site: at(site),
        classes,
    };
    Ok((roots, projected))
}
