//! Training's progress line through a pipe (as under make or Slurm): plain
//! lines naming the epoch of the run, the batch count, samples/s, the
//! batch's loss and accuracy and the run's ETA; none under `-q`.

mod common;

use std::process::Command;

use common::{args, fixture};

#[test]
fn training_progress_reaches_pipes_as_plain_lines() {
    let f = fixture();
    let run = |quiet: bool, save: &str| {
        let mut a = args(f, save, &["-e", "2"]);
        if !quiet {
            a.retain(|x| x != "-q");
        }
        let mut c = Command::new(env!("CARGO_BIN_EXE_rcic-train"));
        c.args(&a);
        rcic_testkit::progress::stderr_of(c, false) // `a` holds -q when quiet
    };
    let err = run(false, "progress/m");
    for epoch in ["epoch 1/2", "epoch 2/2"] {
        let lines = rcic_testkit::progress::plain_lines(&err, epoch, "batches");
        let last = lines.last().unwrap();
        for part in [" samples/s, loss ", ", acc ", ", run eta "] {
            assert!(last.contains(part), "{part:?} missing from {last}");
        }
    }
    assert!(!run(true, "progress/q").contains("epoch 1/2: "));
}
