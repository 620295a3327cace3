//! The public RxRx1 release's metadata.csv (`site_id, well_id, cell_type,
//! dataset, experiment, plate, well, site, well_type, sirna, sirna_id`, one
//! row per site, test rows labelled), read into the same per-well rows as
//! the competition's CSVs. Its test labels are kept apart: the index hides
//! them exactly as test.csv does (they serve only as truth, see
//! [`crate::truth`]), so training never sees them.

use std::collections::HashMap;
use std::path::Path;

use crate::csvread::CsvTable;
use crate::error::{Collector, Result};
use crate::index::{RawWell, Split, WellType, SITES};
use crate::wells::{cell_type, id_code, Well};

/// metadata.csv's columns (others may follow and are ignored).
pub const COLUMNS: &[&str] = &[
    "site_id",
    "well_id",
    "cell_type",
    "dataset",
    "experiment",
    "plate",
    "well",
    "site",
    "well_type",
    "sirna",
    "sirna_id",
];

/// metadata.csv read and checked, per well.
pub(crate) struct PublicTable {
    /// One row per well, in file order of each well's first site; test
    /// treatments without their sirna (as test.csv has none).
    pub wells: Vec<RawWell>,
    /// `(id_code, sirna_id)` of every test treatment well, in file order.
    pub test_labels: Vec<(String, u32)>,
}

/// One site row.
struct SiteRow {
    well: RawWell,
    site: u8,
    sirna_name: String,
}

/// What every site of one well must agree on, for the messages.
fn well_fields(r: &SiteRow) -> [(&'static str, String); 4] {
    [
        ("dataset", r.well.split.as_str().to_string()),
        ("well_type", r.well.well_type.as_str().to_string()),
        ("sirna", r.sirna_name.clone()),
        (
            "sirna_id",
            r.well.sirna.map_or(String::new(), |s| s.to_string()),
        ),
    ]
}

/// Reads `path` (every problem collected per line before failing).
pub(crate) fn read(path: &Path, max_problems: usize) -> Result<PublicTable> {
    let mut problems = Collector::new(max_problems);
    let table = CsvTable::read(path, &mut problems)?;
    let cols = table.columns(path, COLUMNS)?;
    // (experiment, plate, well) -> (index into `rows`, sites seen)
    let mut wells: HashMap<(String, u8, Well), (usize, Vec<u8>)> = HashMap::new();
    let mut rows: Vec<SiteRow> = Vec::new();
    for (line, rec) in &table.rows {
        let field = |i: usize| rec.get(cols[i]).unwrap_or("").trim();
        let Some(r) = parse_site(path, *line, &field, &mut problems) else {
            continue;
        };
        let key = (r.well.experiment.clone(), r.well.plate, r.well.well);
        match wells.get_mut(&key) {
            None => {
                wells.insert(key, (rows.len(), vec![r.site]));
                rows.push(r);
            }
            Some((i, sites)) => {
                let first = &rows[*i];
                let id = id_code(&key.0, key.1, key.2);
                if sites.contains(&r.site) {
                    problems.push(
                        path,
                        Some(*line),
                        format!("duplicate site {} of well {id}: already listed at line {}; expected one row per site", r.site, first.well.line),
                    );
                    continue;
                }
                sites.push(r.site);
                for ((name, here), (_, there)) in
                    well_fields(&r).into_iter().zip(well_fields(first))
                {
                    if here != there {
                        problems.push(
                            path,
                            Some(*line),
                            format!("{name} {here} of well {id} disagrees with {there} at line {}; expected the same for every site of a well", first.well.line),
                        );
                    }
                }
            }
        }
    }
    let mut missing: Vec<(usize, String)> = wells
        .iter()
        .filter(|(_, (_, sites))| sites.len() < SITES as usize)
        .map(|((e, p, w), (i, sites))| {
            let absent: Vec<String> = (1..=SITES)
                .filter(|s| !sites.contains(s))
                .map(|s| s.to_string())
                .collect();
            (
                rows[*i].well.line,
                format!(
                    "well {} has no row for site {}; expected one row per site 1..{SITES}",
                    id_code(e, *p, *w),
                    absent.join(", ")
                ),
            )
        })
        .collect();
    missing.sort();
    for (line, m) in missing {
        problems.push(path, Some(line), m);
    }
    problems.finish()?;
    let mut test_labels = Vec::new();
    let wells = rows
        .into_iter()
        .map(|mut r| {
            if r.well.split == Split::Test && r.well.well_type == WellType::Treatment {
                let w = &mut r.well;
                let label = w.sirna.take().expect("parsed sirna_id");
                test_labels.push((id_code(&w.experiment, w.plate, w.well), label));
            }
            r.well
        })
        .collect();
    Ok(PublicTable { wells, test_labels })
}

/// One row's fields, each checked; None (with the problems collected) when
/// any is wrong.
fn parse_site<'a>(
    path: &Path,
    line: usize,
    field: &dyn Fn(usize) -> &'a str,
    problems: &mut Collector,
) -> Option<SiteRow> {
    let before = problems.count();
    let mut bad = |m: String| problems.push(path, Some(line), m);
    let experiment = field(4).to_string();
    if experiment.is_empty() {
        bad("empty experiment".into());
    }
    let plate = match field(5).parse::<u8>() {
        Ok(p) if p >= 1 => Some(p),
        _ => {
            bad(format!(
                "plate {:?}: expected a plate number 1..255",
                field(5)
            ));
            None
        }
    };
    let well = field(6).parse::<Well>().map_err(&mut bad).ok();
    let site = match field(7).parse::<u8>() {
        Ok(s) if (1..=SITES).contains(&s) => Some(s),
        _ => {
            bad(format!("site {:?}: expected 1..{SITES}", field(7)));
            None
        }
    };
    if let (Some(p), Some(w), Some(s)) = (plate, well, site) {
        let well_id = id_code(&experiment, p, w);
        if field(1) != well_id {
            bad(format!(
                "well_id {:?}: expected {well_id} (experiment_plate_well of its columns)",
                field(1)
            ));
        }
        let site_id = format!("{well_id}_{s}");
        if field(0) != site_id {
            bad(format!(
                "site_id {:?}: expected {site_id} (well_id_site of its columns)",
                field(0)
            ));
        }
    }
    if !experiment.is_empty() && field(2) != cell_type(&experiment) {
        bad(format!(
            "cell_type {:?}: expected {} (experiment {experiment} up to its first '-')",
            field(2),
            cell_type(&experiment)
        ));
    }
    let split = match field(3) {
        "train" => Some(Split::Train),
        "test" => Some(Split::Test),
        other => {
            bad(format!("dataset {other:?}: expected train or test"));
            None
        }
    };
    let well_type = match field(8) {
        "treatment" => Some(WellType::Treatment),
        "negative_control" => Some(WellType::NegativeControl),
        "positive_control" => Some(WellType::PositiveControl),
        other => {
            bad(format!(
                "well_type {other:?}: expected treatment, negative_control or positive_control"
            ));
            None
        }
    };
    if field(9).is_empty() {
        bad("empty sirna: expected the siRNA's name (e.g. s21721, or EMPTY)".into());
    }
    let sirna = match field(10).parse::<u32>() {
        Ok(s) => Some(s),
        Err(_) => {
            bad(format!(
                "sirna_id {:?}: expected a non-negative integer class id",
                field(10)
            ));
            None
        }
    };
    if problems.count() != before {
        return None;
    }
    Some(SiteRow {
        well: RawWell {
            file: path.to_path_buf(),
            line,
            experiment,
            plate: plate?,
            well: well?,
            split: split?,
            well_type: well_type?,
            sirna,
        },
        site: site?,
        sirna_name: field(9).to_string(),
    })
}
