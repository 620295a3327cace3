//! Shared fixture of the predict tests: the tiny synthetic dataset, its
//! preprocess artifact, a densenet-tiny checkpoint trained one epoch, and
//! its ONNX exports (plain and with 8 TTA variants inside), built once per
//! test binary with the stage binaries next to this one in the target folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub use rcic_testkit::tiny::ALIAS;

/// Runs a binary: this crate's own rcic-predict, or another of the workspace.
pub fn run(name: &str, args: &[&str]) -> Output {
    if name == "rcic-predict" {
        let exe = PathBuf::from(env!("CARGO_BIN_EXE_rcic-predict"));
        return Command::new(exe).args(args).output().unwrap();
    }
    rcic_testkit::run(name, args)
}

pub fn run_ok(name: &str, args: &[&str]) -> String {
    let o = run(name, args);
    assert!(
        o.status.success(),
        "{name} {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Fixture {
    pub fn p(&self, rel: &str) -> String {
        self.root.join(rel).to_string_lossy().into_owned()
    }

    /// rcic-predict with the fixture's data and store plus `extra`.
    pub fn predict(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "--data".to_string(),
            self.p("tiny"),
            "--alias".into(),
            ALIAS.into(),
            "--threads".into(),
            "1".into(),
            "-q".into(),
        ];
        if !extra.contains(&"--store") {
            args.extend(["--store".to_string(), self.p("art")]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run("rcic-predict", &refs)
    }

    pub fn predict_ok(&self, extra: &[&str]) -> String {
        let o = self.predict(extra);
        assert!(
            o.status.success(),
            "rcic-predict {extra:?} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let s = |p: &str| root.join(p).to_string_lossy().into_owned();
        rcic_testkit::tiny::generate(&s("tiny"));
        rcic_testkit::tiny::preprocess(&s("tiny"), &s("art"));
        run_ok(
            "rcic-train",
            &[
                "--data",
                &s("tiny"),
                "--store",
                &s("art"),
                "--save",
                &s("ck/m"),
                "--backbone",
                "densenet-tiny",
                "--alias",
                ALIAS,
                "--seed",
                "1",
                "--threads",
                "1",
                "--classes",
                "36",
                "--embedding-size",
                "64",
                "-e",
                "1",
                "-q",
            ],
        );
        run_ok("rcic-export", &["--load", &s("ck/m"), "-o", &s("m.onnx")]);
        run_ok(
            "rcic-export",
            &[
                "--load",
                &s("ck/m"),
                "-o",
                &s("m8.onnx"),
                "--tta",
                "8",
                "--tta-size",
                "0.75",
                "--image-size",
                "32",
            ],
        );
        run_ok(
            "rcic-export",
            &[
                "--load",
                &s("ck/m"),
                "-o",
                &s("m64.onnx"),
                "--image-size",
                "64",
            ],
        );
        Fixture { _dir: dir, root }
    })
}

pub fn read(path: &Path) -> rcic_predict::output::Predictions {
    rcic_predict::output::Predictions::read(path).unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
