//! The command line: a missing DIR is an error naming it (unless
//! --missing-ok), and an I/O error's cause is said once.

use std::process::{Command, Output};

fn artifact(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcic-artifact"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn check_of_a_missing_folder_is_an_error_unless_allowed() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nonexistent");
    let m = missing.to_str().unwrap();
    let o = artifact(&["check", m]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains(m) && err.contains("no such folder"), "{err}");
    // Nothing is checked when one of several folders is missing.
    let present = d.path().join("present");
    std::fs::create_dir(&present).unwrap();
    std::fs::write(present.join("x.blake3"), "not a seal\n").unwrap();
    let o = artifact(&["check", present.to_str().unwrap(), m]);
    assert!(!o.status.success());
    assert!(present.join("x.blake3").exists());
    let o = artifact(&["check", "--missing-ok", m]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_missing_file_to_seal_is_named_once() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("model");
    let o = artifact(&["seal", f.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains(f.to_str().unwrap()), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
