//! `--keep-checkpoints N --keep-epochs LIST`: a run keeps the best
//! checkpoint, the last N epochs' checkpoints with only the last `.state`,
//! and the named epochs; the kept last epoch resumes as always.

mod common;

use common::{assert_ok, files_in, fixture, train};

#[test]
fn keeps_the_best_the_last_the_named_and_one_state() {
    let f = fixture();
    let o = train(
        f,
        "keep/m",
        &["-e", "4", "--keep-checkpoints", "1", "--keep-epochs", "1"],
    );
    assert_ok(&o);
    assert_eq!(
        files_in(&f.root.join("keep")),
        ["m", "m.1", "m.3", "m.3.state", "m.log", "m.metrics.parquet"]
    );
    let o = train(f, "keep/m", &["-e", "4", "--keep-checkpoints", "0"]);
    assert!(!o.status.success());
    assert!(common::stderr(&o).contains("expected `all` or a number of epochs"));
}
