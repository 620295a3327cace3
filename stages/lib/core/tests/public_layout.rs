//! The public RxRx1 release's layout (metadata.csv, images/): the same
//! typed tables as the same set in the competition layout, its test labels
//! as truth, and a clear error for every kind of bad input.

mod common;

use std::path::Path;

use rcic_core::truth::read_truth;
use rcic_core::{DataLayout, DatasetIndex, IndexOptions, Split, WellType};

fn load(dir: &Path) -> rcic_core::Result<DatasetIndex> {
    DatasetIndex::load(dir, &IndexOptions::default())
}

/// (file name, line, message) of each problem.
fn problems_of(e: rcic_core::CoreError) -> Vec<(String, Option<usize>, String)> {
    let p = e.problems();
    assert!(!p.is_empty(), "expected collected problems, got: {e}");
    p.into_iter()
        .map(|(f, l, m)| (f.file_name().unwrap().to_string_lossy().into_owned(), l, m))
        .collect()
}

fn public_small() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    common::small_public(d.path());
    d
}

#[test]
fn gives_the_same_tables_as_the_competition_layout() {
    let (c, p) = (tempfile::tempdir().unwrap(), public_small());
    common::small(c.path());
    let (a, b) = (load(c.path()).unwrap(), load(p.path()).unwrap());
    assert_eq!(
        (a.layout, b.layout),
        (DataLayout::Competition, DataLayout::Public)
    );
    assert_eq!(a.experiments, b.experiments);
    assert_eq!(a.cell_types, b.cell_types);
    assert_eq!(a.wells, b.wells);
    assert_eq!(
        (
            a.treatments,
            a.classes,
            a.negative_control,
            a.plates_per_experiment
        ),
        (
            b.treatments,
            b.classes,
            b.negative_control,
            b.plates_per_experiment
        )
    );
    assert_eq!(a.groups.groups, b.groups.groups);
    assert_eq!(a.groups.assignment, b.groups.assignment);
    // Test treatments' labels stay hidden, as test.csv has none.
    assert!(b
        .wells
        .iter()
        .filter(|w| b.experiments[w.experiment].split == Split::Test)
        .filter(|w| w.well_type == WellType::Treatment)
        .all(|w| w.sirna.is_none() && w.label.is_none()));
    let w = &b.wells[0];
    assert!(b
        .image_path(w, 2, 6)
        .ends_with("images/A-01/Plate1/B02_s2_w6.png"));
    assert_eq!(b.image_dirs(), [p.path().join("images")]);
    assert_eq!(b.table_files(), [p.path().join("metadata.csv")]);
    assert!(b.pixel_stats.is_none());
}

#[test]
fn the_layout_alias_labels_the_same_wells() {
    let (c, p) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    common::rxrx1_names(c.path());
    common::rxrx1_names_public(p.path());
    let (a, b) = (load(c.path()).unwrap(), load(p.path()).unwrap());
    assert_eq!(a.aliases.len(), 1, "HUVEC-18 takes RPE-03's layout");
    assert_eq!(a.aliases, b.aliases);
    assert_eq!(a.wells, b.wells);
    assert_eq!(a.groups.assignment, b.groups.assignment);
}

#[test]
fn test_labels_serve_as_truth() {
    let d = public_small();
    let truth = read_truth(&d.path().join("metadata.csv")).unwrap();
    // Two test experiments, 4 plates, 2 treatment wells each.
    assert_eq!(truth.len(), 2 * 4 * 2);
    assert!(truth
        .keys()
        .all(|k| k.starts_with("A-03_") || k.starts_with("B-02_")));
    assert!(truth.values().all(|&s| s < 8));
    // The same labels through a test_truth.csv.
    let mut rows: Vec<_> = truth.iter().collect();
    rows.sort();
    let mut text = String::from("id_code,experiment,plate,well,sirna\n");
    for (id, s) in &rows {
        let f: Vec<&str> = id.split('_').collect();
        text.push_str(&format!("{id},{},{},{},{s}\n", f[0], f[1], f[2]));
    }
    let t = d.path().join("test_truth.csv");
    std::fs::write(&t, text).unwrap();
    assert_eq!(read_truth(&t).unwrap(), truth);
    // Bad truth files name the file, line and what was expected.
    let mut bad = std::fs::read_to_string(&t).unwrap();
    bad.push_str("Z-01_1_B02,Z-01,1,B02,x\n");
    std::fs::write(&t, bad).unwrap();
    let e = read_truth(&t).unwrap_err().to_string();
    let line = rows.len() + 2;
    assert!(
        e.contains(&format!(
            "test_truth.csv: line {line}: sirna \"x\": expected a non-negative integer"
        )),
        "{e}"
    );
    std::fs::write(&t, "id,sirna\nA,1\n").unwrap();
    let e = read_truth(&t).unwrap_err().to_string();
    assert!(
        e.contains("id_code,experiment,plate,well,sirna") && e.contains("metadata.csv"),
        "{e}"
    );
}

#[test]
fn both_layouts_in_one_folder_is_an_error() {
    let d = public_small();
    common::small(d.path());
    let e = load(d.path()).unwrap_err().to_string();
    assert!(
        e.contains("metadata.csv") && e.contains("train.csv") && e.contains("one layout"),
        "{e}"
    );
}

#[test]
fn neither_layout_names_both() {
    let d = tempfile::tempdir().unwrap();
    let e = load(d.path()).unwrap_err().to_string();
    assert!(e.contains("train.csv") && e.contains("metadata.csv"), "{e}");
}

#[test]
fn a_missing_column_is_named() {
    let d = public_small();
    let m = d.path().join("metadata.csv");
    common::edit(&m, ",sirna_id\n", ",class\n");
    let e = load(d.path()).unwrap_err().to_string();
    assert!(
        e.contains("metadata.csv") && e.contains("missing column(s) sirna_id"),
        "{e}"
    );
}

#[test]
fn bad_values_are_reported_by_line() {
    let d = public_small();
    let m = d.path().join("metadata.csv");
    // Line 2 is A-01_1_B02 site 1 (a treatment); line 4 its well B03 site 1.
    common::edit(&m, ",treatment,", ",sample,");
    common::edit(
        &m,
        "A-01_1_B03_1,A-01_1_B03,A,",
        "A-01_1_B03_1,A-01_1_B03,B,",
    );
    common::edit(
        &m,
        "A-01_1_C02_1,A-01_1_C02,A,train",
        "A-01_1_C02_1,A-01_1_C02,A,val",
    );
    let p = problems_of(load(d.path()).unwrap_err());
    assert!(p.iter().all(|x| x.0 == "metadata.csv"), "{p:?}");
    let has = |line: usize, what: &str| p.iter().any(|x| x.1 == Some(line) && x.2.contains(what));
    assert!(
        has(
            2,
            "well_type \"sample\": expected treatment, negative_control or positive_control"
        ),
        "{p:?}"
    );
    assert!(has(4, "cell_type \"B\": expected A"), "{p:?}");
    assert!(has(6, "dataset \"val\": expected train or test"), "{p:?}");
}

#[test]
fn a_site_without_its_row_or_listed_twice_is_an_error() {
    let d = public_small();
    let m = d.path().join("metadata.csv");
    let text = std::fs::read_to_string(&m).unwrap();
    let site2 = text.lines().nth(2).unwrap().to_string();
    assert!(site2.starts_with("A-01_1_B02_2,"));
    common::edit(&m, &format!("{site2}\n"), "");
    let e = load(d.path()).unwrap_err().to_string();
    assert!(
        e.contains("line 2: well A-01_1_B02 has no row for site 2"),
        "{e}"
    );
    common::small_public(d.path());
    common::edit(
        &m,
        "A-01_1_B02_2,A-01_1_B02,A,train,A-01,1,B02,2,",
        "A-01_1_B02_1,A-01_1_B02,A,train,A-01,1,B02,1,",
    );
    let e = load(d.path()).unwrap_err().to_string();
    assert!(
        e.contains("line 3: duplicate site 1 of well A-01_1_B02"),
        "{e}"
    );
}

#[test]
fn sites_of_a_well_agree_and_ids_match_their_columns() {
    let d = public_small();
    let m = d.path().join("metadata.csv");
    let text = std::fs::read_to_string(&m).unwrap();
    let site2 = text.lines().nth(2).unwrap().to_string();
    let (head, _) = site2.rsplit_once(',').unwrap();
    common::edit(&m, &site2, &format!("{head},7"));
    common::edit(&m, "A-01_1_B03_1,A-01_1_B03,", "A-01_1_B03_1,A-01_1_B04,");
    common::edit(&m, "A-01_1_C02_2,", "A-01_1_C02_9,");
    let p = problems_of(load(d.path()).unwrap_err());
    let has = |line: usize, what: &str| p.iter().any(|x| x.1 == Some(line) && x.2.contains(what));
    assert!(
        has(3, "sirna_id 7 of well A-01_1_B02 disagrees with"),
        "{p:?}"
    );
    assert!(
        has(4, "well_id \"A-01_1_B04\": expected A-01_1_B03"),
        "{p:?}"
    );
    assert!(
        has(7, "site_id \"A-01_1_C02_9\": expected A-01_1_C02_2"),
        "{p:?}"
    );
}
