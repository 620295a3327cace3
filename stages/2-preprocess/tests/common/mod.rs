//! A tiny Kaggle-layout dataset written by the tests themselves (CSVs and
//! 8-bit grayscale PNGs), helpers to run the binary and to read its output.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 8 treatments in 4 groups of 2; controls 8 (positive) and 9 (negative).
pub const GROUPS: [[u32; 2]; 4] = [[0, 5], [1, 4], [2, 7], [3, 6]];
pub const WELLS: [&str; 4] = ["B02", "B03", "C02", "C03"];
/// (experiment, is_train, group rotation)
pub const EXPERIMENTS: [(&str, bool, usize); 2] = [("HEPG2-01", true, 0), ("HEPG2-02", false, 1)];
pub const SIZE: u32 = 16;

/// Deterministic pixel values of one image (a cheap hash of its name).
pub fn pixels(name: &str, n: usize) -> Vec<u8> {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    (0..n)
        .map(|_| {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            (h >> 24) as u8
        })
        .collect()
}

pub fn write_png(path: &Path, w: u32, h: u32, px: Vec<u8>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_raw(w, h, px)
        .unwrap()
        .save(path)
        .unwrap();
}

pub fn image_path(
    root: &Path,
    split: &str,
    exp: &str,
    plate: usize,
    well: &str,
    site: u8,
    ch: usize,
) -> PathBuf {
    root.join(split)
        .join(exp)
        .join(format!("Plate{plate}"))
        .join(format!("{well}_s{site}_w{ch}.png"))
}

/// Writes the dataset (2 experiments x 4 plates x 4 wells x 2 sites x 6
/// channels of SIZE x SIZE) into `root`.
pub fn write_dataset(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    let mut train = String::from("id_code,experiment,plate,well,sirna\n");
    let mut test = String::from("id_code,experiment,plate,well\n");
    let mut train_c = String::from("id_code,experiment,plate,well,sirna,well_type\n");
    let mut test_c = train_c.clone();
    for (e, is_train, rot) in EXPERIMENTS {
        let split = if is_train { "train" } else { "test" };
        for p in 1..=4usize {
            let g = GROUPS[(p - 1 + rot) % 4];
            let sirnas = [g[0], g[1], 8, 9];
            for (i, w) in WELLS.iter().enumerate() {
                let id = format!("{e}_{p}_{w}");
                let s = sirnas[(i + p) % 4];
                if s >= 8 {
                    let kind = if s == 9 {
                        "negative_control"
                    } else {
                        "positive_control"
                    };
                    let out = if is_train { &mut train_c } else { &mut test_c };
                    writeln!(out, "{id},{e},{p},{w},{s},{kind}").unwrap();
                } else if is_train {
                    writeln!(train, "{id},{e},{p},{w},{s}").unwrap();
                } else {
                    writeln!(test, "{id},{e},{p},{w}").unwrap();
                }
                for site in 1..=2u8 {
                    for ch in 1..=6 {
                        let path = image_path(root, split, e, p, w, site, ch);
                        let name = format!("{e}_{p}_{w}_{site}_{ch}");
                        write_png(&path, SIZE, SIZE, pixels(&name, (SIZE * SIZE) as usize));
                    }
                }
            }
        }
    }
    std::fs::write(root.join("train.csv"), train).unwrap();
    std::fs::write(root.join("test.csv"), test).unwrap();
    std::fs::write(root.join("train_controls.csv"), train_c).unwrap();
    std::fs::write(root.join("test_controls.csv"), test_c).unwrap();
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcic-preprocess"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs and asserts success; returns (artifact folder from stdout, stderr).
pub fn run_ok(args: &[&str]) -> (PathBuf, String) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        o.status.success(),
        "rcic-preprocess {args:?} failed:\n{err}"
    );
    (
        PathBuf::from(String::from_utf8(o.stdout).unwrap().trim()),
        err,
    )
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Decodes a PNG to its 8-bit pixels.
pub fn png_pixels(path: &Path) -> Vec<u8> {
    image::open(path).unwrap().to_luma8().into_raw()
}

/// (relative path, blake3) of an artifact folder's files, from its manifest.
pub fn manifest_files(dir: &Path) -> Vec<(String, String)> {
    let a = rcic_core::Artifact::open(dir).unwrap();
    a.manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), f.blake3.clone()))
        .collect()
}

/// Published artifact folders (with a manifest) under STORE/preprocess.
pub fn published(store: &Path, stage: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(store.join(stage)) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect()
}

/// Every entry under STORE/stage (published or temporary).
pub fn entries(store: &Path, stage: &str) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(store.join(stage)) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}
