//! `make plan` says what `make submission` would run and why, running
//! nothing; `make clean-store` lists the store entries no output refers to
//! and removes them only with DELETE=1.

use std::path::Path;
use std::process::Command;

use rcic_testkit::{bin, run_ok};

fn make(dir: &Path, goal: &str, extra: &[&str]) -> String {
    let bin_dir = bin("rcic-artifact").parent().unwrap().to_path_buf();
    let p = |s: &str| dir.join(s).display().to_string();
    let out = Command::new("make")
        .current_dir(rcic_testkit::repo())
        .args([
            "--no-print-directory",
            goal,
            "PRESET=tiny",
            "SEEDS=0,1",
            "NOBUILD=1",
            "THREADS=1",
            "JOBS=1",
        ])
        .arg(format!("BIN={}", bin_dir.display()))
        .arg(format!("STORE={}", p("store")))
        .arg(format!("DATA={}", p("tiny")))
        .arg(format!("TRUTH={}", p("tiny-truth/test_truth.csv")))
        .arg(format!("OUT={}", p("submission.csv")))
        .args(extra)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "make {goal}: {text}");
    text
}

#[test]
fn plan_tells_what_would_run_and_clean_store_what_is_unused() {
    let d = tempfile::tempdir().unwrap();
    let tiny = d.path().join("tiny");
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "tiny",
            "--out",
            tiny.to_str().unwrap(),
            "--seed",
            "0",
            "--threads",
            "1",
        ],
    );
    let e1 = "TRAIN_FLAGS=-e 1";
    let plan = make(d.path(), "plan", &[e1]);
    assert!(
        plan.contains("would run: rcic-preprocess")
            && plan.contains("would run: rcic-train seed 1"),
        "{plan}"
    );
    assert!(!d.path().join("store/models").exists(), "plan ran nothing");
    make(d.path(), "submission", &[e1]);
    assert!(make(d.path(), "plan", &[e1]).contains("plan: everything is up to date"));

    let plan = make(d.path(), "plan", &["TRAIN_FLAGS=-e 2"]);
    assert!(
        plan.contains("would run: rcic-train seed 0")
            && plan.contains("train: its parameters changed"),
        "{plan}"
    );
    std::fs::remove_file(d.path().join("store/models/tiny/seed1/predictions.parquet")).unwrap();
    let plan = make(d.path(), "plan", &[e1]);
    assert!(
        !plan.contains("rcic-train") && plan.contains("would run: rcic-predict seed 1"),
        "{plan}"
    );
    assert!(
        plan.contains("predictions.parquet is missing or changed"),
        "{plan}"
    );

    assert!(make(d.path(), "clean-store", &[]).contains("every entry"));
    let unused = run_ok(
        "rcic-preprocess",
        &[
            "--data",
            tiny.to_str().unwrap(),
            "--store",
            d.path().join("store").to_str().unwrap(),
            "--image-size",
            "16",
            "-q",
            "--threads",
            "1",
        ],
    );
    let unused = String::from_utf8_lossy(&unused.stdout).trim().to_string();
    let listed = make(d.path(), "clean-store", &[]);
    assert!(
        listed.contains(&unused) && listed.contains("nothing removed"),
        "{listed}"
    );
    assert!(Path::new(&unused).exists());
    make(d.path(), "clean-store", &["DELETE=1"]);
    assert!(!Path::new(&unused).exists());
    assert!(
        make(d.path(), "plan", &[e1]).contains("would run: rcic-predict seed 1"),
        "the artifact in use was kept"
    );
}
