//! Options and outputs refused before any work, with nothing written: -o
//! equal to an input, a folder, or below a file; report files published
//! only with the submission; --sinkhorn bounded; weights finite and > 0;
//! a prediction file given twice; an error's cause said once.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const CLASSES: usize = 1139;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A temporary folder with one prediction file `p.parquet`.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.parquet");
    write_parquet(&p, &rows(synth(), 9, 1.0, CLASSES, false), CLASSES);
    (dir, p)
}

fn fails(args: &[&str]) -> String {
    let mut a = vec!["--data", ps(&synth().root)];
    a.extend(args);
    let out = ensemble(&a);
    assert!(!out.status.success(), "{a:?} unexpectedly succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn output_equal_to_an_input_is_refused() {
    let (dir, p) = setup();
    let before = std::fs::read(&p).unwrap();
    let alias = dir.path().join("x/../p.parquet");
    for out in [&p, &alias] {
        let err = fails(&["-o", ps(out), ps(&p)]);
        assert!(
            err.contains("-o") && err.contains("is the input PRED"),
            "{err}"
        );
    }
    let truth = ps(&synth().truth);
    let err = fails(&["--truth", truth, "-o", truth, ps(&p)]);
    assert!(
        err.contains("is the input --truth") && err.contains("the output would overwrite it"),
        "{err}"
    );
    let csv = synth().root.join("train.csv");
    let err = fails(&["-o", ps(&csv), ps(&p)]);
    assert!(err.contains("is the input --data"), "{err}");
    let err = fails(&["-o", ps(&dir.path().join("report.json")), ps(&p)]);
    assert!(err.contains("report.json is written beside it"), "{err}");
    assert_eq!(std::fs::read(&p).unwrap(), before);
    assert_eq!(names(dir.path()), vec!["p.parquet"]);
}

#[test]
fn output_folder_or_file_parent_is_refused_and_nothing_is_written() {
    let (dir, p) = setup();
    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    let err = fails(&["-o", ps(&taken), ps(&p)]);
    assert!(
        err.contains("is a folder; expected the path of a file to write"),
        "{err}"
    );
    let err = fails(&["-o", ps(&p.join("sub.csv")), ps(&p)]);
    assert!(
        err.contains(&format!("{} is not a directory", p.display()))
            && !err.contains("File exists"),
        "{err}"
    );
    // A report name taken by a folder: the rename would fail after the run.
    std::fs::create_dir(taken.join("report.md")).unwrap();
    let err = fails(&["-o", ps(&taken.join("sub.csv")), ps(&p)]);
    assert!(
        err.contains("(its report.md, written beside it) is a folder"),
        "{err}"
    );
    assert_eq!(names(dir.path()), vec!["p.parquet", "taken"]);
    assert_eq!(names(&taken), vec!["report.md"]);
}

#[test]
fn sinkhorn_weights_and_duplicate_files_are_checked() {
    let (dir, p) = setup();
    let out = dir.path().join("out/sub.csv");
    let o = ps(&out);
    let err = fails(&["-o", o, "--sinkhorn", "100000000", ps(&p)]);
    assert!(
        err.contains("--sinkhorn 100000000") && err.contains("10000"),
        "{err}"
    );
    for w in ["--weights=-1", "--weights=0", "--weights=nan"] {
        let err = fails(&["-o", o, w, ps(&p)]);
        assert!(
            err.contains("--weights") && err.contains("> 0"),
            "{w}: {err}"
        );
    }
    let again = dir.path().join("./p.parquet");
    let err = fails(&["-o", o, ps(&p), ps(&again)]);
    assert!(
        err.contains("given twice") && err.contains("p.parquet"),
        "{err}"
    );
    assert_eq!(names(dir.path()), vec!["p.parquet"]);
}

#[test]
fn a_missing_input_is_reported_once() {
    let (dir, p) = setup();
    let missing = dir.path().join("missing.parquet");
    let err = fails(&["-o", ps(&dir.path().join("s.csv")), ps(&p), ps(&missing)]);
    assert!(err.contains("missing.parquet"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
