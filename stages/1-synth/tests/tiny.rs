//! The `tiny` preset with images: RxRx1's structure, Kaggle's CSV formats,
//! the image tree and pixel statistics.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::*;

struct Tiny {
    _root: tempfile::TempDir,
    dir: PathBuf,
    truth: PathBuf,
    stderr: String,
}

fn tiny() -> &'static Tiny {
    static T: OnceLock<Tiny> = OnceLock::new();
    T.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        let out = synth(&[
            "--preset",
            "tiny",
            "--out",
            dir.to_str().unwrap(),
            "--seed",
            "5",
            "--threads",
            "2",
        ]);
        Tiny {
            truth: root.path().join("data-truth"),
            dir,
            _root: root,
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    })
}

#[test]
fn tiny_has_rxrx1_plate_structure_and_alias() {
    let t = tiny();
    let d = Dataset::load(&t.dir, &t.truth);
    d.check_structure();
    assert_eq!(d.truth["preset"], "tiny");
    assert_eq!(d.truth["seed"], 5);
    assert_eq!(d.truth["aliases"].as_array().unwrap().len(), 1);
    let exps: BTreeSet<&str> = d.train.iter().map(|r| r.experiment.as_str()).collect();
    assert_eq!(
        exps.into_iter().collect::<Vec<_>>(),
        ["HEPG2-01", "HEPG2-02", "HEPG2-03", "HUVEC-01", "HUVEC-02", "HUVEC-03"]
    );
    let tests: BTreeSet<&str> = d.test.iter().map(|r| r.experiment.as_str()).collect();
    assert_eq!(
        tests.into_iter().collect::<Vec<_>>(),
        ["HEPG2-04", "HUVEC-04"]
    );
    assert!(t.stderr.contains("generated 768 sites in"), "{}", t.stderr);
}

#[test]
fn tiny_dataset_folder_looks_like_kaggle_and_truth_is_outside() {
    let t = tiny();
    let names: BTreeSet<String> = std::fs::read_dir(&t.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let expected: BTreeSet<String> = [
        "pixel_stats.csv",
        "test",
        "test.csv",
        "test_controls.csv",
        "train",
        "train.csv",
        "train_controls.csv",
    ]
    .map(String::from)
    .into();
    assert_eq!(names, expected);
    let truth: BTreeSet<String> = std::fs::read_dir(&t.truth)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        truth,
        ["test_truth.csv", "truth.json"].map(String::from).into()
    );
    // No leftovers next to the outputs.
    let siblings = std::fs::read_dir(t.dir.parent().unwrap()).unwrap().count();
    assert_eq!(siblings, 2);
}

#[test]
fn tiny_images_are_all_present_8bit_grayscale_and_sized() {
    let t = tiny();
    let d = Dataset::load(&t.dir, &t.truth);
    let mut n = 0;
    for (split, rows) in [
        ("train", [&d.train, &d.train_controls]),
        ("test", [&d.test, &d.test_controls]),
    ] {
        for r in rows.into_iter().flatten() {
            for site in 1..=2 {
                for ch in 1..=6 {
                    let p = t.dir.join(format!(
                        "{split}/{}/Plate{}/{}_s{site}_w{ch}.png",
                        r.experiment, r.plate, r.well
                    ));
                    let img = image::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                    assert_eq!(img.color(), image::ColorType::L8, "{}", p.display());
                    assert_eq!((img.width(), img.height()), (32, 32));
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 768 * 6);
    let files = tree_hashes(&t.dir)
        .keys()
        .filter(|k| k.ends_with(".png"))
        .count();
    assert_eq!(files, n, "extra image files");
}

#[test]
fn tiny_pixel_stats_match_the_pngs() {
    let t = tiny();
    let rows = read_csv(
        &t.dir.join("pixel_stats.csv"),
        "id_code,experiment,plate,well,site,channel,mean,std,median,min,max",
    );
    assert_eq!(rows.len(), 768 * 6);
    let keys: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r[1].clone(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
                r[5].clone(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "pixel_stats not sorted"
    );
    let d = Dataset::load(&t.dir, &t.truth);
    let split_of = |e: &str| {
        if d.train.iter().any(|r| r.experiment == e) {
            "train"
        } else {
            "test"
        }
    };
    for r in rows.iter().step_by(97) {
        let p = t.dir.join(format!(
            "{}/{}/Plate{}/{}_s{}_w{}.png",
            split_of(&r[1]),
            r[1],
            r[2],
            r[3],
            r[4],
            r[5]
        ));
        let px = image::open(&p).unwrap().to_luma8().into_raw();
        let n = px.len() as f64;
        let mean = px.iter().map(|&v| v as f64).sum::<f64>() / n;
        let std = (px.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        let mut s = px.clone();
        s.sort_unstable();
        let median = (s[s.len() / 2 - 1] as f64 + s[s.len() / 2] as f64) / 2.0;
        let got: Vec<f64> = r[6..].iter().map(|v| v.parse().unwrap()).collect();
        assert!(
            (got[0] - mean).abs() < 1e-5 && (got[1] - std).abs() < 1e-5,
            "{}: mean/std",
            p.display()
        );
        assert_eq!(
            (got[2], got[3], got[4]),
            (median, s[0] as f64, s[s.len() - 1] as f64),
            "{}",
            p.display()
        );
    }
}

#[test]
fn tiny_batch_effects_spread_experiment_channel_means() {
    // Per-experiment channel means differ a lot (RxRx1: about 4 to 46).
    let t = tiny();
    let rows = read_csv(
        &t.dir.join("pixel_stats.csv"),
        "id_code,experiment,plate,well,site,channel,mean,std,median,min,max",
    );
    for ch in 1..=6 {
        let mut per: std::collections::BTreeMap<&str, (f64, f64)> = Default::default();
        for r in rows.iter().filter(|r| r[5] == ch.to_string()) {
            let e = per.entry(r[1].as_str()).or_default();
            e.0 += r[6].parse::<f64>().unwrap();
            e.1 += 1.0;
        }
        let means: Vec<f64> = per.values().map(|(s, n)| s / n).collect();
        let (lo, hi) = means
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), &m| (a.min(m), b.max(m)));
        println!("channel {ch}: experiment means {lo:.1}..{hi:.1}");
        assert!(
            lo > 1.0 && hi < 120.0 && hi / lo > 1.3,
            "channel {ch}: {lo}..{hi}"
        );
    }
}
