//! Up-front checks of what pseudo-labelling and the network start from:
//! `--plate-groups` with a table made from the generator's truth is used
//! (the log says so and how often inference agrees), a table that does not
//! fit the labelled plates is refused before any work, `auto` infers on
//! synthetic data and says why; `--pretrained imagenet` without the file in
//! the cache stops before any work, naming the file, its address and how to
//! pass one.

mod common;

use std::path::Path;

use common::{assert_fails_cleanly, assert_ok, fixture, stderr, train};

/// A plate-group table (data-schemas/plate-groups.md) from truth.json,
/// with `swap` exchanging plates 1 and 2 of the first train experiment.
fn table_from_truth(truth: &Path, out: &Path, swap: bool) {
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(truth).unwrap()).unwrap();
    let mut s = String::from("groups = [\n");
    for g in t["groups"].as_array().unwrap() {
        s += &format!("  {g},\n");
    }
    s += "]\n[plates]\n";
    let mut swapped = !swap;
    for e in t["experiments"].as_array().unwrap() {
        let pg = e["plate_groups"].as_object().unwrap();
        let mut plates: Vec<u64> = (1..=pg.len())
            .map(|p| pg[&p.to_string()].as_u64().unwrap())
            .collect();
        if !swapped && e["split"] == "train" {
            plates.swap(0, 1);
            swapped = true;
        }
        s += &format!("\"{}\" = {:?}\n", e["name"].as_str().unwrap(), plates);
    }
    std::fs::write(out, s).unwrap();
}

#[test]
fn a_table_that_fits_is_used_and_one_that_does_not_is_refused() {
    let f = fixture();
    let truth = f.root.join("tiny-truth/truth.json");
    let good = f.root.join("groups-good.toml");
    let bad = f.root.join("groups-bad.toml");
    table_from_truth(&truth, &good, false);
    table_from_truth(&truth, &bad, true);
    let pl = ["-e", "2", "--pl-epoch", "1"];

    let o = train(
        f,
        "pg-bad/m",
        &[&pl[..], &["--plate-groups", bad.to_str().unwrap()]].concat(),
    );
    assert_fails_cleanly(&o, "a table that does not fit");
    let e = stderr(&o);
    assert!(
        e.contains("groups-bad.toml: does not fit the data: experiment ") && e.contains("plate 1"),
        "{e}"
    );
    assert!(!f.exists("pg-bad"), "nothing written");

    let o = train(
        f,
        "pg-good/m",
        &[&pl[..], &["--plate-groups", good.to_str().unwrap()]].concat(),
    );
    assert_ok(&o);
    let log = std::fs::read_to_string(f.root.join("pg-good/m.log")).unwrap();
    assert!(
        log.contains("Plate groups of unlabelled plates: from ")
            && log.contains("groups-good.toml"),
        "{log}"
    );
    assert!(
        log.contains("unlabelled plate(s) from the table; inference from the predictions gets "),
        "{log}"
    );

    let o = train(f, "pg-auto/m", &pl);
    assert_ok(&o);
    let log = std::fs::read_to_string(f.root.join("pg-auto/m.log")).unwrap();
    assert!(
        log.contains("inferred from the predictions (the RxRx1 table does not fit this data: "),
        "{log}"
    );
}

#[test]
fn missing_imagenet_weights_stop_the_run_before_any_work() {
    let f = fixture();
    let empty = f.root.join("no-weights");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rcic-train"))
        .args([
            "--data",
            &f.p("tiny"),
            "--store",
            &f.p("art"),
            "--save",
            &f.p("pw/m"),
        ])
        .args([
            "--backbone",
            "densenet121",
            "--classes",
            "36",
            "-e",
            "1",
            "--threads",
            "1",
            "-q",
        ])
        .args(["--pretrained", "imagenet"])
        .env("RCIC_WEIGHTS_DIR", &empty)
        .env("TORCH_HOME", &empty)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    assert_fails_cleanly(&o, "no weights");
    let e = stderr(&o);
    for part in [
        "--pretrained imagenet: no ImageNet weights for densenet121",
        "densenet121-a639ec97.pth",
        "https://download.pytorch.org/models/densenet121-a639ec97.pth",
        "make weights",
        "PRETRAINED=FILE",
    ] {
        assert!(e.contains(part), "{part}: {e}");
    }
    assert!(!f.exists("pw"), "nothing written");
    let o = train(f, "pw2/m", &["--pretrained", "imagenet"]);
    assert_fails_cleanly(&o, "no published weights for densenet-tiny");
    assert!(
        stderr(&o).contains("publishes no ImageNet weights"),
        "{}",
        stderr(&o)
    );
}
