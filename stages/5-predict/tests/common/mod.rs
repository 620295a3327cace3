//! Shared fixture of the predict tests: the tiny synthetic dataset, its
//! preprocess artifact, a densenet-tiny checkpoint trained one epoch, and
//! its ONNX exports (plain and with 8 TTA variants inside), built once per
//! test binary with the stage binaries next to this one in the target folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const ALIAS: &str = "HUVEC-04=HEPG2-02:1";

pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().and_then(|d| d.parent()).unwrap().join(name);
    assert!(p.exists(), "{} is not built: cargo build -p rcic-synth -p rcic-preprocess -p rcic-train -p rcic-export --bins", p.display());
    p
}

pub fn run(name: &str, args: &[&str]) -> Output {
    let exe = if name == "rcic-predict" {
        PathBuf::from(env!("CARGO_BIN_EXE_rcic-predict"))
    } else {
        bin(name)
    };
    Command::new(exe).args(args).output().unwrap()
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
        run_ok(
            "rcic-synth",
            &[
                "--preset",
                "tiny",
                "--out",
                &s("tiny"),
                "--seed",
                "0",
                "--threads",
                "1",
            ],
        );
        run_ok(
            "rcic-preprocess",
            &[
                "--data",
                &s("tiny"),
                "--store",
                &s("art"),
                "-q",
                "--threads",
                "1",
            ],
        );
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
