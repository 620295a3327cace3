//! Test helpers shared by every crate's tests and the end-to-end tests,
//! kept out of the product's libraries (a dev-dependency only; they panic,
//! as test helpers may):
//!
//! - [`bin`], [`run`], [`run_ok`]: the stage binaries next to the running
//!   test in cargo's target folder;
//! - [`tiny`]: the tiny synthetic dataset and its preprocess artifact, made
//!   once per test binary, and a tiny model through train, export, predict;
//! - [`csv_sets`]: small hand-made Kaggle-layout CSV sets;
//! - [`progress`]: the stages' plain progress lines in a pipe.

pub mod csv_sets;
pub mod progress;
pub mod tiny;

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

/// Runs a binary of the workspace.
pub fn run(name: &str, args: &[&str]) -> Output {
    Command::new(bin(name))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("spawn")
}

/// Runs a binary; panics with its stderr when it fails.
pub fn run_ok(name: &str, args: &[&str]) -> Output {
    let out = run(name, args);
    assert!(
        out.status.success(),
        "{name} {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Its stdout, trimmed.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Its stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The repository root (found from the running test's crate folder, read
/// at run time: cargo may reuse a test binary built in another checkout).
pub fn repo() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    rcic_build::repo_root(&manifest).expect("the repository root (a folder with requirements.txt)")
}

/// The project venv's python (test oracles, benchmark peers).
pub fn python() -> PathBuf {
    repo().join(".venv/bin/python")
}

/// The ONNX Runtime library: ORT_DYLIB_PATH (set by the Makefile), else
/// the project venv's, of the version requirements.txt pins.
pub fn onnxruntime_library() -> String {
    std::env::var("ORT_DYLIB_PATH")
        .ok()
        .filter(|p| std::path::Path::new(p).exists())
        .or_else(|| rcic_build::venv_onnxruntime(&repo()).map(|p| p.to_string_lossy().into_owned()))
        .expect("libonnxruntime not found: run `make deps` (or set ORT_DYLIB_PATH)")
}
