//! Shared test helpers: a synthetic RxRx1-structured dataset (CSVs only, from
//! the real `rcic-synth` binary, a subset of its experiments to stay fast),
//! prediction Parquet files with random logits plus signal on the true
//! class, and running the real `rcic-ensemble` binary.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use arrow_array::{
    ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt8Array,
};
use arrow_schema::{DataType, Field};
use parquet::arrow::ArrowWriter;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rcic_core::{DatasetIndex, IndexOptions, Split, WellType};

/// Train experiments (groups, the alias source RPE-03), test ones (the alias
/// target HUVEC-18 among them).
pub const EXPERIMENTS: &str = "HEPG2-01,HEPG2-02,HUVEC-01,RPE-03,U2OS-01,HEPG2-08,HUVEC-18,U2OS-04";
/// Validation experiments of the generated predictions (HUVEC-18 is
/// labelled through the alias).
pub const VAL: &[&str] = &["HEPG2-02", "HUVEC-18"];

pub struct Synth {
    pub root: PathBuf,
    pub truth: PathBuf,
    pub index: DatasetIndex,
    pub truth_map: HashMap<String, u32>,
    _dir: tempfile::TempDir,
}

fn target_dir() -> PathBuf {
    if let Ok(t) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(t);
    }
    // .../target/debug/rcic-ensemble -> .../target
    PathBuf::from(env!("CARGO_BIN_EXE_rcic-ensemble"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

/// The `rcic-synth` binary (built by `cargo build -p rcic-synth`, or by any
/// workspace build).
pub fn synth_bin() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_BIN_EXE_rcic-ensemble")).with_file_name("rcic-synth");
    let p = if p.is_file() {
        p
    } else {
        target_dir().join("debug").join("rcic-synth")
    };
    assert!(
        p.is_file(),
        "{} missing: build it first with `cargo build -p rcic-synth`",
        p.display()
    );
    p
}

/// The project venv's Python with pandas and scipy (`make deps`).
pub fn python() -> PathBuf {
    let p = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../../.venv/bin/python");
    assert!(
        p.is_file(),
        "{} missing: run `make deps` (pandas, scipy, pyarrow)",
        p.display()
    );
    p
}

pub fn fixture(name: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("tests/fixtures")
        .join(name)
}

/// The dataset, generated once per test binary.
pub fn synth() -> &'static Synth {
    static S: OnceLock<Synth> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("rxrx1");
        let out = Command::new(synth_bin())
            .args([
                "--preset",
                "rxrx1",
                "--no-images",
                "--seed",
                "0",
                "--experiments",
                EXPERIMENTS,
                "--out",
            ])
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rcic-synth failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let truth = dir.path().join("rxrx1-truth").join("test_truth.csv");
        let index = DatasetIndex::load(&root, &IndexOptions::default()).unwrap();
        let truth_map = rcic_core::truth::read_truth(&truth).unwrap();
        Synth {
            root,
            truth,
            index,
            truth_map,
            _dir: dir,
        }
    })
}

/// One prediction row.
#[derive(Clone)]
pub struct Row {
    pub split: String,
    pub id_code: String,
    pub site: u8,
    pub logits: Vec<f32>,
}

/// Rows for every test well (controls too when `controls`) and every well of
/// the validation experiments: N(0,1) logits plus `signal` on the true class.
pub fn rows(s: &Synth, seed: u64, signal: f32, classes: usize, controls: bool) -> Vec<Row> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for w in &s.index.wells {
        let e = &s.index.experiments[w.experiment];
        let id = s.index.id_code(w);
        let test = e.split == Split::Test;
        let treatment = w.well_type == WellType::Treatment;
        let mut splits = Vec::new();
        if test && (treatment || controls) {
            splits.push("test");
        }
        if VAL.contains(&e.name.as_str()) && (treatment || controls && !test) {
            splits.push("val");
        }
        for split in splits {
            let truth = if treatment && test {
                s.truth_map.get(&id).copied()
            } else {
                w.label
            };
            for site in 1..=2u8 {
                let mut l: Vec<f32> = (0..classes)
                    .map(|_| rng.sample::<f32, _>(StandardNormal))
                    .collect();
                if let Some(t) = truth {
                    l[t as usize] += signal;
                }
                out.push(Row {
                    split: split.into(),
                    id_code: id.clone(),
                    site,
                    logits: l,
                });
            }
        }
    }
    out
}

pub fn write_parquet(path: &Path, rows: &[Row], classes: usize) {
    write_parquet_with(path, rows, classes, None)
}

/// As [`write_parquet`], with the given writer properties (codec, page
/// version and sizes, encodings, row groups).
pub fn write_parquet_with(
    path: &Path,
    rows: &[Row],
    classes: usize,
    props: Option<parquet::file::properties::WriterProperties>,
) {
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let values = Float32Array::from(
        rows.iter()
            .flat_map(|r| r.logits.iter().copied())
            .collect::<Vec<f32>>(),
    );
    let logits = FixedSizeListArray::new(item, classes as i32, Arc::new(values), None);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.split.as_str()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.id_code.as_str()).collect::<Vec<_>>(),
        )),
        Arc::new(UInt8Array::from(
            rows.iter().map(|r| r.site).collect::<Vec<_>>(),
        )),
        Arc::new(logits),
    ];
    let schema = Arc::new(rcic_core::schema::predictions_schema(classes));
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, props).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

pub fn ensemble(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcic-ensemble"))
        .args(args)
        .output()
        .unwrap()
}

pub fn ps(p: &Path) -> &str {
    p.to_str().unwrap()
}
