//! The command line: help text, refusals with clear errors, --force.

mod common;

use common::*;

#[test]
fn help_explains_every_flag() {
    let out = synth(&["--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--preset",
        "--out",
        "--seed",
        "--image-size",
        "--experiments",
        "--difficulty",
        "--truth-out",
        "--no-images",
        "--threads",
        "--force",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
    assert!(text.contains("tiny") && text.contains("demo") && text.contains("rxrx1"));
    assert!(
        text.contains("harder"),
        "--difficulty must say what it means"
    );
}

#[test]
fn refuses_non_empty_output_unless_forced_and_bad_options() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "x").unwrap();
    let d = dir.to_str().unwrap();
    let err = synth_fails(&["--preset", "tiny", "--out", d, "--no-images"]);
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    assert!(dir.join("keep.txt").exists());
    synth(&["--preset", "tiny", "--out", d, "--no-images", "--force"]);
    assert!(!dir.join("keep.txt").exists() && dir.join("train.csv").exists());
    // Truth folder exists now: a second run without --force is refused.
    let t = root.path().join("t");
    let err = synth_fails(&[
        "--preset",
        "tiny",
        "--out",
        t.to_str().unwrap(),
        "--no-images",
        "--truth-out",
        root.path().join("d-truth").to_str().unwrap(),
    ]);
    assert!(err.contains("d-truth"), "{err}");
    assert!(!t.exists(), "no partial dataset after a refusal");

    let e = root.path().join("e");
    let err = synth_fails(&[
        "--preset",
        "tiny",
        "--out",
        e.to_str().unwrap(),
        "--experiments",
        "HEPG2-01,RPE-09",
    ]);
    assert!(err.contains("RPE-09") && err.contains("HEPG2-01"), "{err}");
    let err = synth_fails(&[
        "--preset",
        "tiny",
        "--out",
        e.to_str().unwrap(),
        "--difficulty",
        "0",
    ]);
    assert!(err.contains("--difficulty"), "{err}");
    assert!(!e.exists());
    assert_eq!(
        std::fs::read_dir(root.path()).unwrap().count(),
        2,
        "leftover temporary folders"
    );
}

#[test]
fn image_size_and_custom_truth_folder() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("x");
    let truth = root.path().join("labels");
    let out = synth(&[
        "--preset",
        "tiny",
        "--out",
        dir.to_str().unwrap(),
        "--truth-out",
        truth.to_str().unwrap(),
        "--experiments",
        "HUVEC-02",
        "--image-size",
        "48",
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("generated 96 sites in"), "{err}");
    let img = image::open(
        dir.join("train/HUVEC-02/Plate3")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert_eq!((img.width(), img.height()), (48, 48));
    assert!(truth.join("truth.json").exists() && truth.join("test_truth.csv").exists());
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(truth.join("truth.json")).unwrap()).unwrap();
    assert_eq!(t["image_size"], 48);
    assert_eq!(t["experiments"].as_array().unwrap().len(), 1);
}

/// Lists a folder's entries (names), sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn nested_output_folders_are_refused_before_anything_is_created() {
    let root = tempfile::tempdir().unwrap();
    let r = |p: &str| root.path().join(p).to_str().unwrap().to_string();
    // Truth inside (or equal to) the dataset folder: it would be lost.
    for (out, truth) in [("g2", "g2/truth"), ("g3", "g3"), ("g4", "g4/./x/../y")] {
        let err = synth_fails(&[
            "--preset",
            "tiny",
            "--no-images",
            "--out",
            &r(out),
            "--truth-out",
            &r(truth),
        ]);
        assert!(
            err.contains("--truth-out") && err.contains("inside it"),
            "{err}"
        );
    }
    // The dataset folder inside the truth folder.
    let err = synth_fails(&[
        "--preset",
        "tiny",
        "--no-images",
        "--out",
        &r("t3/data"),
        "--truth-out",
        &r("t3"),
    ]);
    assert!(
        err.contains("--truth-out") && err.contains("contains --out"),
        "{err}"
    );
    assert!(names(root.path()).is_empty(), "{:?}", names(root.path()));
}

#[test]
fn a_file_where_a_folder_is_needed_is_named() {
    let root = tempfile::tempdir().unwrap();
    let f = root.path().join("f");
    std::fs::write(&f, "x").unwrap();
    let ok = root.path().join("ok");
    for (flag, args) in [
        ("--out", vec!["--out", f.join("x").to_str().unwrap()]),
        (
            "--truth-out",
            vec![
                "--out",
                ok.to_str().unwrap(),
                "--truth-out",
                f.join("t").to_str().unwrap(),
            ],
        ),
    ] {
        let mut a = vec!["--preset", "tiny", "--no-images"];
        a.extend(args);
        let err = synth_fails(&a);
        assert!(
            err.contains(flag) && err.contains(&format!("{} is not a directory", f.display())),
            "{err}"
        );
        assert!(!err.contains("File exists"), "{err}");
    }
    assert_eq!(names(root.path()), vec!["f"]);
}

#[test]
fn too_many_threads_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("d");
    for extra in [&[][..], &["--no-images"][..]] {
        let mut a = vec![
            "--preset",
            "tiny",
            "--out",
            out.to_str().unwrap(),
            "--threads",
            "100000",
        ];
        a.extend(extra);
        let err = synth_fails(&a);
        assert!(err.contains("--threads") && err.contains("1024"), "{err}");
    }
    assert!(names(root.path()).is_empty());
}
