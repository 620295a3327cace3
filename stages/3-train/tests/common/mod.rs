//! Shared by the end-to-end tests: `rcic-train` runs with the tiny model's
//! flags on rcic-testkit's tiny dataset and its preprocess artifact (made
//! once per test binary).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub use rcic_testkit::tiny::{fixture, Fixture};

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
    Command::new(env!("CARGO_BIN_EXE_rcic-train"))
        .args(args(f, save, extra))
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

/// The arguments of [`train`].
pub fn args(f: &Fixture, save: &str, extra: &[&str]) -> Vec<String> {
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
    args
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
