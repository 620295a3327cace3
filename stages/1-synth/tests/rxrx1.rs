//! The `rxrx1` preset without images: the full 51-experiment structure and
//! the real alias, and subsets equal to the same experiments of a full run.

mod common;

use std::collections::BTreeSet;

use common::*;

#[test]
fn rxrx1_full_structure_without_images() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("rxrx1");
    synth(&[
        "--preset",
        "rxrx1",
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        "11",
        "--no-images",
    ]);
    let d = Dataset::load(&dir, &root.path().join("rxrx1-truth"));
    d.check_structure();
    assert_eq!((d.treatments(), d.controls()), (1108, 31));
    let train: BTreeSet<&str> = d.train.iter().map(|r| r.experiment.as_str()).collect();
    let test: BTreeSet<&str> = d.test.iter().map(|r| r.experiment.as_str()).collect();
    assert_eq!((train.len(), test.len()), (33, 18));
    let count =
        |s: &BTreeSet<&str>, c: &str| s.iter().filter(|e| e.starts_with(&format!("{c}-"))).count();
    assert_eq!(
        ["HEPG2", "HUVEC", "RPE", "U2OS"].map(|c| count(&train, c)),
        [7, 16, 7, 3]
    );
    assert_eq!(
        ["HEPG2", "HUVEC", "RPE", "U2OS"].map(|c| count(&test, c)),
        [4, 8, 4, 2]
    );
    assert!(train.contains("U2OS-03") && test.contains("HUVEC-24") && test.contains("U2OS-05"));
    assert_eq!(d.train.len(), 33 * 1108);
    assert_eq!(d.train_controls.len(), 33 * 4 * 31);
    let a = &d.truth["aliases"][0];
    assert_eq!(
        (
            a["target"].as_str(),
            a["source"].as_str(),
            a["shift"].as_i64()
        ),
        (Some("HUVEC-18"), Some("RPE-03"), Some(1))
    );
    // The CSV-only dataset has no image folders and no pixel_stats.csv.
    let names: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "test.csv",
            "test_controls.csv",
            "train.csv",
            "train_controls.csv"
        ]
        .map(String::from)
        .into()
    );

    // A subset is exactly the same experiments of the full dataset, and the
    // alias target keeps its layout even without its source.
    let sub = root.path().join("sub");
    synth(&[
        "--preset",
        "rxrx1",
        "--out",
        sub.to_str().unwrap(),
        "--seed",
        "11",
        "--no-images",
        "--experiments",
        "HUVEC-18,U2OS-02",
    ]);
    let s = Dataset::load(&sub, &root.path().join("sub-truth"));
    s.check_structure();
    assert!(s.truth["aliases"].as_array().unwrap().is_empty());
    let full = d.plates();
    for (e, plates) in s.plates() {
        assert_eq!(plates, full[&e], "{e}");
    }
    assert_eq!(s.plates().len(), 2);
}
