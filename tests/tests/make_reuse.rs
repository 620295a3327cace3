//! `make submission` reuses what it made: a second run recomputes nothing,
//! new ensemble weights rerun only the ensemble, a new seed trains only that
//! seed, and a corrupted or deleted output is recomputed with exactly what
//! depends on it. Runs the repository's Makefile on the tiny preset in a
//! temporary store with the binaries this test was built with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use rcic_testkit::{bin, run_ok};

struct Pipeline {
    repo: PathBuf,
    dir: tempfile::TempDir,
}

impl Pipeline {
    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Runs `make GOAL VARS...` and returns its stdout + stderr.
    fn make(&self, goal: &str, vars: &[&str]) -> String {
        let p = |s: &str| self.dir.path().join(s).to_str().unwrap().to_owned();
        let bin_dir = bin("rcic-artifact").parent().unwrap().to_path_buf();
        let mut cmd = Command::new("make");
        cmd.current_dir(&self.repo)
            .arg("--no-print-directory")
            .arg(goal)
            .arg("PRESET=tiny")
            .arg(format!("BIN={}", bin_dir.display()))
            .arg("NOBUILD=1")
            .arg(format!("STORE={}", p("store")))
            .arg(format!("DATA={}", p("tiny")))
            .arg(format!("TRUTH={}", p("tiny-truth/test_truth.csv")))
            .arg(format!("OUT={}", p("submission.csv")))
            .arg("THREADS=1")
            // Adds to presets/tiny.toml's [train]: one epoch.
            .arg("TRAIN_FLAGS=-e 1")
            .args(vars);
        let out = cmd.output().expect("run make");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "make {goal} {vars:?} failed:\n{text}");
        text
    }

    /// Modification time of every stage output under the store's models.
    fn outputs(&self) -> BTreeMap<String, SystemTime> {
        let root = self.store().join("models/tiny");
        let mut out = BTreeMap::new();
        walk(&root, &root, &mut out);
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, SystemTime>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, out);
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let primary = [
            "model",
            "model.onnx",
            "predictions.parquet",
            "submission.csv",
        ];
        if primary.contains(&name.as_str()) {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, std::fs::metadata(&p).unwrap().modified().unwrap());
        }
    }
}

/// Outputs that are new or whose modification time changed.
fn changed(
    before: &BTreeMap<String, SystemTime>,
    after: &BTreeMap<String, SystemTime>,
) -> BTreeSet<String> {
    after
        .iter()
        .filter(|(k, t)| before.get(*k) != Some(t))
        .map(|(k, _)| k.clone())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn make_submission_reuses_and_recomputes_exactly_what_changed() {
    let pl = Pipeline {
        repo: rcic_testkit::repo(),
        dir: tempfile::tempdir().unwrap(),
    };
    let tiny = pl.dir.path().join("tiny");
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

    let first = pl.make("submission", &["SEEDS=0,1"]);
    assert!(first.contains("rcic-train"), "{first}");
    let s0 = pl.outputs();
    assert_eq!(
        s0.keys().cloned().collect::<BTreeSet<_>>(),
        set(&[
            "seed0/model",
            "seed0/model.onnx",
            "seed0/predictions.parquet",
            "seed1/model",
            "seed1/model.onnx",
            "seed1/predictions.parquet",
            "submission-0-1/submission.csv",
        ])
    );
    let csv = std::fs::read_to_string(pl.dir.path().join("submission.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("id_code,sirna"));
    // The training stamp is the resolved configuration: the preset's entries
    // with TRAIN_FLAGS over them.
    let stamp = std::fs::read_to_string(pl.store().join("models/tiny/config/train")).unwrap();
    for entry in [
        "[train]",
        "backbone = \"densenet-tiny\"",
        "classes = \"36\"",
        "epochs = \"1\"",
        "cv-number = \"0\"",
    ] {
        assert!(stamp.contains(entry), "{entry} not in the stamp:\n{stamp}");
    }

    // A second run recomputes nothing (its time is printed, not asserted).
    let t = Instant::now();
    let second = pl.make("submission", &["SEEDS=0,1"]);
    eprintln!("second make submission: {:.2} s", t.elapsed().as_secs_f64());
    for stage in ["rcic-train", "rcic-export", "rcic-predict", "rcic-ensemble"] {
        assert!(!second.contains(stage), "second run ran {stage}:\n{second}");
    }
    assert!(changed(&s0, &pl.outputs()).is_empty());

    // New ensemble weights: only the ensemble runs.
    let s1 = pl.outputs();
    pl.make("submission", &["SEEDS=0,1", "WEIGHTS=1,2"]);
    assert_eq!(
        changed(&s1, &pl.outputs()),
        set(&["submission-0-1/submission.csv"])
    );

    // A third seed: only seed 2 is trained, exported and predicted.
    let s2 = pl.outputs();
    let third = pl.make("submission", &["SEEDS=0,1,2"]);
    assert_eq!(third.matches("rcic-train ").count(), 1, "{third}");
    assert_eq!(
        changed(&s2, &pl.outputs()),
        set(&[
            "seed2/model",
            "seed2/model.onnx",
            "seed2/predictions.parquet",
            "submission-0-1-2/submission.csv",
        ])
    );

    // A corrupted export: that file and what depends on it, nothing else.
    let s3 = pl.outputs();
    let onnx = pl.store().join("models/tiny/seed0/model.onnx");
    let mut bytes = std::fs::read(&onnx).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&onnx, bytes).unwrap();
    let out = pl.make("submission", &["SEEDS=0,1,2"]);
    assert!(out.contains("content changed"), "{out}");
    assert_eq!(
        changed(&s3, &pl.outputs()),
        set(&[
            "seed0/model.onnx",
            "seed0/predictions.parquet",
            "submission-0-1-2/submission.csv"
        ])
    );

    // A deleted model: retrained, re-exported, re-predicted, re-ensembled.
    let s4 = pl.outputs();
    std::fs::remove_file(pl.store().join("models/tiny/seed1/model")).unwrap();
    pl.make("submission", &["SEEDS=0,1,2"]);
    assert_eq!(
        changed(&s4, &pl.outputs()),
        set(&[
            "seed1/model",
            "seed1/model.onnx",
            "seed1/predictions.parquet",
            "submission-0-1-2/submission.csv"
        ])
    );

    // A predict parameter (TTA): every seed's predictions and the ensemble.
    let s5 = pl.outputs();
    pl.make("submission", &["SEEDS=0,1,2", "TTA=1"]);
    assert_eq!(
        changed(&s5, &pl.outputs()),
        set(&[
            "seed0/predictions.parquet",
            "seed1/predictions.parquet",
            "seed2/predictions.parquet",
            "submission-0-1-2/submission.csv"
        ])
    );

    // Single stages print the path they produced or reused, on a line of
    // its own (the stages' log lines go to stderr beside it).
    let single = pl.make("predict", &["SEED=1"]);
    assert!(
        single
            .lines()
            .any(|l| !l.contains(' ') && l.ends_with("models/tiny/seed1/predictions.parquet")),
        "{single}"
    );
    let pre = pl.make("preprocess", &[]);
    assert!(pre.contains("/preprocess/"), "{pre}");
}
