//! What every stage's progress line looks like in a pipe, checked once for
//! the tests of preprocess, train and predict: plain timestamped lines
//! `LABEL: pos/total UNIT (pct%), rate UNIT/s, eta ...`, the last at 100%
//! said once, and no terminal redrawing; and the run that yields them.

use std::process::Command;

/// Runs a stage with progress lines every tick (`RCIC_PROGRESS_SECS=0`)
/// and stderr a pipe, with `-q` added when `quiet`; asserts it succeeded
/// and returns its stderr.
pub fn stderr_of(mut cmd: Command, quiet: bool) -> String {
    cmd.env("RCIC_PROGRESS_SECS", "0");
    if quiet {
        cmd.arg("-q");
    }
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

/// Checks the plain progress lines labelled `label` in `stderr` and
/// returns them; panics with the whole stderr when they are wrong.
pub fn plain_lines<'a>(stderr: &'a str, label: &str, unit: &str) -> Vec<&'a str> {
    let tag = format!(" {label}: ");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(&tag)).collect();
    let last = lines
        .last()
        .unwrap_or_else(|| panic!("no {label:?} progress line in:\n{stderr}"));
    for part in [format!(" {unit} (100%), "), format!(" {unit}/s, eta ")] {
        assert!(last.contains(&part), "{part:?} missing from {last}");
    }
    let ends = lines.iter().filter(|l| l.contains("(100%)")).count();
    assert_eq!(ends, 1, "the end said {ends} times:\n{stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "redrawing in a pipe: {stderr:?}"
    );
    lines
}
