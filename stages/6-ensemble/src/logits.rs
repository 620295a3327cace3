//! Streaming the `logits` column (`fixed_size_list<float32, classes>`) of a
//! prediction file with the parquet crate's typed column reader, chunk by
//! chunk into one reused buffer. This is the same crate and page decoding
//! (every standard codec) as the Arrow record batch reader that reads the
//! keys, one layer lower: the Arrow list reader rebuilds list offsets and
//! checks every list's length value by value into a fresh array per batch,
//! which on RxRx1 sizes (two files of ~52,000 rows x 1,139 classes) was
//! about 40% of the stage's time. Here the same checks are a pass over the
//! levels: every row holds exactly `classes` values (repetition levels) and
//! none is null (definition levels); a failing chunk is then walked row by
//! row to name the row at fault.

use std::fs::File;
use std::path::Path;

use parquet::column::reader::ColumnReader;
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::error::{EnsembleError, Result};

/// Rows decoded per chunk: ~290 KB of logits at 1,139 classes, so the chunk
/// and its levels stay in the L2 cache.
const CHUNK_ROWS: usize = 64;

/// Calls `f(row, logits)` for every row of the file's `logits` column, in
/// file order, after checking the row is whole (exactly `classes` values,
/// none null). `Err(message)` names the row at fault.
pub fn stream(
    path: &Path,
    classes: usize,
    mut f: impl FnMut(usize, &[f32]) -> Result<()>,
) -> Result<()> {
    let pq = |cause: ParquetError| EnsembleError::Parquet {
        path: path.to_path_buf(),
        cause,
    };
    let file =
        File::open(path).map_err(|e| EnsembleError::io(path, "cannot open prediction file", e))?;
    let reader = SerializedFileReader::new(file).map_err(pq)?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let leaf = (0..schema.num_columns())
        .find(|&i| schema.get_column_root(i).name() == "logits")
        .ok_or_else(|| EnsembleError::input(path, "no column \"logits\""))?;
    let max_def = schema.column(leaf).max_def_level();
    // The definition level of a null value, where values may be null.
    let null_value = schema
        .column(leaf)
        .self_type()
        .is_optional()
        .then_some(max_def - 1);
    let (mut def, mut rep, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    let mut base = 0usize;
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(pq)?;
        let ColumnReader::FloatColumnReader(mut col) = group.get_column_reader(leaf).map_err(pq)?
        else {
            return Err(EnsembleError::input(
                path,
                "column logits is not stored as float32; expected fixed_size_list<float32, classes>",
            ));
        };
        loop {
            def.clear();
            rep.clear();
            vals.clear();
            let (rows, nvals, nlev) = col
                .read_records(CHUNK_ROWS, Some(&mut def), Some(&mut rep), &mut vals)
                .map_err(pq)?;
            if rows == 0 {
                break;
            }
            let whole = nvals == nlev && nlev == rows * classes && rows_are_whole(&rep, classes);
            if !whole {
                let message = first_bad_row(&def, &rep, (max_def, null_value), classes, base);
                return Err(EnsembleError::input(path, message));
            }
            for (k, row) in vals.chunks_exact(classes).enumerate() {
                f(base + k, row)?;
            }
            base += rows;
        }
    }
    Ok(())
}

/// The repetition levels of whole rows of `classes` values: 0 opens each
/// row, 1 continues it (a fold without early exit, so it vectorises).
fn rows_are_whole(rep: &[i16], classes: usize) -> bool {
    rep.len() % classes == 0
        && rep.chunks_exact(classes).fold(true, |ok, row| {
            ok & (row[0] == 0) & row[1..].iter().fold(true, |o, &x| o & (x == 1))
        })
}

/// What is wrong with the first row of a chunk that is not whole: a null
/// value, a null or empty row, or a row of another length (row numbers from
/// `base`). `levels` is the column's maximum definition level and that of
/// a null value.
fn first_bad_row(
    def: &[i16],
    rep: &[i16],
    levels: (i16, Option<i16>),
    classes: usize,
    base: usize,
) -> String {
    let (max_def, null_value) = levels;
    let mut start = 0;
    let mut row = base;
    while start < rep.len() {
        let end = rep[start + 1..]
            .iter()
            .position(|&r| r == 0)
            .map_or(rep.len(), |k| start + 1 + k);
        let row_def = &def[start..end];
        if let Some(c) = row_def.iter().position(|&d| d < max_def) {
            return if Some(row_def[c]) == null_value {
                format!("row {row}: logit of class {c} is null; expected finite numbers")
            } else {
                format!("row {row}: column logits is null or empty; expected {classes} values")
            };
        }
        if row_def.len() != classes {
            return format!(
                "row {row}: logits hold {} values; expected {classes}",
                row_def.len()
            );
        }
        start = end;
        row += 1;
    }
    format!("rows {base}..{row}: logits are not whole rows of {classes} values")
}
