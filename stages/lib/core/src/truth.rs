//! The true class of every test treatment well, for scoring test accuracy
//! (`--truth`, the Makefile's `TRUTH`), from either file that holds it: the
//! synthetic generator's `test_truth.csv` (`id_code,experiment,plate,well,
//! sirna`) or the public RxRx1 release's metadata.csv, whose test rows carry
//! their labels (`sirna_id` of the rows with dataset `test` and well_type
//! `treatment`, checked as the dataset index checks the file).

use std::collections::HashMap;
use std::path::Path;

use crate::csvread::CsvTable;
use crate::error::{Collector, CoreError, Result};
use crate::metadata;
use crate::wells::parse_id_code;

/// Problems listed per file before failing.
const MAX_PROBLEMS: usize = 20;

/// `id_code -> true sirna` of every test treatment well in `path`, a
/// test_truth.csv or a public metadata.csv (told apart by its header: one
/// with `well_id` and `sirna_id` is a metadata.csv).
pub fn read_truth(path: &Path) -> Result<HashMap<String, u32>> {
    let mut problems = Collector::new(MAX_PROBLEMS);
    let table = CsvTable::read(path, &mut problems)?;
    let has = |c: &str| table.header.iter().any(|h| h == c);
    if has("well_id") && has("sirna_id") {
        drop(table);
        return from_metadata(path);
    }
    let cols = table.columns(path, &["id_code", "sirna"]).map_err(|_| {
        CoreError::Format {
            path: path.to_path_buf(),
            message: format!(
                "found columns {}; expected a test_truth.csv (id_code,experiment,plate,well,sirna) or a public RxRx1 metadata.csv ({})",
                table.header.join(","),
                metadata::COLUMNS.join(",")
            ),
        }
    })?;
    let mut out: HashMap<String, u32> = HashMap::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (line, rec) in &table.rows {
        let field = |i: usize| rec.get(cols[i]).unwrap_or("").trim();
        let (id, sirna) = (field(0), field(1));
        if let Err(m) = parse_id_code(id) {
            problems.push(path, Some(*line), m);
            continue;
        }
        let Ok(s) = sirna.parse::<u32>() else {
            problems.push(
                path,
                Some(*line),
                format!("sirna {sirna:?}: expected a non-negative integer class id"),
            );
            continue;
        };
        if let Some(l) = first_line.get(id) {
            problems.push(
                path,
                Some(*line),
                format!(
                    "id_code {id} listed twice (first at line {l}); expected one row per test well"
                ),
            );
            continue;
        }
        first_line.insert(id.to_string(), *line);
        out.insert(id.to_string(), s);
    }
    problems.finish()?;
    Ok(out)
}

/// The labelled test treatment wells of a public metadata.csv.
fn from_metadata(path: &Path) -> Result<HashMap<String, u32>> {
    let table = metadata::read(path, MAX_PROBLEMS)?;
    if table.test_labels.is_empty() {
        return Err(CoreError::Format {
            path: path.to_path_buf(),
            message: "no test treatment rows (dataset test, well_type treatment); expected the labelled test wells of the public RxRx1 release".into(),
        });
    }
    Ok(table.test_labels.into_iter().collect())
}
