//! rcic-train refuses flags it cannot use before it reads the data or
//! writes anything: each case exits non-zero with a message naming the
//! flag, never panics, and leaves no --save folder or NAME.log behind.

mod common;

use common::{assert_fails_cleanly, assert_ok, fixture, stderr, train};

#[test]
fn bad_flags_fail_before_anything_is_written() {
    let f = fixture();
    let cases: &[(&[&str], &[&str])] = &[
        (&["--classes", "0"], &["--classes 0: expected at least 1"]),
        (
            &["--mixup", "NaN"],
            &["--mixup NaN: expected a finite number >= 0"],
        ),
        (&["--cutmix", "NaN"], &["--cutmix NaN"]),
        (&["--mixup", "inf"], &["--mixup inf"]),
        (
            &["--wd", "NaN"],
            &["--wd NaN: expected a finite number >= 0"],
        ),
        (&["--wd=-1"], &["--wd -1: expected a finite number >= 0"]),
        (
            &["--label-smoothing", "1"],
            &["--label-smoothing 1: expected a number in [0, 1)"],
        ),
        (&["--pw-aug", "inf,0.1"], &["--pw-aug", "finite"]),
        (&["--pw-aug", "0.1,NaN"], &["--pw-aug"]),
        (&["--scale-aug", "NaN"], &["--scale-aug NaN"]),
        (
            &["--metric-loss-coeff", "1.5"],
            &["--metric-loss-coeff 1.5: expected a number in [0, 1]"],
        ),
        (&["--start-epoch", "3"], &["--start-epoch 3", "--load"]),
        (
            &["--start-epoch", "1", "--load", "x/m.0"],
            &["--start-epoch 1: expected an epoch below -e/--epochs (1)"],
        ),
        (
            &["-e", "4", "--pl-epoch", "1", "--pl-size-func", "2*x"],
            &[
                "--pl-size-func \"2*x\" is 1.5 at x = 0.75 (epoch 3)",
                "[0, 1]",
            ],
        ),
        (
            &["-e", "3", "--pl-epoch", "2", "--pl-size-func", "0-x"],
            &["--pl-size-func \"0-x\" is -0.5 at x = 0.5"],
        ),
        (
            &["--threads", "100000"],
            &["--threads <T>", "100000 is not in 0..=1024"],
        ),
        // Checks that need the data, still before anything is written.
        (
            &["--block-config", "2,2,2,2,2,2,2,2"],
            &[
                "densenet-tiny",
                "block config 2,2,2,2,2,2,2,2",
                "32 px",
                "at least 509 px",
            ],
        ),
        (
            &["-b", "100000"],
            &["-b/--batch_size 100000", "less than one batch"],
        ),
        (&["--classes", "10"], &["--classes 10"]),
    ];
    for (i, (extra, want)) in cases.iter().enumerate() {
        let save = format!("bad{i}/m");
        let o = train(f, &save, extra);
        assert_fails_cleanly(&o, &format!("{extra:?}"));
        let err = stderr(&o);
        for w in *want {
            assert!(err.contains(w), "{extra:?}: {w:?} not in:\n{err}");
        }
        assert!(
            !f.exists(&format!("bad{i}")),
            "{extra:?}: the --save folder was created"
        );
    }
}

#[test]
fn a_missing_checkpoint_is_reported_once() {
    let f = fixture();
    let missing = f.p("nowhere/m");
    let o = train(f, "miss/m", &["--load", &missing]);
    assert_fails_cleanly(&o, "--load missing");
    let err = stderr(&o);
    assert!(err.contains(&format!("--load: {missing}: ")), "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    assert!(!f.exists("miss"));
}

#[test]
fn another_architecture_names_each_differing_field() {
    let f = fixture();
    assert_ok(&train(f, "arch/m", &["--cv-number", "-1"]));
    let ck = f.p("arch/m");
    let o = train(f, "arch2/m", &["--load", &ck, "--embedding-size", "64"]);
    assert_fails_cleanly(&o, "--embedding-size 64");
    let err = stderr(&o);
    assert!(
        err.contains("embedding size 32 in the checkpoint, 64 requested (--embedding-size)"),
        "{err}"
    );
    let o = train(
        f,
        "arch2/m",
        &["--load", &ck, "--growth-rate", "12", "--head-hidden", "8"],
    );
    let err = stderr(&o);
    assert!(
        err.contains("growth rate 8 in the checkpoint, 12 requested (--growth-rate)")
            && err
                .contains("head hidden sizes none in the checkpoint, 8 requested (--head-hidden)"),
        "{err}"
    );
    assert!(!err.contains("classes 36)"), "{err}");
    assert!(!f.exists("arch2"));
}
