//! `scripts/device-check.sh` is what a session lent a GPU machine runs, once,
//! with little device time: its CPU rehearsal here (same steps, densenet-tiny
//! at 64 px) must pass every step, report every figure and find the two
//! engines agreeing, so that the GPU run spends its minutes on the GPU.

use std::path::PathBuf;
use std::process::Command;

use rcic_testkit::bin;

use rcic_testkit::repo;

fn python() -> PathBuf {
    let repo = repo();
    let venv = std::env::var_os("VIRTUAL_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv"));
    venv.join("bin/python")
}

#[test]
fn device_check_rehearses_every_step_on_the_cpu() {
    let repo = repo();
    let dir = tempfile::tempdir().unwrap();
    // The binaries this test was built with, where the script looks for them.
    let bins = dir.path().join("bin");
    std::fs::create_dir(&bins).unwrap();
    for b in [
        "rcic-synth",
        "rcic-preprocess",
        "rcic-train",
        "rcic-export",
        "rcic-predict",
    ] {
        std::os::unix::fs::symlink(bin(b), bins.join(b)).unwrap();
    }
    let step_bench = bin("rcic-train")
        .parent()
        .unwrap()
        .join("examples/step_bench");
    assert!(
        step_bench.exists(),
        "{} is not built (cargo test builds examples)",
        step_bench.display()
    );
    std::os::unix::fs::symlink(&step_bench, bins.join("step_bench")).unwrap();
    let out_dir = dir.path().join("out");
    let out = Command::new(repo.join("scripts/device-check.sh"))
        .env("BIN", &bins)
        .env("OUT", &out_dir)
        .env("PYTHON", python())
        .env("DEVICE", "cpu")
        .env("SIZE", "64")
        .env("BACKBONE", "densenet-tiny")
        .env("BATCH", "16")
        .env("STEPS", "2")
        .env("DEADLINE", "600")
        .output()
        .expect("run scripts/device-check.sh");
    let report = std::fs::read_to_string(out_dir.join("device-check.txt")).unwrap_or_default();
    assert!(
        out.status.success(),
        "device-check failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for bad in ["FAIL", "SKIP"] {
        assert!(!report.contains(bad), "a step did not pass:\n{report}");
    }
    for want in [
        "train-tiny-fp32",
        "train-tiny-fp16",
        "train-tiny-bf16",
        "model step densenet-tiny@64 b16 fp16",
        "densenet-tiny@64 b16 fp32: Train: epoch 0",
        "predict tch fp16 TTA 8",
        "predict ort fp32 TTA 8",
        "predict ort fp16 TTA 8",
    ] {
        assert!(report.contains(want), "no {want:?} in:\n{report}");
    }
    // ort fp32 vs tch fp32 on the CPU: the engines' agreement bound.
    let diff: f64 = report
        .lines()
        .find_map(|l| l.split("max |logits ort-fp32 - tch-fp32| = ").nth(1))
        .and_then(|r| r.split(',').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ort/tch comparison in:\n{report}"));
    assert!(diff <= 1e-4, "ort and tch differ by {diff}:\n{report}");
}
