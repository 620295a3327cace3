//! `--resume`: a run killed at several points and started again with the
//! same flags continues from its last complete epoch and ends with the
//! same checkpoints, byte for byte, as a run never interrupted.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_ok, fixture, train};

const FLAGS: [&str; 6] = ["-e", "4", "--pl-epoch", "1", "--pl-size-func", "0.6*x+0.4"];

/// Starts the run and kills it (SIGKILL) once `file` exists.
fn kill_when(f: &common::Fixture, save: &str, file: &Path) {
    let mut args: Vec<String> = vec!["--resume".into()];
    args.extend(FLAGS.iter().map(|s| s.to_string()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rcic-train"))
        .args(common::args(
            f,
            save,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !file.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ended before {}",
            file.display()
        );
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_killed_run_resumes_to_the_same_bytes() {
    let f = fixture();
    assert_ok(&train(f, "straight/m", &FLAGS));
    let dir = f.root.join("killed");
    // Killed after epoch 0 was complete, then while epoch 2's files were
    // being written (its checkpoint there, its .state not yet).
    kill_when(f, "killed/m", &dir.join("m.0.state"));
    kill_when(f, "killed/m", &dir.join("m.2"));
    let mut flags = vec!["--resume"];
    flags.extend(FLAGS);
    let o = train(f, "killed/m", &flags);
    assert_ok(&o);
    for file in ["m", "m.0", "m.1", "m.2", "m.3", "m.3.state"] {
        assert_eq!(
            std::fs::read(f.root.join("straight").join(file)).unwrap(),
            std::fs::read(dir.join(file)).unwrap(),
            "{file}"
        );
    }
    // Everything done: --resume says so and trains nothing.
    let before = std::fs::metadata(dir.join("m.3"))
        .unwrap()
        .modified()
        .unwrap();
    let o = train(f, "killed/m", &["--resume", "-e", "4"]);
    assert_ok(&o);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), f.p("killed/m"));
    assert_eq!(
        std::fs::metadata(dir.join("m.3"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
}
