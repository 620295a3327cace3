//! A diverging float32 run (a learning rate far too large) stops with an
//! error naming the epoch and batch, and publishes no checkpoint of that
//! epoch; the epochs before it keep theirs.

mod common;

use common::{assert_fails_cleanly, files_in, fixture, stderr, train};

#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_earlier_epochs() {
    let f = fixture();
    // Epoch 0 at 1e-3 trains; epoch 1 at 1e10 turns the loss into NaN
    // after its first optimizer step (batch 3 with two batches per step).
    let o = train(f, "div/m", &["-e", "2", "--lr", "const,1e-3,1,1e10"]);
    assert_fails_cleanly(&o, "diverging run");
    let err = stderr(&o);
    assert!(
        err.contains("epoch 1, batch 3 of ") && err.contains("training loss is NaN"),
        "{err}"
    );
    assert!(err.contains("no checkpoint of epoch 1"), "{err}");
    assert_eq!(
        files_in(&f.root.join("div")),
        ["m", "m.0", "m.0.state", "m.log", "m.metrics.parquet"],
        "epoch 0 kept, nothing of epoch 1"
    );
}

#[test]
fn non_finite_weights_are_never_published() {
    let f = fixture();
    // One optimizer step, on the epoch's last batch (512 training sites in
    // 21 batches of 24): its learning rate overflows float32, the weights
    // become infinite though every loss was finite.
    let o = train(
        f,
        "inf/m",
        &["--lr", "const,1e39", "--gradient-accumulation", "21"],
    );
    assert_fails_cleanly(&o, "infinite weights");
    let err = stderr(&o);
    assert!(
        err.contains("epoch 0: variable ") && err.contains("is not finite after training"),
        "{err}"
    );
    assert_eq!(files_in(&f.root.join("inf")), ["m.log"]);
}
