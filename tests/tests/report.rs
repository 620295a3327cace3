//! rcic-view and rcic-report on the tiny synthetic preset. The view's PNG
//! equals, pixel for pixel, Recursion's composite computed here from the
//! channel PNGs with rxrx1-utils' own floating-point formula (independently
//! of the crate's integer arithmetic). The report page, built from the
//! metrics of two real short training runs (pseudo-labelling included) and
//! the report.json of a real ensemble over their predictions, holds the
//! curves, the steps and sample composites equal to the same reference, and
//! nothing external. The same data generated in the public release's layout
//! gives the same table, samples and views. Bad inputs fail with the file
//! named and write nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use image::{GrayImage, RgbImage};
use rcic_testkit::tiny::{model as tiny_model, preprocess};
use rcic_testkit::{bin, run_ok};

/// rxrx1-utils' `RGB_MAP`: colour and display range of channels 1..6.
const RGB_MAP: [([f64; 3], f64); 6] = [
    ([19.0, 0.0, 249.0], 51.0),
    ([42.0, 255.0, 31.0], 107.0),
    ([255.0, 0.0, 25.0], 64.0),
    ([45.0, 255.0, 252.0], 191.0),
    ([250.0, 0.0, 253.0], 89.0),
    ([254.0, 255.0, 40.0], 191.0),
];

/// `convert_tensor_to_rgb` as rxrx1-utils writes it: x = (v / 255) /
/// ((hi - 0) / 255) + 0 / 255, x > 1 -> 1, int(outer(x, rgb)) per channel,
/// summed, > 255 -> 255.
fn reference_composite(channels: &[GrayImage]) -> RgbImage {
    let (w, h) = channels[0].dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let mut sum = [0i64; 3];
        for (ch, (rgb, hi)) in channels.iter().zip(RGB_MAP) {
            let v = ch.get_pixel(x, y).0[0] as f64;
            let mut t = (v / 255.0) / ((hi - 0.0) / 255.0) + 0.0 / 255.0;
            if t > 1.0 {
                t = 1.0;
            }
            for k in 0..3 {
                sum[k] += (t * rgb[k]) as i64;
            }
        }
        image::Rgb(sum.map(|s| s.min(255) as u8))
    })
}

fn site_channels(root: &Path, split: &str, id_code: &str, site: u8) -> Vec<GrayImage> {
    let mut parts = id_code.rsplitn(3, '_');
    let (well, plate, exp) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    (1..=6)
        .map(|c| {
            let p = root
                .join(split)
                .join(exp)
                .join(format!("Plate{plate}"))
                .join(format!("{well}_s{site}_w{c}.png"));
            image::open(&p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .into_luma8()
        })
        .collect()
}

fn synth(dir: &Path) -> PathBuf {
    let data = dir.join("tiny");
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "tiny",
            "--out",
            data.to_str().unwrap(),
            "--seed",
            "1",
            "--threads",
            "1",
        ],
    );
    data
}

/// The first data row's id_code of a CSV.
fn first_id(csv: &Path) -> String {
    let text = std::fs::read_to_string(csv).unwrap();
    text.lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string()
}

fn fails(name: &str, args: &[&str]) -> String {
    let out = Command::new(bin(name)).args(args).output().unwrap();
    assert!(!out.status.success(), "{name} {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Nothing but `keep` in `dir` (no output, no temporary).
fn only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, keep, "files in {}", dir.display());
}

#[test]
fn view_equals_the_reference_composite_pixel_for_pixel() {
    let d = tempfile::tempdir().unwrap();
    let data = synth(d.path());
    let out = d.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    for (split, csv) in [
        ("train", "train.csv"),
        ("test", "test.csv"),
        ("train", "train_controls.csv"),
    ] {
        let id = first_id(&data.join(csv));
        for site in [1u8, 2] {
            let png = out.join(format!("{id}_s{site}.png"));
            run_ok(
                "rcic-view",
                &[
                    "--data",
                    data.to_str().unwrap(),
                    "--id-code",
                    &id,
                    "--site",
                    &site.to_string(),
                    "-o",
                    png.to_str().unwrap(),
                ],
            );
            let got = image::open(&png).unwrap();
            assert_eq!(got.color(), image::ColorType::Rgb8, "{id} s{site}");
            let want = reference_composite(&site_channels(&data, split, &id, site));
            let got = got.into_rgb8();
            assert_eq!(got.dimensions(), (32, 32), "tiny sites are 32 px");
            let diff = got
                .pixels()
                .zip(want.pixels())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(diff, 0, "{id} s{site}: pixels differ from the reference");
            // Not a blank picture: the composite has structure.
            let distinct: std::collections::BTreeSet<[u8; 3]> = got.pixels().map(|p| p.0).collect();
            assert!(
                distinct.len() > 20,
                "{id} s{site}: {} colours",
                distinct.len()
            );
        }
    }

    // --size resizes.
    let id = first_id(&data.join("train.csv"));
    let big = out.join("big.png");
    run_ok(
        "rcic-view",
        &[
            "--data",
            data.to_str().unwrap(),
            "--id-code",
            &id,
            "--size",
            "64",
            "-o",
            big.to_str().unwrap(),
        ],
    );
    assert_eq!(
        image::open(&big).unwrap().into_rgb8().dimensions(),
        (64, 64)
    );

    // Unknown id_code, missing and corrupt channel files: named, nothing written.
    let bad = d.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let o = bad.join("x.png");
    let o = o.to_str().unwrap();
    let dr = data.to_str().unwrap();
    let e = fails(
        "rcic-view",
        &["--data", dr, "--id-code", "HEPG2-01_1_A01", "-o", o],
    );
    assert!(e.contains("unknown id_code HEPG2-01_1_A01"), "{e}");
    let e = fails(
        "rcic-view",
        &["--data", dr, "--id-code", "nonsense", "-o", o],
    );
    assert!(e.contains("nonsense"), "{e}");
    let e = fails(
        "rcic-view",
        &["--data", dr, "--id-code", &id, "--site", "3", "-o", o],
    );
    assert!(e.contains("--site"), "{e}");
    let mut parts = id.rsplitn(3, '_');
    let (well, plate, exp) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let w5 = data
        .join("train")
        .join(exp)
        .join(format!("Plate{plate}"))
        .join(format!("{well}_s1_w5.png"));
    std::fs::write(&w5, b"\x89PNG truncated").unwrap();
    let e = fails("rcic-view", &["--data", dr, "--id-code", &id, "-o", o]);
    assert!(
        e.contains(&format!("{well}_s1_w5.png")) && e.contains("PNG"),
        "{e}"
    );
    std::fs::remove_file(&w5).unwrap();
    let e = fails("rcic-view", &["--data", dr, "--id-code", &id, "-o", o]);
    assert!(e.contains(&format!("{well}_s1_w5.png")), "{e}");
    only(&bad, &[]);
}

/// Standard base64 (the page's data URIs).
fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    } as u32;
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | val(c) << (18 - 6 * i));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn report_page_from_real_training_and_ensemble_runs() {
    let d = tempfile::tempdir().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let data = synth(d.path());
    let alias = "HUVEC-04=HEPG2-02:1";
    preprocess(&p("tiny"), &p("art"));
    let mut preds = Vec::new();
    for seed in ["0", "1"] {
        let m = p(&format!("seed{seed}/model"));
        let train = [
            "-e",
            "2",
            "--pl-epoch",
            "1",
            "--seed",
            seed,
            "--cv-number",
            "0",
        ];
        preds.push(tiny_model(&p("tiny"), &p("art"), &m, alias, "1", &train));
    }
    let mut args = vec![
        "--data".to_string(),
        p("tiny"),
        "--alias".into(),
        alias.into(),
        "--truth".into(),
        p("tiny-truth/test_truth.csv"),
        "-o".into(),
        p("sub/submission.csv"),
    ];
    args.extend(preds);
    run_ok(
        "rcic-ensemble",
        &args.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );
    let report_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("sub/report.json")).unwrap()).unwrap();

    // The pipeline's table: per file single-site (both sites of every
    // validation well scored) and combined-sites rows, then every step.
    let out = run_ok(
        "rcic-report",
        &["--summary", "--ensemble", &p("sub/report.json")],
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.starts_with("| step | validation | test (truth) |\n"),
        "{table}"
    );
    for (i, f) in report_json["files"].as_array().unwrap().iter().enumerate() {
        let seed = format!("seed{i}");
        let single = table
            .lines()
            .find(|l| l.starts_with(&format!("| {seed}: single model, single site |")))
            .unwrap_or_else(|| panic!("{table}"));
        let sites = 2 * f["val_wells"].as_u64().unwrap();
        assert!(single.contains(&format!("/{sites}) |")), "{single}");
        let combined = format!(
            "| {seed}: single model, sites combined | {:.5} ({}/{}) |",
            f["val"]["accuracy"].as_f64().unwrap(),
            f["val"]["correct"],
            f["val"]["wells"]
        );
        assert!(table.contains(&combined), "{combined}\n{table}");
    }
    for s in report_json["steps"].as_array().unwrap() {
        assert!(
            table.contains(&format!("| {} | ", s["label"].as_str().unwrap())),
            "{table}"
        );
    }

    let html_path = p("page/report.html");
    let m0 = format!("seed0={}", p("seed0/model.metrics.parquet"));
    let m1 = format!("seed1={}", p("seed1/model.metrics.parquet"));
    run_ok(
        "rcic-report",
        &[
            "-o",
            &html_path,
            "--metrics",
            &m0,
            &m1,
            "--ensemble",
            &p("sub/report.json"),
            "--data",
            &p("tiny"),
            "--samples",
            "4",
        ],
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    only(&d.path().join("page"), &["report.html"]);

    // Self-contained: no script, no external reference.
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for bad in ["<script", "http://", "https://", "src=\"/", "url("] {
        assert!(!html.contains(bad), "page contains {bad:?}");
    }

    // Training curves: three charts, one series per seed, 2 epochs each,
    // the pseudo-labelling epoch shaded.
    for t in ["Training loss", "Training accuracy", "Validation accuracy"] {
        assert!(html.contains(&format!(">{t}</text>")), "{t}");
    }
    assert!(html.contains(">seed0</text>") && html.contains(">seed1</text>"));
    assert!(html.contains("pseudo-labelling round at the start of epoch 1"));
    let training =
        &html[html.find("id=\"training\"").unwrap()..html.find("id=\"ensemble\"").unwrap()];
    assert_eq!(training.matches("<svg").count(), 3);
    assert_eq!(
        training.matches("<circle").count(),
        3 * 2 * 2,
        "3 charts x 2 seeds x 2 epochs"
    );

    // Ensemble: every step's label and validation score, and its chart.
    let ensemble =
        &html[html.find("id=\"ensemble\"").unwrap()..html.find("id=\"samples\"").unwrap()];
    assert!(ensemble.contains(">Accuracy by step</text>"));
    let steps = report_json["steps"].as_array().unwrap();
    assert!(steps.len() >= 4);
    for s in steps {
        let v = &s["val"];
        let cell = format!(
            "{:.5} ({}/{})",
            v["accuracy"].as_f64().unwrap(),
            v["correct"],
            v["wells"]
        );
        assert!(
            ensemble.contains(s["label"].as_str().unwrap()),
            "{}",
            s["label"]
        );
        assert!(ensemble.contains(&cell), "{cell}");
        assert!(ensemble.contains(&format!(">{}</text>", s["name"].as_str().unwrap())));
    }
    assert!(ensemble.contains("test (truth)"));

    // Samples: 4 composites, HEPG2-01 and HUVEC-01 first (cell types take
    // turns), each equal to the reference composite of its site 1.
    let samples = &html[html.find("id=\"samples\"").unwrap()..];
    let uris: Vec<&str> = samples
        .split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    let captions: Vec<&str> = samples
        .split("<figcaption><b>")
        .skip(1)
        .map(|s| &s[..s.find("</b>").unwrap()])
        .collect();
    assert_eq!((uris.len(), captions.len()), (4, 4));
    assert!(
        captions[0].starts_with("HEPG2-01_") && captions[1].starts_with("HUVEC-01_"),
        "{captions:?}"
    );
    let train_csv = std::fs::read_to_string(data.join("train.csv")).unwrap();
    for (uri, id) in uris.iter().zip(&captions) {
        let row = train_csv
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("{id} is a train treatment well"));
        let sirna = row.rsplit(',').next().unwrap();
        assert!(
            samples.contains(&format!("<b>{id}</b> s1<br>train · sirna {sirna}")),
            "{id}"
        );
        let img = image::load_from_memory(&b64decode(uri))
            .unwrap()
            .into_rgb8();
        assert_eq!(
            img,
            reference_composite(&site_channels(&data, "train", id, 1)),
            "{id}"
        );
    }

    // The same data in the public release's layout (rcic-synth --layout
    // public: the same images, metadata.csv with the test labels): the
    // ensemble, the summary and the page read it through the dataset index
    // and give the same table, captions and composites; metadata.csv serves
    // as the truth.
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "tiny",
            "--out",
            &p("public"),
            "--seed",
            "1",
            "--threads",
            "1",
            "--layout",
            "public",
            "-q",
        ],
    );
    assert!(!Path::new(&p("public/train.csv")).exists());
    let mut args = vec![
        "--data".to_string(),
        p("public"),
        "--alias".into(),
        alias.into(),
        "--truth".into(),
        p("public/metadata.csv"),
        "-o".into(),
        p("sub-public/submission.csv"),
    ];
    args.extend(
        report_json["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string()),
    );
    run_ok(
        "rcic-ensemble",
        &args.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );
    let out = run_ok(
        "rcic-report",
        &["--summary", "--ensemble", &p("sub-public/report.json")],
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), table);
    run_ok(
        "rcic-report",
        &[
            "-o",
            &p("page-public/report.html"),
            "--ensemble",
            &p("sub-public/report.json"),
            "--data",
            &p("public"),
            "--samples",
            "4",
        ],
    );
    let public_html = std::fs::read_to_string(p("page-public/report.html")).unwrap();
    let public_samples = &public_html[public_html.find("id=\"samples\"").unwrap()..];
    for (uri, id) in uris.iter().zip(&captions) {
        assert!(public_samples.contains(*uri), "{id}: the same composite");
        assert!(
            public_samples.contains(&format!("<b>{id}</b> s1<br>train · sirna ")),
            "{id}"
        );
    }
    let test_id = first_id(&data.join("test.csv"));
    for (root, png) in [("tiny", "view-c.png"), ("public", "view-p.png")] {
        run_ok(
            "rcic-view",
            &[
                "--data",
                &p(root),
                "--id-code",
                &test_id,
                "--site",
                "2",
                "-o",
                &p(png),
            ],
        );
    }
    assert_eq!(
        std::fs::read(p("view-c.png")).unwrap(),
        std::fs::read(p("view-p.png")).unwrap()
    );

    // Bad inputs: the file is named and nothing is written.
    let out = p("bad/report.html");
    std::fs::create_dir_all(p("bad")).unwrap();
    std::fs::write(p("bad/garbage.parquet"), b"not parquet").unwrap();
    std::fs::write(p("bad/report.json"), b"{\"steps\": [").unwrap();
    let e = fails(
        "rcic-report",
        &[
            "-o",
            &out,
            "--metrics",
            &format!("x={}", p("bad/garbage.parquet")),
        ],
    );
    assert!(e.contains("garbage.parquet"), "{e}");
    let e = fails(
        "rcic-report",
        &[
            "-o",
            &out,
            "--metrics",
            &m0,
            "--ensemble",
            &p("bad/report.json"),
        ],
    );
    assert!(e.contains("bad/report.json"), "{e}");
    let e = fails(
        "rcic-report",
        &["-o", &out, "--ensemble", &p("bad/missing.json")],
    );
    assert!(e.contains("missing.json"), "{e}");
    let e = fails(
        "rcic-report",
        &["-o", &out, "--metrics", &p("sub/report.json")],
    );
    assert!(e.contains("report.json") && e.contains("Parquet"), "{e}");
    let e = fails("rcic-report", &["-o", &out]);
    assert!(e.contains("nothing to report"), "{e}");
    only(&d.path().join("bad"), &["garbage.parquet", "report.json"]);
}
