//! Helpers for the end-to-end tests in `tests/tests/`: they run the stage
//! binaries that `make build` puts in cargo's target folder.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Path of a workspace binary next to the running test executable
/// (`target/<profile>/deps/test-...` -> `target/<profile>/<name>`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is not built: run `make build` (cargo build --workspace --bins) first",
        p.display()
    );
    p
}

/// Runs a binary; panics with its stderr when it fails.
pub fn run_ok(name: &str, args: &[&str]) -> Output {
    let out = Command::new(bin(name)).args(args).output().expect("spawn");
    assert!(
        out.status.success(),
        "{name} {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
