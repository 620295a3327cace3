//! `make submission` estimates what the run will write and checks it
//! against the free disk space before any heavy work (scripts/disk_check.py):
//! the estimate is printed in any case, and too little space stops the run
//! with one message before data generation, preprocessing or training.
//! RCIC_FREE_BYTES stands in for the free space the file systems report.

use std::path::Path;
use std::process::{Command, Output};

use rcic_testkit::{bin, run_ok};

fn make(dir: &Path, goal: &str, free: &str, extra: &[&str]) -> (Output, String) {
    let bin_dir = bin("rcic-artifact").parent().unwrap().to_path_buf();
    let p = |s: &str| dir.join(s).display().to_string();
    let out = Command::new("make")
        .current_dir(rcic_testkit::repo())
        .env("RCIC_FREE_BYTES", free)
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
        .arg(format!("OUT={}", p("submission.csv")))
        .args(extra)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out, text)
}

#[test]
fn too_little_free_space_stops_before_any_work() {
    let d = tempfile::tempdir().unwrap();
    let tiny = d.path().join("tiny");
    let data = format!("DATA={}", tiny.display());
    let truth = format!("TRUTH={}/tiny-truth/test_truth.csv", d.path().display());

    // Generated data: nothing is generated when the space is short.
    let (out, text) = make(d.path(), "submission", "1000", &[&data, "GENERATE=yes"]);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stops: Vec<_> = stderr.lines().filter(|l| l.starts_with("disk:")).collect();
    assert_eq!(stops.len(), 1, "one message: {stderr}");
    assert!(
        stops[0].contains("not enough free space")
            && stops[0].contains("1000 bytes free")
            && stops[0].contains("DISK_CHECK=0"),
        "{stderr}"
    );
    assert!(
        text.contains("disk: this run writes at most")
            && text.contains("generated data")
            && text.contains("768 sites")
            && text.contains("densenet-tiny, 30 epochs, keep all"),
        "{text}"
    );
    assert!(!tiny.exists(), "no data generated");
    assert!(!d.path().join("store/preprocess").exists() && !d.path().join("store/models").exists());

    // Given data: no preprocessing, no training.
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "tiny",
            "--out",
            tiny.to_str().unwrap(),
            "--threads",
            "1",
            "-q",
        ],
    );
    let (out, text) = make(d.path(), "submission", "1000", &[&data, &truth]);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("preprocess artifact") && text.contains("768 sites x 6 x 32^2 bytes"),
        "{text}"
    );
    assert!(!d.path().join("store/preprocess").exists() && !d.path().join("store/models").exists());

    // DISK_CHECK=0 skips the check; with room the estimate is printed and
    // the work goes on.
    let (out, text) = make(
        d.path(),
        "preprocess",
        "1000",
        &[&data, &truth, "DISK_CHECK=0"],
    );
    assert!(out.status.success() && !text.contains("disk:"), "{text}");
    let (out, text) = make(d.path(), "preprocess", "1000000000000", &[&data, &truth]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("disk: this run writes at most")
            && text.contains("preprocess artifact reused"),
        "{text}"
    );
    assert!(d.path().join("store/preprocess").is_dir());
}
