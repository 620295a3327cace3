//! A `make train` killed mid-training continues from its last complete
//! epoch when run again (the seed's folder keeps its resume.key), and ends
//! with the checkpoints of a run never interrupted, byte for byte; changed
//! training parameters start the folder afresh.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rcic_testkit::{bin, run_ok};

fn make(dir: &Path, store: &str, extra: &[&str]) -> Command {
    let bin_dir = bin("rcic-artifact").parent().unwrap().to_path_buf();
    let mut cmd = Command::new("make");
    cmd.current_dir(rcic_testkit::repo())
        .args([
            "--no-print-directory",
            "train",
            "PRESET=tiny",
            "SEED=0",
            "NOBUILD=1",
            "THREADS=1",
        ])
        .arg(format!("BIN={}", bin_dir.display()))
        .arg(format!("STORE={}", dir.join(store).display()))
        .arg(format!("DATA={}", dir.join("tiny").display()))
        .arg("TRAIN_FLAGS=-e 3")
        .args(extra);
    cmd
}

fn ok(mut cmd: Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn seed_dir(dir: &Path, store: &str) -> PathBuf {
    dir.join(store).join("models/tiny/seed0")
}

#[test]
fn a_killed_make_train_resumes_to_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let tiny = d.path().join("tiny");
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "tiny",
            "--out",
            tiny.to_str().unwrap(),
            "--seed",
            "0",
            "--threads",
            "1",
        ],
    );
    ok(make(d.path(), "straight", &[]));

    // Killed (make and everything it started) once epoch 1 is complete.
    let mut cmd = make(d.path(), "killed", &[]);
    let mut child = cmd
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let seed = seed_dir(d.path(), "killed");
    let start = Instant::now();
    while !seed.join("model.1.state").exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "make ended before epoch 1"
        );
        assert!(start.elapsed() < Duration::from_secs(300));
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    child.wait().unwrap();
    assert!(!seed.join("model.2").exists() || !seed.join("model.2.state").exists());
    let epoch0 = std::fs::metadata(seed.join("model.0"))
        .unwrap()
        .modified()
        .unwrap();

    ok(make(d.path(), "killed", &[]));
    assert_eq!(
        std::fs::metadata(seed.join("model.0"))
            .unwrap()
            .modified()
            .unwrap(),
        epoch0,
        "epoch 0 was not trained again"
    );
    for f in ["model", "model.1", "model.2"] {
        assert_eq!(
            std::fs::read(seed_dir(d.path(), "straight").join(f)).unwrap(),
            std::fs::read(seed.join(f)).unwrap(),
            "{f}"
        );
    }

    // Other parameters: the folder starts afresh (epoch 0 trained again).
    ok(make(d.path(), "killed", &["TRAIN_FLAGS=-e 2"]));
    assert_ne!(
        std::fs::metadata(seed.join("model.0"))
            .unwrap()
            .modified()
            .unwrap(),
        epoch0
    );
    assert!(!seed.join("model.2").exists());
}
