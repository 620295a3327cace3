//! The packed tensors give back exactly the PNG pixels (or their documented
//! area downscale), with the statistics of data-schemas/, and the store
//! reuses an artifact until an input changes.

mod common;

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt64Type, UInt8Type};
use arrow_array::Array;
use common::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rcic_core::tensors::SiteTensors;
use rcic_core::{DatasetIndex, CHANNELS};

fn read_parquet(path: &Path) -> arrow_array::RecordBatch {
    let f = std::fs::File::open(path).unwrap();
    let r = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = r.map(|b| b.unwrap()).collect();
    arrow_select_concat(&batches)
}

fn arrow_select_concat(b: &[arrow_array::RecordBatch]) -> arrow_array::RecordBatch {
    assert_eq!(b.len(), 1, "small test files are one batch");
    b[0].clone()
}

fn mean_std(px: &[u8]) -> (f64, f64) {
    let n = px.len() as f64;
    let m = px.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = px.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

#[test]
fn round_trip_is_pixel_exact_with_documented_statistics() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let store = d.path().join("artifacts");
    let (dir, _) = run_ok(&[
        "--data",
        s(&data),
        "--store",
        s(&store),
        "--threads",
        "2",
        "-q",
    ]);
    assert!(
        dir.starts_with(store.join("preprocess")),
        "{}",
        dir.display()
    );
    let index = DatasetIndex::load(&data, &Default::default()).unwrap();
    let t = SiteTensors::open(&dir).unwrap();
    assert_eq!(t.len(), 64);
    assert_eq!(t.image_size(), SIZE as usize);
    let plane = (SIZE * SIZE) as usize;
    // Per-plate pixel sums for the pixel_stats check: (experiment, plate, channel) -> all pixels.
    let mut groups: std::collections::BTreeMap<(String, Option<u8>, u8), Vec<u8>> =
        Default::default();
    for (row, site) in index.sites().enumerate() {
        let got = t.site(row as u32).unwrap();
        let exp = index.experiments[site.well.experiment].name.clone();
        for c in 0..CHANNELS {
            let want = png_pixels(&index.image_path(site.well, site.site, c + 1));
            let have = &got.pixels[c * plane..(c + 1) * plane];
            assert_eq!(have, want.as_slice(), "row {row} channel {}", c + 1);
            let (m, sd) = mean_std(&want);
            assert!(
                (got.mean[c] as f64 - m).abs() < 1e-4 && (got.std[c] as f64 - sd).abs() < 1e-4,
                "row {row} stats"
            );
            groups
                .entry((exp.clone(), Some(site.well.plate), c as u8 + 1))
                .or_default()
                .extend(&want);
            groups
                .entry((exp.clone(), None, c as u8 + 1))
                .or_default()
                .extend(&want);
        }
    }
    // pixel_stats.parquet: one row per (experiment | plate, channel).
    let ps = read_parquet(&dir.join("pixel_stats.parquet"));
    assert_eq!(ps.num_rows(), 2 * (1 + 4) * 6);
    let level = ps.column(0).as_string::<i32>();
    let exp = ps.column(1).as_string::<i32>();
    let plate = ps.column(2).as_primitive::<UInt8Type>();
    let ch = ps.column(3).as_primitive::<UInt8Type>();
    let mean = ps.column(4).as_primitive::<Float64Type>();
    let std = ps.column(5).as_primitive::<Float64Type>();
    let sites = ps.column(6).as_primitive::<UInt64Type>();
    for i in 0..ps.num_rows() {
        let p = if plate.is_null(i) {
            None
        } else {
            Some(plate.value(i))
        };
        assert_eq!(
            level.value(i),
            if p.is_some() { "plate" } else { "experiment" }
        );
        let px = &groups[&(exp.value(i).to_string(), p, ch.value(i))];
        let (m, sd) = mean_std(px);
        assert!(
            (mean.value(i) - m).abs() < 1e-9 && (std.value(i) - sd).abs() < 1e-9,
            "pixel_stats row {i}"
        );
        assert_eq!(sites.value(i) as usize, px.len() / plane);
    }
    assert_eq!((level.value(0), exp.value(0)), ("experiment", "HEPG2-01"));
    assert_eq!(read_parquet(&dir.join("sites.parquet")).num_rows(), 64);
    let files: Vec<String> = manifest_files(&dir).into_iter().map(|f| f.0).collect();
    assert!(
        files.contains(&"tensors-HEPG2-02_4.parquet".to_string()),
        "{files:?}"
    );
    assert_eq!(
        files.iter().filter(|f| f.starts_with("tensors-")).count(),
        8
    );
}

/// Whatever the thread count (1 worker; 2; 13 in three lanes, each with its
/// own writer), the artifact is the same bytes, and the hashes recorded while
/// writing are those of the files on disk.
#[test]
fn output_bytes_do_not_depend_on_threads_or_lanes() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let mut seen = Vec::new();
    for threads in ["1", "2", "13"] {
        let out = d.path().join(format!("out-{threads}"));
        run_ok(&[
            "--data",
            s(&data),
            "-o",
            s(&out),
            "--threads",
            threads,
            "-q",
        ]);
        rcic_core::Artifact::open(&out).unwrap().verify().unwrap();
        let mut files = manifest_files(&out);
        files.retain(|f| f.0 != "preprocess.log"); // it has times
        seen.push(files);
    }
    assert_eq!(seen[0].len(), 8 + 2, "8 plates, sites, pixel stats");
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
}

#[test]
fn downscale_is_the_block_mean_rounded_half_up() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let out = d.path().join("out");
    let (dir, _) = run_ok(&["--data", s(&data), "-o", s(&out), "--image-size", "4", "-q"]);
    assert_eq!(dir, out);
    let index = DatasetIndex::load(&data, &Default::default()).unwrap();
    let t = SiteTensors::open(&out).unwrap();
    assert_eq!(t.image_size(), 4);
    let f = (SIZE / 4) as usize;
    for (row, site) in index.sites().enumerate().step_by(7) {
        let got = t.site(row as u32).unwrap().pixels;
        for c in 0..CHANNELS {
            let src = png_pixels(&index.image_path(site.well, site.site, c + 1));
            for y in 0..4 {
                for x in 0..4 {
                    let mut sum = 0u32;
                    for dy in 0..f {
                        for dx in 0..f {
                            sum += src[(y * f + dy) * SIZE as usize + x * f + dx] as u32;
                        }
                    }
                    // mean = sum / 16, rounded half up.
                    let want = ((sum as f64 / (f * f) as f64) + 0.5).floor() as u8;
                    assert_eq!(got[c * 16 + y * 4 + x], want, "row {row} c {c} ({x},{y})");
                }
            }
        }
    }
    // A size that does not divide the source fails before writing anything.
    let out2 = d.path().join("out2");
    let o = run(&[
        "--data",
        s(&data),
        "-o",
        s(&out2),
        "--image-size",
        "5",
        "-q",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--image-size 5 does not divide the source size 16"),
        "{err}"
    );
    assert!(!out2.join("manifest.json").exists());
}

#[test]
fn rerun_reuses_and_changed_inputs_change_the_key() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let store = d.path().join("artifacts");
    let args = ["--data", s(&data), "--store", s(&store)];
    let (first, err1) = run_ok(&args);
    assert!(!err1.contains("reus"), "{err1}");
    let (second, err2) = run_ok(&args);
    assert_eq!(first, second);
    assert!(err2.contains("reused existing artifact"), "{err2}");
    // -o gets the same key and the same tensor files.
    let out = d.path().join("out");
    let (o, _) = run_ok(&["--data", s(&data), "-o", s(&out), "-q"]);
    let (_, erro) = run_ok(&["--data", s(&data), "-o", s(&out)]);
    assert!(erro.contains("reused existing artifact"), "{erro}");
    let a = rcic_core::Artifact::open(&first).unwrap();
    let b = rcic_core::Artifact::open(&o).unwrap();
    assert_eq!(a.key(), b.key());
    let tensors = |dir| {
        manifest_files(dir)
            .into_iter()
            .filter(|f| f.0 != "preprocess.log")
            .collect::<Vec<_>>()
    };
    assert_eq!(tensors(&first), tensors(&o));
    // Another parameter, another key.
    let (small, _) = run_ok(&[
        "--data",
        s(&data),
        "--store",
        s(&store),
        "--image-size",
        "8",
        "-q",
    ]);
    assert_ne!(small, first);
    // One changed PNG: a new key, and the new pixels.
    let png = image_path(&data, "test", "HEPG2-02", 3, "C02", 2, 5);
    write_png(&png, SIZE, SIZE, vec![7u8; (SIZE * SIZE) as usize]);
    let (changed, err3) = run_ok(&args);
    assert_ne!(changed, first);
    assert!(!err3.contains("reus"), "{err3}");
    let index = DatasetIndex::load(&data, &Default::default()).unwrap();
    let row = index
        .sites()
        .position(|x| index.id_code(x.well) == "HEPG2-02_3_C02" && x.site == 2)
        .unwrap();
    let px = SiteTensors::open(&changed)
        .unwrap()
        .site(row as u32)
        .unwrap()
        .pixels;
    let plane = (SIZE * SIZE) as usize;
    assert!(px[4 * plane..5 * plane].iter().all(|&v| v == 7));
    // A changed CSV (one more file byte) changes the key too.
    let csv = data.join("train.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text = text.replacen(
        "HEPG2-01_1_B02,HEPG2-01,1,B02",
        "HEPG2-01_1_B02,HEPG2-01,01,B02",
        1,
    );
    std::fs::write(&csv, text).unwrap();
    let (csv_changed, _) = run_ok(&args);
    assert_ne!(csv_changed, changed);
}

/// The artifact's files (but its log) as `path blake3` lines.
fn file_hashes(dir: &Path) -> Vec<String> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    m["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] != "preprocess.log")
        .map(|f| {
            format!(
                "{} {}",
                f["path"].as_str().unwrap(),
                f["blake3"].as_str().unwrap()
            )
        })
        .collect()
}

/// Decoding and packing faster must not change a byte of the output: the
/// files of the test dataset, stored at full size and downscaled, hash to
/// what the packer wrote before its PNG fast path, SIMD sums and buffer
/// reuse (recorded with that build).
#[test]
fn files_keep_the_bytes_recorded_before_the_fast_path() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    for (size, want) in [
        (
            "16",
            "34e195147d1d3e99750419581e3707b93c648fa5d689c537ad50100a473ad5cd",
        ),
        (
            "4",
            "ca6c59930a09dffd17f5966960b805ec7f67d63aa3f5d3502763743371ba32bf",
        ),
    ] {
        let out = d.path().join(format!("out-{size}"));
        run_ok(&[
            "--data",
            s(&data),
            "-o",
            s(&out),
            "--image-size",
            size,
            "-q",
        ]);
        let lines = file_hashes(&out);
        let got = blake3::hash(lines.join("\n").as_bytes())
            .to_hex()
            .to_string();
        assert_eq!(
            got,
            want,
            "--image-size {size}: files\n{}",
            lines.join("\n")
        );
    }
}
