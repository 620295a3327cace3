//! The dataset index on hand-made CSV sets: what it derives, and a clear
//! error for every kind of bad input.

mod common;

use rcic_core::{
    AliasConfig, DatasetIndex, Folds, IndexOptions, LabelSource, LayoutAlias, Split, WellType,
};

fn load(dir: &std::path::Path) -> rcic_core::Result<DatasetIndex> {
    DatasetIndex::load(dir, &IndexOptions::default())
}

#[test]
fn reads_tables_and_derives_classes_groups_and_cell_types() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    let ix = load(d.path()).unwrap();
    assert_eq!(ix.experiments.len(), 5);
    assert_eq!(ix.cell_types, ["A", "B"]);
    assert_eq!(
        ix.experiments[ix.experiment("A-03").unwrap()].split,
        Split::Test
    );
    assert_eq!(ix.wells.len(), 5 * 4 * 4);
    assert_eq!(ix.site_count(), 5 * 4 * 4 * 2);
    assert_eq!(
        (ix.treatments, ix.classes, ix.negative_control),
        (8, 10, Some(9))
    );
    assert_eq!(ix.plates_per_experiment, 4);
    let groups: Vec<Vec<u32>> = ix
        .groups
        .groups
        .iter()
        .map(|g| g.iter().copied().collect())
        .collect();
    assert_eq!(groups, [[0, 5], [1, 4], [2, 7], [3, 6]]);
    assert_eq!(ix.groups.assignment["A-01"], [0, 1, 2, 3]);
    assert_eq!(ix.groups.assignment["A-02"], [1, 2, 3, 0]);
    assert_eq!(ix.groups.assignment["B-01"], [3, 0, 1, 2]);
    assert!(
        !ix.groups.assignment.contains_key("A-03"),
        "test experiments are not labelled"
    );
    // Test treatments carry no label; controls keep theirs.
    let test_wells: Vec<_> = ix
        .wells
        .iter()
        .filter(|w| ix.experiments[w.experiment].name == "A-03")
        .collect();
    assert!(test_wells
        .iter()
        .filter(|w| w.well_type == WellType::Treatment)
        .all(|w| w.label.is_none()));
    assert!(test_wells
        .iter()
        .filter(|w| w.well_type != WellType::Treatment)
        .all(|w| w.label.is_some()));
    assert!(ix.aliases.is_empty());
    let w = &ix.wells[0];
    assert_eq!(ix.id_code(w), "A-01_1_B02");
    assert!(ix
        .image_path(w, 2, 6)
        .ends_with("train/A-01/Plate1/B02_s2_w6.png"));
    assert!(ix.pixel_stats.is_none());
}

#[test]
fn layout_alias_labels_the_target_and_gives_its_plate_groups() {
    let d = tempfile::tempdir().unwrap();
    common::write(
        d.path(),
        &[
            ("A-01", true, 0),
            ("A-02", true, 1),
            ("B-01", true, 3),
            ("B-02", false, 0),
        ],
        Some(("B-02", "A-02")),
    );
    let opts = IndexOptions {
        aliases: AliasConfig::List(vec!["B-02=A-02:1".parse().unwrap()]),
        ..Default::default()
    };
    let ix = DatasetIndex::load(d.path(), &opts).unwrap();
    assert_eq!(
        ix.aliases,
        vec![LayoutAlias {
            target: "B-02".into(),
            source: "A-02".into(),
            shift: 1
        }]
    );
    let t = ix.experiment("B-02").unwrap();
    let s = ix.experiment("A-02").unwrap();
    for w in ix
        .wells
        .iter()
        .filter(|w| w.experiment == t && w.well_type == WellType::Treatment)
    {
        assert_eq!(w.label_source, LabelSource::Alias);
        let sp = ((w.plate as i32 - 2).rem_euclid(4) + 1) as u8;
        let src = ix
            .wells
            .iter()
            .find(|x| x.experiment == s && x.plate == sp && x.well == w.well)
            .unwrap();
        assert_eq!(w.label, src.sirna, "{}", ix.id_code(w));
    }
    assert_eq!(
        ix.groups.assignment["B-02"],
        [0, 1, 2, 3],
        "A-02's rotation [1,2,3,0] shifted by one plate"
    );
    // An alias naming a missing experiment is refused.
    let opts = IndexOptions {
        aliases: AliasConfig::List(vec!["B-09=A-02:1".parse().unwrap()]),
        ..Default::default()
    };
    let err = DatasetIndex::load(d.path(), &opts).unwrap_err().to_string();
    assert!(err.contains("B-09"), "{err}");
}

#[test]
fn rxrx1_default_alias_and_the_reference_folds() {
    let d = tempfile::tempdir().unwrap();
    common::rxrx1_names(d.path());
    let ix = load(d.path()).unwrap();
    assert_eq!(ix.experiments.len(), 51);
    assert_eq!(ix.aliases, vec![LayoutAlias::rxrx1()]);
    let folds = Folds::new(&ix, 0);
    // Printed by the reference's split code (random.Random(0), counts table).
    let want: [&[&str]; 6] = [
        &[
            "HEPG2-03", "HEPG2-05", "HUVEC-02", "HUVEC-14", "RPE-04", "U2OS-02",
        ],
        &[
            "HEPG2-02", "HUVEC-11", "HUVEC-12", "HUVEC-15", "RPE-02", "RPE-05", "U2OS-01",
        ],
        &[
            "HEPG2-01", "HUVEC-01", "HUVEC-07", "HUVEC-18", "RPE-07", "U2OS-02",
        ],
        &[
            "HEPG2-06", "HUVEC-03", "HUVEC-05", "HUVEC-09", "RPE-06", "U2OS-03",
        ],
        &[
            "HEPG2-04", "HUVEC-04", "HUVEC-06", "HUVEC-16", "RPE-01", "U2OS-01",
        ],
        &[
            "HEPG2-07", "HUVEC-08", "HUVEC-10", "HUVEC-13", "RPE-03", "U2OS-03",
        ],
    ];
    for (k, w) in want.iter().enumerate() {
        assert_eq!(folds.folds[k], *w, "fold {k}");
    }
    let f1 = Folds::new(&ix, 1);
    assert_eq!(
        f1.folds[3],
        ["HEPG2-01", "HUVEC-01", "HUVEC-02", "HUVEC-08", "RPE-03", "U2OS-01"]
    );
    assert_eq!(folds.labelled.len(), 34);
    assert!(folds.validation(-1).unwrap().is_empty());
    assert_eq!(folds.training(-1).unwrap().len(), 34);
    assert_eq!(folds.training(0).unwrap().len(), 28);
    let err = folds.validation(6).unwrap_err().to_string();
    assert!(err.contains("--cv-number 6"), "{err}");
}

#[test]
fn folds_are_derived_for_other_datasets_and_deterministic() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    let ix = load(d.path()).unwrap();
    let a = Folds::new(&ix, 7);
    assert_eq!(a, Folds::new(&ix, 7));
    assert_eq!(a.labelled, ["A-01", "A-02", "B-01"]);
    // 2 A experiments listed 3 times, 1 B experiment 6 times: every fold gets one of each.
    for f in &a.folds {
        assert_eq!(f.iter().filter(|e| e.starts_with("A-")).count(), 1, "{f:?}");
        assert_eq!(f.iter().filter(|e| e.starts_with("B-")).count(), 1, "{f:?}");
    }
}

fn problems_of(err: rcic_core::CoreError) -> Vec<(String, Option<usize>, String)> {
    err.problems()
        .into_iter()
        .map(|(p, l, m)| (p.file_name().unwrap().to_string_lossy().into_owned(), l, m))
        .collect()
}

#[test]
fn missing_file_and_missing_column_are_named() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    std::fs::remove_file(d.path().join("test_controls.csv")).unwrap();
    let err = load(d.path()).unwrap_err().to_string();
    assert!(
        err.contains("test_controls.csv") && err.contains("missing"),
        "{err}"
    );

    common::small(d.path());
    common::edit(
        &d.path().join("train.csv"),
        "id_code,experiment,plate,well,sirna",
        "id_code,experiment,plate,well,target",
    );
    let err = load(d.path()).unwrap_err().to_string();
    assert!(
        err.contains("train.csv") && err.contains("missing column(s) sirna"),
        "{err}"
    );
}

#[test]
fn bad_rows_are_all_reported_with_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    let train = d.path().join("train.csv");
    let lines: Vec<String> = std::fs::read_to_string(&train)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut bad = lines.clone();
    bad[1] = bad[1].replacen("A-01_1_", "A-01-1-", 1); // malformed id_code (line 2)
    bad[2] = bad[2].replacen("A-01_1_", "A-01_2_", 1); // id_code disagrees with plate (line 3)
    let last = bad.len() - 1;
    bad[last] = format!("{},x", bad[last]); // wrong field count
    bad[4] = bad[4]
        .rsplit_once(',')
        .map(|(a, _)| format!("{a},abc"))
        .unwrap(); // sirna not a number (line 5)
    std::fs::write(&train, bad.join("\n") + "\n").unwrap();
    let problems = problems_of(load(d.path()).unwrap_err());
    let lines_hit: Vec<Option<usize>> = problems.iter().map(|p| p.1).collect();
    assert!(problems.iter().all(|p| p.0 == "train.csv"), "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.1 == Some(2) && p.2.contains("expected EXPERIMENT_PLATE_WELL")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.1 == Some(3) && p.2.contains("disagrees")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.1 == Some(5) && p.2.contains("sirna \"abc\"")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.1 == Some(last + 1) && p.2.contains("expected 5 fields")),
        "{problems:?}"
    );
    assert_eq!(lines_hit.len(), 4);
}

#[test]
fn problems_are_collected_up_to_the_limit() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    let train = d.path().join("train.csv");
    let text = std::fs::read_to_string(&train)
        .unwrap()
        .replace(",A-0", ",Z-0");
    std::fs::write(&train, text).unwrap();
    let opts = IndexOptions {
        max_problems: 3,
        ..Default::default()
    };
    let err = DatasetIndex::load(d.path(), &opts).unwrap_err();
    assert_eq!(err.problems().len(), 3);
    assert!(err.to_string().contains("more problem(s)"), "{err}");
}

#[test]
fn duplicate_well_is_named_with_both_places() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    let train = d.path().join("train.csv");
    let first = std::fs::read_to_string(&train)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let mut s = std::fs::read_to_string(&train).unwrap();
    s.push_str(&first);
    s.push('\n');
    std::fs::write(&train, s).unwrap();
    let problems = problems_of(load(d.path()).unwrap_err());
    assert!(
        problems[0].2.contains("duplicate well A-01_1_") && problems[0].2.contains("train.csv:2"),
        "{problems:?}"
    );
}

#[test]
fn sirna_out_of_range_is_refused() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    // A control class in train.csv.
    let train = d.path().join("train.csv");
    let line = std::fs::read_to_string(&train)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let (head, _) = line.rsplit_once(',').unwrap();
    common::edit(&train, &line, &format!("{head},9"));
    let problems = problems_of(load(d.path()).unwrap_err());
    assert!(
        problems
            .iter()
            .any(|p| p.1 == Some(2) && p.2.contains("is a control class")),
        "{problems:?}"
    );
    // Above --classes.
    common::small(d.path());
    let opts = IndexOptions {
        classes: Some(9),
        ..Default::default()
    };
    let problems = problems_of(DatasetIndex::load(d.path(), &opts).unwrap_err());
    assert!(
        problems
            .iter()
            .any(|p| p.0.ends_with("controls.csv") && p.2.contains("sirna 9 out of range")),
        "{problems:?}"
    );
}

#[test]
fn a_plate_spanning_two_groups_is_refused() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    // A-02 plate 1 holds group {1, 4}, plate 2 group {2, 7}: move siRNA 2
    // from plate 2 to plate 1, in place of its 1.
    let train = d.path().join("train.csv");
    let text = std::fs::read_to_string(&train).unwrap();
    let two = text
        .lines()
        .find(|l| l.starts_with("A-02_2_") && l.ends_with(",2"))
        .unwrap()
        .to_string();
    let one = text
        .lines()
        .find(|l| l.starts_with("A-02_1_") && l.ends_with(",1"))
        .unwrap()
        .to_string();
    common::edit(&train, &format!("{two}\n"), "");
    common::edit(&train, &one, &format!("{},2", one.trim_end_matches(",1")));
    let err = load(d.path()).unwrap_err().to_string();
    assert!(
        err.contains("A-02 plate 1") && err.contains("span 2 plate groups"),
        "{err}"
    );
}

#[test]
fn plates_of_an_experiment_sharing_treatments_are_refused() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    // A-01 plate 2 (group {1,4}) gets siRNA 0 of plate 1's group: groups not disjoint.
    let train = d.path().join("train.csv");
    let text = std::fs::read_to_string(&train).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("A-01_2_") && l.ends_with(",4"))
        .unwrap()
        .to_string();
    common::edit(&train, &line, &format!("{},0", line.trim_end_matches(",4")));
    let err = load(d.path()).unwrap_err().to_string();
    assert!(
        err.contains("A-01: plates 1 and 2 share 1 treatment"),
        "{err}"
    );
}

#[test]
fn pixel_stats_are_pooled_per_experiment_and_checked() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    let mut s =
        String::from("id_code,experiment,plate,well,site,channel,mean,std,median,min,max\n");
    s.push_str("A-01_1_B02,A-01,1,B02,1,1,10,2,10,0,30\n");
    s.push_str("A-01_1_B02,A-01,1,B02,2,1,20,2,20,0,40\n");
    std::fs::write(d.path().join("pixel_stats.csv"), &s).unwrap();
    let ix = load(d.path()).unwrap();
    let st = &ix.pixel_stats.as_ref().unwrap().experiments["A-01"];
    assert!((st.mean[0] - 15.0).abs() < 1e-9);
    assert!(
        (st.std[0] - (4.0f64 + 25.0).sqrt()).abs() < 1e-9,
        "pooled std {}",
        st.std[0]
    );
    s.push_str("A-01_1_B03,A-01,1,B03,1,7,10,2,10,0,30\n");
    std::fs::write(d.path().join("pixel_stats.csv"), &s).unwrap();
    let problems = problems_of(load(d.path()).unwrap_err());
    assert_eq!(problems[0].0, "pixel_stats.csv");
    assert_eq!(problems[0].1, Some(4));
}

#[test]
fn a_stray_plate_number_is_named_with_its_row() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    // Move train.csv's first well to plate 9 (its id_code too).
    let train = d.path().join("train.csv");
    let line = std::fs::read_to_string(&train)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let f: Vec<&str> = line.split(',').collect();
    let moved = format!(
        "{}_9_{},{},9,{},{}",
        f[1],
        f[3],
        f[1],
        f[3],
        f[4..].join(",")
    );
    common::edit(&train, &line, &moved);
    let problems = problems_of(load(d.path()).unwrap_err());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].0.ends_with("train.csv")
            && problems[0].1 == Some(2)
            && problems[0].2.contains("plate 9 of experiment A-01")
            && problems[0].2.contains("expected a plate 1..4"),
        "{problems:?}"
    );
}

#[test]
fn classes_zero_is_an_error_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    common::small(d.path());
    let opts = IndexOptions {
        classes: Some(0),
        ..Default::default()
    };
    let problems = problems_of(DatasetIndex::load(d.path(), &opts).unwrap_err());
    assert!(
        problems.iter().any(|p| p.2.contains("--classes 0")),
        "{problems:?}"
    );
}
