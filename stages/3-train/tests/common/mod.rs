//! Shared fixture of the end-to-end tests: the tiny synthetic dataset and
//! its preprocess artifact, made once per test binary with the stage
//! binaries next to this one in the target folder, and `rcic-train` runs on
//! it with the tiny model's flags.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().and_then(|d| d.parent()).unwrap().join(name);
    assert!(
        p.exists(),
        "{} is not built: cargo build -p rcic-synth -p rcic-preprocess --bins",
        p.display()
    );
    p
}

fn run_ok(name: &str, args: &[&str]) {
    let o = Command::new(bin(name)).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{name} {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Fixture {
    pub fn p(&self, rel: &str) -> String {
        self.root.join(rel).to_string_lossy().into_owned()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }
}

/// The tiny preset (seed 0) and its preprocess artifact.
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
        Fixture { _dir: dir, root }
    })
}

/// The tiny model's flags; a flag given in `extra` replaces its default here.
const BASE: &[(&str, Option<&str>)] = &[
    ("--backbone", Some("densenet-tiny")),
    ("--classes", Some("36")),
    ("--embedding-size", Some("32")),
    ("-e", Some("1")),
    ("--seed", Some("0")),
    ("--threads", Some("1")),
    ("-q", None),
];

/// rcic-train on the fixture with `--save ROOT/save` (when `save` is not
/// empty), the tiny model's flags and `extra`.
pub fn train(f: &Fixture, save: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "--data".to_string(),
        f.p("tiny"),
        "--store".into(),
        f.p("art"),
    ];
    if !save.is_empty() {
        args.extend(["--save".to_string(), f.p(save)]);
    }
    for (flag, value) in BASE {
        if !extra.contains(flag) {
            args.push(flag.to_string());
            args.extend(value.map(str::to_string));
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(env!("CARGO_BIN_EXE_rcic-train"))
        .args(&args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn assert_ok(o: &Output) {
    assert!(o.status.success(), "rcic-train failed:\n{}", stderr(o));
}

/// Fails with exit status 1 or 2 (clap), an `error:` line and no panic;
/// only warnings (`TIMESTAMP warning: ...`, on stderr even with `-q`) come
/// before the error.
pub fn assert_fails_cleanly(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(
        matches!(o.status.code(), Some(1 | 2)),
        "{what}: expected a clean failure, got {:?}:\n{err}",
        o.status
    );
    let (before, error) = err.split_at(err.find("error: ").unwrap_or(err.len()));
    let warning = |l: &str| {
        l.split_once(' ')
            .is_some_and(|(_, m)| m.starts_with("warning: "))
    };
    assert!(
        error.starts_with("error: ") && before.lines().all(warning),
        "{what}: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
}

pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
