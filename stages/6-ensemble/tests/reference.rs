//! Our ensemble against the Python reference of section 9
//! (tests/fixtures/reference_ensemble.py, pandas + scipy) on predictions for
//! the rxrx1 CSV structure: the same submission CSV, byte for byte, and
//! every logged score equal. Also the report files and the store mode.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

const CLASSES: usize = 1139;

fn close(a: &Value, b: &Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-12, "{what}: ours {x}, reference {y}"),
        _ => assert_eq!(a.is_null(), b.is_null(), "{what}: ours {a}, reference {b}"),
    }
}

/// Our Score object against the reference's `[accuracy, per_experiment]`.
fn same_score(ours: &Value, reference: &Value, what: &str) {
    if reference.is_null() {
        assert!(ours.is_null(), "{what}: ours {ours}, reference none");
        return;
    }
    close(&ours["accuracy"], &reference[0], what);
    let (po, pr) = (
        ours["per_experiment"].as_object().unwrap(),
        reference[1].as_object().unwrap(),
    );
    assert_eq!(
        po.keys().collect::<Vec<_>>(),
        pr.keys().collect::<Vec<_>>(),
        "{what}: experiments"
    );
    for (k, v) in po {
        close(v, &pr[k], &format!("{what} {k}"));
    }
}

/// Runs ours (`-t threads`) and the Python reference on `files` with
/// `weights` and the truth file; asserts the same submission CSV, byte for
/// byte, and every score and group choice equal. Returns our CSV, our
/// report and our log.
fn against_reference(
    s: &Synth,
    dir: &std::path::Path,
    files: &[&std::path::Path],
    weights: &str,
    threads: &str,
) -> (String, Value, String) {
    let ours = dir.join("out/submission.csv");
    let mut args = vec![
        "--data",
        ps(&s.root),
        "-w",
        weights,
        "--truth",
        ps(&s.truth),
        "-t",
        threads,
        "-o",
        ps(&ours),
    ];
    args.extend(files.iter().map(|f| ps(f)));
    let out = ensemble(&args);
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{log}");
    for line in [
        "File ",
        "Average score:",
        "Score after ensemble:",
        "groups: ",
        "Score after retaining plate classes:",
        "Score after linear sum assignment:",
        "Saving csv submission",
    ] {
        assert!(log.contains(line), "log lacks {line:?}:\n{log}");
    }

    let theirs = dir.join("ref.csv");
    let ref_json = dir.join("ref.json");
    let py = Command::new(python())
        .arg(fixture("reference_ensemble.py"))
        .args([
            "--data",
            ps(&s.root),
            "-w",
            weights,
            "--truth",
            ps(&s.truth),
            "-o",
            ps(&theirs),
            "--json",
            ps(&ref_json),
        ])
        .args(files)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&py.stderr)
    );

    let (c1, c2) = (
        std::fs::read_to_string(&ours).unwrap(),
        std::fs::read_to_string(&theirs).unwrap(),
    );
    assert_eq!(c1.lines().count(), 1 + 3 * 1108, "one row per test well");
    assert!(c1 == c2, "submission differs from the reference's");

    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap())
            .unwrap();
    let p: Value = serde_json::from_str(&std::fs::read_to_string(&ref_json).unwrap()).unwrap();
    for (i, f) in r["files"].as_array().unwrap().iter().enumerate() {
        same_score(&f["val"], &p["files"][i]["val"], &format!("file {i} val"));
        same_score(
            &f["test"],
            &p["files"][i]["test"],
            &format!("file {i} test"),
        );
    }
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(
        steps
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["average", "ensemble", "plate_groups", "assignment"]
    );
    for st in steps {
        let name = st["name"].as_str().unwrap();
        same_score(&st["val"], &p["steps"][name]["val"], &format!("{name} val"));
        same_score(
            &st["test"],
            &p["steps"][name]["test"],
            &format!("{name} test"),
        );
    }
    let (go, gp) = (
        r["group_assignment"].as_array().unwrap(),
        p["groups"].as_array().unwrap(),
    );
    assert_eq!(go.len(), gp.len());
    for (o, q) in go.iter().zip(gp) {
        let what = format!("groups {} {}", o["split"], o["experiment"]);
        for k in [
            "split",
            "experiment",
            "plates",
            "permutation",
            "status",
            "truth_status",
        ] {
            assert_eq!(o[k], q[k], "{what} {k}");
        }
        close(&o["score"], &q["score"], &what);
        close(&o["margin"], &q["margin"], &what);
    }
    (c1, r, log)
}

#[test]
fn matches_the_python_reference_with_every_score() {
    let s = synth();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
    write_parquet(&a, &rows(s, 1, 2.3, CLASSES, true), CLASSES);
    write_parquet(&b, &rows(s, 2, 2.0, CLASSES, false), CLASSES);
    let (c1, r, _) = against_reference(s, dir.path(), &[&a, &b], "1,0.7", "2");
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(
        r["group_assignment"].as_array().unwrap().len(),
        2 + 3,
        "2 validation and 3 test experiments"
    );
    // The steps do something on this data.
    let acc = |n: &str| {
        steps.iter().find(|s| s["name"] == n).unwrap()["val"]["accuracy"]
            .as_f64()
            .unwrap()
    };
    assert!(
        acc("ensemble") < acc("plate_groups") && acc("plate_groups") < acc("assignment"),
        "{steps:?}"
    );

    // The report's data and its tables, and no figure (the report stage
    // draws the charts).
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("Score after linear sum assignment"), "{md}");
    assert!(!dir.path().join("out/report.png").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Store mode: an artifact with the same CSV, reused on the second run.
    let store = dir.path().join("artifacts");
    let run = || {
        let out = ensemble(&[
            "--data",
            ps(&s.root),
            "-w",
            "1,0.7",
            "--truth",
            ps(&s.truth),
            "--store",
            ps(&store),
            ps(&a),
            ps(&b),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap().trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (art, _) = run();
    assert_eq!(
        std::fs::read_to_string(std::path::Path::new(&art).join("submission.csv")).unwrap(),
        c1
    );
    for f in ["manifest.json", "report.json", "report.md", "ensemble.log"] {
        assert!(std::path::Path::new(&art).join(f).is_file(), "{art}/{f}");
    }
    let (again, log) = run();
    assert_eq!(art, again);
    assert!(log.contains("reusing"), "{log}");
}

/// Three files whose rows come in different orders (by well, shuffled,
/// reversed: sites apart, wells of one experiment apart, files reaching
/// experiments in different orders) and layouts (zstd v2 pages in many row
/// groups, dictionary pages, byte-stream-split floats), with weights: still
/// the reference's sums, in its order.
#[test]
fn any_row_order_and_file_layout_gives_the_reference_result() {
    use parquet::basic::{Compression, Encoding, ZstdLevel};
    use parquet::file::properties::{WriterProperties, WriterVersion};
    use rand::seq::SliceRandom;
    use rand::SeedableRng;

    let s = synth();
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c, d) = (
        dir.path().join("a.parquet"),
        dir.path().join("b.parquet"),
        dir.path().join("c.parquet"),
        dir.path().join("d.parquet"),
    );
    write_parquet(&a, &rows(s, 4, 2.0, CLASSES, true), CLASSES);
    let mut rb = rows(s, 5, 1.8, CLASSES, false);
    rb.shuffle(&mut rand::rngs::StdRng::seed_from_u64(9));
    write_parquet_with(
        &b,
        &rb,
        CLASSES,
        Some(
            WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap()))
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_max_row_group_row_count(Some(1000))
                .build(),
        ),
    );
    let mut rc = rows(s, 6, 2.2, CLASSES, true);
    rc.reverse();
    write_parquet_with(
        &c,
        &rc,
        CLASSES,
        Some(
            WriterProperties::builder()
                .set_dictionary_page_size_limit(1 << 14)
                .build(),
        ),
    );
    let (c1, _, _) = against_reference(s, dir.path(), &[&a, &b, &c], "1,0.7,1.3", "1");

    // The same rows as `c` with byte-stream-split floats: the same result.
    write_parquet_with(
        &d,
        &rc,
        CLASSES,
        Some(
            WriterProperties::builder()
                .set_dictionary_enabled(false)
                .set_column_encoding(
                    parquet::schema::types::ColumnPath::from(vec![
                        "logits".into(),
                        "list".into(),
                        "item".into(),
                    ]),
                    Encoding::BYTE_STREAM_SPLIT,
                )
                .build(),
        ),
    );
    let sub = dir.path().join("d/submission.csv");
    let out = ensemble(&[
        "--data",
        ps(&s.root),
        "-w",
        "1,0.7,1.3",
        "--truth",
        ps(&s.truth),
        "-o",
        ps(&sub),
        ps(&a),
        ps(&b),
        ps(&d),
    ]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(std::fs::read_to_string(&sub).unwrap(), c1);
}

#[test]
fn options_beyond_the_reference_run_and_are_reported() {
    let s = synth();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.parquet");
    write_parquet(&a, &rows(s, 3, 2.3, CLASSES, false), CLASSES);
    let out_csv = dir.path().join("sub.csv");
    let out = ensemble(&[
        "--data",
        ps(&s.root),
        "--truth",
        ps(&s.truth),
        "--temperature",
        "2",
        "--sinkhorn",
        "5",
        "--use-alias-labels",
        "-o",
        ps(&out_csv),
        ps(&a),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(r["options"]["sinkhorn"], 5);
    let last = r["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(last["name"], "alias_labels");
    // HUVEC-18's test wells now carry their alias labels: all correct.
    assert_eq!(
        last["test"]["per_experiment"]["HUVEC-18"].as_f64(),
        Some(1.0),
        "{last}"
    );
}
