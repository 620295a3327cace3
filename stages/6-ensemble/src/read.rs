//! Reading one prediction file (data-schemas/predictions.md): `split`,
//! `id_code`, `site`, `logits: fixed_size_list<float32, classes>`, one row per
//! site. The file is checked column by column here (types, split names,
//! finite logits); how its rows relate to the dataset is checked in
//! [`crate::table`].
//!
//! Two ways in: [`PredFile::read`] decodes every column with the Arrow
//! reader into memory (the reference way, and the words of every error);
//! [`PredFile::read_keys`] reads the small columns only, and
//! [`PredFile::row_source`] then streams the logits row by row straight from
//! the Parquet pages ([`crate::pages`]), so the ensemble never holds a
//! file's logits whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, UInt8Type};
use arrow_array::Array;
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

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

/// One prediction file in memory: the keys of its rows and, when read whole,
/// its row-major logits (`rows x classes`).
#[derive(Debug, Clone)]
pub struct PredFile {
    pub path: PathBuf,
    pub classes: usize,
    pub split: Vec<PredSplit>,
    pub id_code: Vec<String>,
    pub site: Vec<u8>,
    /// Empty when only the keys were read ([`PredFile::read_keys`]).
    pub logits: Vec<f32>,
    /// Whether `logits` holds every row.
    pub whole: bool,
}

/// A file's logits, row by row in file order: decoded from its pages, or
/// from memory when it was read whole.
pub enum RowSource<'a> {
    Pages(crate::pages::RowStream),
    Whole { file: &'a PredFile, next: usize },
}

impl RowSource<'_> {
    /// The next row (index, logits, whether all are finite), None after the
    /// last one.
    pub fn next_row(&mut self) -> Result<Option<(usize, &[f32], bool)>, crate::pages::Unsupported> {
        match self {
            RowSource::Pages(s) => s.next_row(),
            RowSource::Whole { file, next } => {
                if *next == file.rows() {
                    return Ok(None);
                }
                *next += 1;
                let vals = file.row_logits(*next - 1);
                Ok(Some((*next - 1, vals, crate::simd::all_finite(vals))))
            }
        }
    }

    /// Index of the row [`RowSource::next_into`] reads next (None after
    /// the last).
    pub fn next_index(&self) -> Option<usize> {
        match self {
            RowSource::Pages(s) => s.next_index(),
            RowSource::Whole { file, next } => (*next < file.rows()).then_some(*next),
        }
    }

    /// [`crate::pages::RowStream::next_into`]: the next row into `into`
    /// without the row buffer; its index, whether all its values are
    /// finite, and with `Add` the largest sum.
    pub fn next_into(
        &mut self,
        mut into: crate::pages::Dest<'_>,
    ) -> Result<Option<(usize, bool, f32)>, crate::pages::Unsupported> {
        match self {
            RowSource::Pages(s) => s.next_into(into),
            RowSource::Whole { file, next } => {
                if *next == file.rows() {
                    return Ok(None);
                }
                let r = *next;
                *next += 1;
                let vals = file.row_logits(r);
                let mut top = f32::NEG_INFINITY;
                let t = match &into {
                    crate::pages::Dest::Check => 0,
                    crate::pages::Dest::Copy(d) | crate::pages::Dest::Add(d) => d.len(),
                };
                let ok = into.put(0, &vals[..t], &mut top);
                Ok(Some((r, ok && crate::simd::all_finite(&vals[t..]), top)))
            }
        }
    }

    /// After the last row: nothing left over.
    pub fn finish(&mut self) -> Result<(), crate::pages::Unsupported> {
        match self {
            RowSource::Pages(s) => s.finish(),
            RowSource::Whole { .. } => Ok(()),
        }
    }
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
        Self::read_columns(path, true)
    }

    /// Reads and checks the schema and the `split`, `id_code` and `site`
    /// columns; the logits stay in the file ([`PredFile::for_each_row`]).
    pub fn read_keys(path: &Path) -> Result<Self> {
        Self::read_columns(path, false)
    }

    /// Row `r`'s logits all finite, else the error naming the row and class.
    pub fn check_finite(&self, r: usize, vals: &[f32]) -> Result<()> {
        if crate::simd::all_finite(vals) {
            return Ok(());
        }
        let c = vals.iter().position(|x| !x.is_finite()).unwrap_or(0);
        Err(EnsembleError::input(
            &self.path,
            format!(
                "row {r} ({} site {}): logit of class {c} is {}; expected finite numbers",
                self.id_code[r], self.site[r], vals[c]
            ),
        ))
    }

    /// The logits row by row: from memory when read whole, else decoded
    /// from the file's pages (read ahead on a thread of their own with
    /// `read_ahead`).
    pub fn row_source(&self, read_ahead: bool) -> Result<RowSource<'_>, crate::pages::Unsupported> {
        if self.whole {
            return Ok(RowSource::Whole {
                file: self,
                next: 0,
            });
        }
        crate::pages::RowStream::open(&self.path, "logits", self.classes, self.rows(), read_ahead)
            .map(RowSource::Pages)
    }

    fn read_columns(path: &Path, with_logits: bool) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| EnsembleError::io(path, "cannot open prediction file", e))?;
        let pq = |cause| EnsembleError::Parquet {
            path: path.to_path_buf(),
            cause,
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
        let mut keep = vec![ci_split, ci_id, ci_site];
        if with_logits {
            keep.push(ci_logits);
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), keep.iter().copied());
        // Column indices within the projected batches.
        keep.sort_unstable();
        let at = |ci: usize| keep.iter().position(|&k| k == ci).unwrap_or(0);
        let (ci_split, ci_id, ci_site, ci_logits) =
            (at(ci_split), at(ci_id), at(ci_site), at(ci_logits));
        let reader = builder
            .with_projection(mask)
            .with_batch_size(if with_logits { 4096 } else { 65536 })
            .build()
            .map_err(pq)?;
        let mut out = PredFile {
            path: path.to_path_buf(),
            classes,
            split: Vec::with_capacity(n),
            id_code: Vec::with_capacity(n),
            site: Vec::with_capacity(n),
            logits: Vec::with_capacity(if with_logits { n * classes } else { 0 }),
            whole: with_logits,
        };
        for batch in reader {
            let batch = batch.map_err(|e| bad(format!("cannot decode: {e}")))?;
            let base = out.split.len();
            let splits = batch.column(ci_split).as_string::<i32>();
            let ids = batch.column(ci_id).as_string::<i32>();
            let sites = batch.column(ci_site).as_primitive::<UInt8Type>();
            let mut cols = vec![
                ("split", batch.column(ci_split)),
                ("id_code", batch.column(ci_id)),
                ("site", batch.column(ci_site)),
            ];
            if with_logits {
                cols.push(("logits", batch.column(ci_logits)));
            }
            for (name, arr) in cols {
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
            if !with_logits {
                continue;
            }
            let logits = batch.column(ci_logits).as_fixed_size_list();
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
