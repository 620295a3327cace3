//! The Kaggle competition's four CSVs (train.csv, test.csv,
//! train_controls.csv, test_controls.csv, one row per well) read into the
//! index's per-well rows, every bad row reported by file and line.

use std::path::Path;

use crate::csvread::CsvTable;
use crate::error::{Collector, CoreError, Result};
use crate::index::{RawWell, Split, WellType};
use crate::wells::Well;

pub const TRAIN_COLUMNS: &[&str] = &["id_code", "experiment", "plate", "well", "sirna"];
pub const TEST_COLUMNS: &[&str] = &["id_code", "experiment", "plate", "well"];
pub const CONTROL_COLUMNS: &[&str] = &[
    "id_code",
    "experiment",
    "plate",
    "well",
    "sirna",
    "well_type",
];

/// The rows of the four CSVs (every row problem collected before failing).
pub(crate) fn read_rows(root: &Path, max_problems: usize) -> Result<Vec<RawWell>> {
    let train = root.join("train.csv");
    if !train.is_file() {
        return Err(CoreError::MissingFile {
            path: train,
            expected: "train.csv of the Kaggle competition layout (with test.csv, train_controls.csv, test_controls.csv), or metadata.csv of the public RxRx1 release".into(),
        });
    }
    let mut problems = Collector::new(max_problems);
    let mut raw = Vec::new();
    for (name, split, columns) in [
        ("train.csv", Split::Train, TRAIN_COLUMNS),
        ("test.csv", Split::Test, TEST_COLUMNS),
        ("train_controls.csv", Split::Train, CONTROL_COLUMNS),
        ("test_controls.csv", Split::Test, CONTROL_COLUMNS),
    ] {
        let path = root.join(name);
        let table = CsvTable::read(&path, &mut problems)?;
        let cols = table.columns(&path, columns)?;
        for (line, rec) in &table.rows {
            let field = |i: usize| rec.get(cols[i]).unwrap_or("").trim();
            if let Some(w) = parse_row(&path, *line, split, &field, columns.len(), &mut problems) {
                raw.push(w);
            }
        }
    }
    problems.finish()?;
    Ok(raw)
}

fn parse_row<'a>(
    path: &Path,
    line: usize,
    split: Split,
    field: &dyn Fn(usize) -> &'a str,
    ncols: usize,
    problems: &mut Collector,
) -> Option<RawWell> {
    let before = problems.count();
    let mut bad = |m: String| problems.push(path, Some(line), m);
    let experiment = field(1).to_string();
    if experiment.is_empty() {
        bad("empty experiment".into());
    }
    let plate = match field(2).parse::<u8>() {
        Ok(p) if p >= 1 => Some(p),
        _ => {
            bad(format!(
                "plate {:?}: expected a plate number 1..255",
                field(2)
            ));
            None
        }
    };
    let well = match field(3).parse::<Well>() {
        Ok(w) => Some(w),
        Err(e) => {
            bad(e);
            None
        }
    };
    match crate::wells::parse_id_code(field(0)) {
        Err(e) => bad(e),
        Ok((e, p, w)) => {
            if Some(p) != plate || Some(w) != well || e != experiment {
                bad(format!(
                    "id_code {:?} disagrees with its columns experiment={}, plate={}, well={}",
                    field(0),
                    experiment,
                    field(2),
                    field(3)
                ));
            }
        }
    }
    let sirna = if ncols >= 5 {
        match field(4).parse::<u32>() {
            Ok(s) => Some(s),
            Err(_) => {
                bad(format!(
                    "sirna {:?}: expected a non-negative integer class id",
                    field(4)
                ));
                None
            }
        }
    } else {
        None
    };
    let well_type = if ncols >= 6 {
        match field(5) {
            "negative_control" => WellType::NegativeControl,
            "positive_control" => WellType::PositiveControl,
            other => {
                bad(format!(
                    "well_type {other:?}: expected negative_control or positive_control"
                ));
                WellType::PositiveControl
            }
        }
    } else {
        WellType::Treatment
    };
    if problems.count() != before {
        return None;
    }
    Some(RawWell {
        file: path.to_path_buf(),
        line,
        experiment,
        plate: plate?,
        well: well?,
        split,
        well_type,
        sirna,
    })
}
