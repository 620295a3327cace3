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

/// Preprocesses `data` into the store `store` (one thread, quiet).
pub fn preprocess(data: &str, store: &str) {
    run_ok(
        "rcic-preprocess",
        &["--data", data, "--store", store, "-q", "--threads", "1"],
    );
}

/// One tiny model through the chain: trains densenet-tiny (36 classes,
/// embedding 32) on `data` into `save` with `train_args` added, exports it
/// to `save.onnx` and predicts with `tta` variants into `save.pred`, which
/// it returns. `alias` is the tiny preset's layout alias.
pub fn tiny_model(
    data: &str,
    store: &str,
    save: &str,
    alias: &str,
    tta: &str,
    train_args: &[&str],
) -> String {
    let mut args = vec![
        "--data",
        data,
        "--store",
        store,
        "--save",
        save,
        "--backbone",
        "densenet-tiny",
        "--classes",
        "36",
        "--embedding-size",
        "32",
        "--threads",
        "1",
        "--alias",
        alias,
        "-q",
    ];
    args.extend_from_slice(train_args);
    run_ok("rcic-train", &args);
    let onnx = format!("{save}.onnx");
    let pred = format!("{save}.pred");
    run_ok("rcic-export", &["--load", save, "-o", &onnx]);
    run_ok(
        "rcic-predict",
        &[
            "--model",
            &onnx,
            "--data",
            data,
            "--store",
            store,
            "--tta",
            tta,
            "--alias",
            alias,
            "-o",
            &pred,
            "-q",
            "--threads",
            "1",
        ],
    );
    pred
}
