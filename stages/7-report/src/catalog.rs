//! The wells of an RxRx1 root: split, experiment, plate, well, type and
//! sirna where known. A root whose tables are complete is read through
//! rcic-core's dataset index, in either layout (the Kaggle competition's
//! four CSVs or the public release's metadata.csv; [`DataLayout`]), so the
//! report sees the dataset every stage sees, and its test labels stay hidden
//! as there. A competition root with only some of its CSVs is read row by
//! row from those it has (no plate groups, no cross-checks), so that any
//! site of a partial root can still be looked at; one without tables is
//! searched by its files ([`crate::site`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rcic_core::data_layout::COMPETITION_CSVS;
use rcic_core::wells::parse_id_code;
use rcic_core::{AliasConfig, DataLayout, DatasetIndex, IndexOptions, Split, Well, WellType};

use crate::error::{ReportError, Result};

/// The competition's four CSVs, in the order they are read.
pub const CSVS: [(&str, Split, bool); 4] = [
    (COMPETITION_CSVS[0], Split::Train, false),
    (COMPETITION_CSVS[1], Split::Test, false),
    (COMPETITION_CSVS[2], Split::Train, true),
    (COMPETITION_CSVS[3], Split::Test, true),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id_code: String,
    pub split: Split,
    pub experiment: String,
    pub plate: u8,
    pub well: Well,
    pub well_type: WellType,
    pub sirna: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub root: PathBuf,
    /// The root's layout (where a site's images lie).
    pub layout: DataLayout,
    /// The table files read (metadata.csv, or the competition CSVs that
    /// exist, in [`CSVS`] order).
    pub files: Vec<PathBuf>,
    /// Every listed well, in (experiment, plate, well) order for a complete
    /// root, in file order for a partial one.
    pub entries: Vec<Entry>,
    by_id: HashMap<String, usize>,
}

impl Catalog {
    /// Reads the wells of `root` in either layout: through the dataset
    /// index when the layout's tables are all there; from whichever of the
    /// competition's CSVs exist otherwise (none is not an error: the site
    /// files can still be found by [`crate::site`]).
    pub fn read(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(ReportError::input(
                root,
                "no such folder: expected an RxRx1 root (the competition's train.csv, test.csv, train/, test/, or the public release's metadata.csv, images/)",
            ));
        }
        let layout = DataLayout::detect(root)?;
        let mut cat = Catalog {
            root: root.to_path_buf(),
            layout,
            files: Vec::new(),
            entries: Vec::new(),
            by_id: HashMap::new(),
        };
        let tables = layout.table_files(root);
        if tables.iter().all(|p| p.is_file()) {
            let index = load_index(root)?;
            cat.entries = entries(&index);
            cat.files = tables;
        } else {
            for (name, split, controls) in CSVS {
                let path = root.join(name);
                if !path.is_file() {
                    continue;
                }
                read_csv(&path, split, controls, &mut cat.entries)?;
                cat.files.push(path);
            }
        }
        for (i, e) in cat.entries.iter().enumerate() {
            if cat.by_id.insert(e.id_code.clone(), i).is_some() {
                return Err(ReportError::input(
                    root,
                    format!("id_code {} is listed twice in the CSVs", e.id_code),
                ));
            }
        }
        Ok(cat)
    }

    pub fn get(&self, id_code: &str) -> Option<&Entry> {
        self.by_id.get(id_code).map(|&i| &self.entries[i])
    }

    /// The table names found, for messages: `train.csv, test.csv`.
    pub fn file_names(&self) -> String {
        self.files
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The dataset index of `root`, as the report reads it (no layout aliases:
/// the report shows wells as the dataset lists them).
pub fn load_index(root: &Path) -> Result<DatasetIndex> {
    Ok(DatasetIndex::load(
        root,
        &IndexOptions {
            aliases: AliasConfig::None,
            ..IndexOptions::default()
        },
    )?)
}

/// The index's wells as entries: the sirna the tables give (none for test
/// treatments, whose labels the index hides in both layouts).
fn entries(index: &DatasetIndex) -> Vec<Entry> {
    index
        .wells
        .iter()
        .map(|w| {
            let e = &index.experiments[w.experiment];
            Entry {
                id_code: index.id_code(w),
                split: e.split,
                experiment: e.name.clone(),
                plate: w.plate,
                well: w.well,
                well_type: w.well_type,
                sirna: w.sirna,
            }
        })
        .collect()
}

fn read_csv(path: &Path, split: Split, controls: bool, out: &mut Vec<Entry>) -> Result<()> {
    let bad = |line: u64, m: String| ReportError::input(path, format!("line {line}: {m}"));
    let mut rdr = csv::ReaderBuilder::new()
        .from_path(path)
        .map_err(|e| ReportError::csv(path, "cannot read", e))?;
    let headers = rdr
        .headers()
        .map_err(|e| ReportError::csv(path, "cannot read the header", e))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            ReportError::input(
                path,
                format!("no column {name:?} (expected id_code,experiment,plate,well[,sirna[,well_type]], data-schemas/dataset.md)"),
            )
        })
    };
    let (c_id, c_exp, c_plate, c_well) = (
        need("id_code")?,
        need("experiment")?,
        need("plate")?,
        need("well")?,
    );
    let c_sirna = col("sirna");
    let c_type = if controls {
        Some(need("well_type")?)
    } else {
        None
    };
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ReportError::csv(path, "cannot read a row", e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let f = |i: usize| rec.get(i).unwrap_or("").trim();
        let id_code = f(c_id).to_string();
        let (exp, plate, well) = parse_id_code(&id_code).map_err(|m| bad(line, m))?;
        let plate_col: u8 = f(c_plate)
            .parse()
            .map_err(|_| bad(line, format!("plate {:?}: expected 1..255", f(c_plate))))?;
        if exp != f(c_exp) || plate != plate_col || f(c_well) != well.to_string() {
            return Err(bad(
                line,
                format!(
                    "id_code {id_code} does not match experiment {}, plate {}, well {}",
                    f(c_exp),
                    f(c_plate),
                    f(c_well)
                ),
            ));
        }
        let sirna = match c_sirna.map(f) {
            None | Some("") => None,
            Some(s) => Some(
                s.parse()
                    .map_err(|_| bad(line, format!("sirna {s:?}: expected a class number")))?,
            ),
        };
        let well_type = match c_type.map(f) {
            None => WellType::Treatment,
            Some("negative_control") => WellType::NegativeControl,
            Some("positive_control") => WellType::PositiveControl,
            Some("treatment") => WellType::Treatment,
            Some(t) => {
                return Err(bad(
                    line,
                    format!("well_type {t:?}: expected negative_control or positive_control"),
                ))
            }
        };
        let experiment = exp.to_string();
        out.push(Entry {
            id_code,
            split,
            experiment,
            plate,
            well,
            well_type,
            sirna,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("train.csv"),
            "id_code,experiment,plate,well,sirna\nHEPG2-01_1_B02,HEPG2-01,1,B02,7\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("test.csv"),
            "id_code,experiment,plate,well\nHEPG2-02_2_C03,HEPG2-02,2,C03\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("train_controls.csv"),
            "id_code,experiment,plate,well,sirna,well_type\nHEPG2-01_1_B03,HEPG2-01,1,B03,33,negative_control\n",
        )
        .unwrap();
        d
    }

    #[test]
    fn reads_the_csvs_that_exist() {
        let d = root();
        let c = Catalog::read(d.path()).unwrap();
        assert_eq!(c.file_names(), "train.csv, test.csv, train_controls.csv");
        let e = c.get("HEPG2-01_1_B02").unwrap();
        assert_eq!(
            (e.split, e.sirna, e.well_type),
            (Split::Train, Some(7), WellType::Treatment)
        );
        let e = c.get("HEPG2-02_2_C03").unwrap();
        assert_eq!((e.split, e.sirna, e.plate), (Split::Test, None, 2));
        assert_eq!(
            c.get("HEPG2-01_1_B03").unwrap().well_type,
            WellType::NegativeControl
        );
        assert!(c.get("HEPG2-01_1_B04").is_none());
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let d = root();
        std::fs::write(
            d.path().join("test.csv"),
            "id_code,experiment,plate,well\nHEPG2-02_2_C03,HEPG2-02,3,C03\n",
        )
        .unwrap();
        let e = Catalog::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("test.csv") && e.contains("line 2"), "{e}");
        std::fs::write(d.path().join("test.csv"), "id,experiment\nx,y\n").unwrap();
        let e = Catalog::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("test.csv") && e.contains("id_code"), "{e}");
    }

    #[test]
    fn both_layouts_in_one_root_are_refused() {
        let d = root();
        std::fs::write(d.path().join("metadata.csv"), "").unwrap();
        let e = rcic_cli::report::error_chain(&Catalog::read(d.path()).unwrap_err());
        assert!(e.contains("metadata.csv") && e.contains("train.csv"), "{e}");
    }

    #[test]
    fn a_missing_root_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let e = rcic_cli::report::error_chain(&Catalog::read(&d.path().join("nope")).unwrap_err());
        assert!(e.contains("nope"), "{e}");
    }
}
