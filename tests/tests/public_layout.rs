//! The public RxRx1 release's layout end to end: rcic-synth writes the tiny
//! preset as metadata.csv + images/, rcic-preprocess packs it into the same
//! tensors, sites and pixel statistics as the same data in the competition
//! layout (byte for byte but for the dataset key, which hashes the files),
//! its test labels are the truth, and bad public inputs fail with the file,
//! line and what was expected.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rcic_core::truth::read_truth;
use rcic_testkit::{run, run_ok, stderr};

struct Pair {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Pair {
    fn p(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn synth(out: &Path, layout: &str, extra: &[&str]) {
    let mut args = vec!["--preset", "tiny", "--out", s(out), "--seed", "0"];
    args.extend(["--threads", "1", "-q", "--layout", layout]);
    args.extend_from_slice(extra);
    run_ok("rcic-synth", &args);
}

fn preprocess(data: &Path, out: &Path) -> std::process::Output {
    run(
        "rcic-preprocess",
        &["--data", s(data), "-o", s(out), "-q", "--threads", "1"],
    )
}

/// The tiny preset (seed 0) in both layouts, each preprocessed with `-o`.
fn pair() -> &'static Pair {
    static P: OnceLock<Pair> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let f = Pair { _dir: dir, root };
        for layout in ["competition", "public"] {
            synth(&f.p(layout), layout, &[]);
            let o = preprocess(&f.p(layout), &f.p(&format!("{layout}.art")));
            assert!(o.status.success(), "{}", stderr(&o));
        }
        f
    })
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn input_key(artifact: &Path) -> String {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(artifact.join("manifest.json")).unwrap()).unwrap();
    m["inputs"][0]["key"].as_str().unwrap().to_string()
}

#[test]
fn the_public_layout_holds_the_same_images_and_truth() {
    let f = pair();
    let (c, p) = (f.p("competition"), f.p("public"));
    let names: Vec<String> = std::fs::read_dir(&p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["images", "metadata.csv"]);
    // The same PNGs, byte for byte, under images/ instead of train/ and test/.
    let mut comp_images: Vec<(PathBuf, PathBuf)> = Vec::new();
    for split in ["train", "test"] {
        for rel in files(&c.join(split)) {
            comp_images.push((c.join(split).join(&rel), rel));
        }
    }
    comp_images.sort_by(|a, b| a.1.cmp(&b.1));
    let pub_images = files(&p.join("images"));
    assert_eq!(
        comp_images.iter().map(|x| &x.1).collect::<Vec<_>>(),
        pub_images.iter().collect::<Vec<_>>()
    );
    for (path, rel) in &comp_images {
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(p.join("images").join(rel)).unwrap(),
            "{}",
            rel.display()
        );
    }
    // 768 sites, one row each.
    let meta = std::fs::read_to_string(p.join("metadata.csv")).unwrap();
    assert_eq!(meta.lines().count(), 1 + 768);
    // The truth folders agree, and metadata.csv's test labels are the truth.
    let (ct, pt) = (f.p("competition-truth"), f.p("public-truth"));
    assert_eq!(
        std::fs::read(ct.join("test_truth.csv")).unwrap(),
        std::fs::read(pt.join("test_truth.csv")).unwrap()
    );
    let truth = read_truth(&ct.join("test_truth.csv")).unwrap();
    assert!(!truth.is_empty());
    assert_eq!(read_truth(&p.join("metadata.csv")).unwrap(), truth);
}

#[test]
fn preprocess_packs_the_same_tensors_sites_and_statistics() {
    let f = pair();
    let (a, b) = (f.p("competition.art"), f.p("public.art"));
    let (ka, kb) = (input_key(&a), input_key(&b));
    assert_ne!(ka, kb, "the dataset key hashes the files, which differ");
    let parquet: Vec<PathBuf> = files(&a)
        .into_iter()
        .filter(|x| x.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert_eq!(
        parquet.len(),
        32 + 2,
        "a tensor file per plate, sites, statistics"
    );
    assert_eq!(
        parquet,
        files(&b)
            .into_iter()
            .filter(|x| x.extension().is_some_and(|e| e == "parquet"))
            .collect::<Vec<_>>()
    );
    for rel in &parquet {
        let x = std::fs::read(a.join(rel)).unwrap();
        let y = std::fs::read(b.join(rel)).unwrap();
        assert_same_but_for_key(rel, &x, &y, &ka, &kb);
    }
}

/// `x` and `y` are byte-identical once `y`'s dataset key is replaced by
/// `x`'s, except for one base64 span no longer than the key's encoding
/// (the key inside the Arrow schema that Parquet stores base64-encoded).
fn assert_same_but_for_key(rel: &Path, x: &[u8], y: &[u8], ka: &str, kb: &str) {
    assert_eq!(x.len(), y.len(), "{}", rel.display());
    let y = replace(y, kb.as_bytes(), ka.as_bytes());
    let diff: Vec<usize> = (0..x.len()).filter(|&i| x[i] != y[i]).collect();
    if let (Some(&first), Some(&last)) = (diff.first(), diff.last()) {
        assert!(
            last - first < ka.len() * 4 / 3 + 2,
            "{}: differs over bytes {first}..={last}",
            rel.display()
        );
        let b64 = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
        assert!(
            x[first..=last].iter().all(b64) && y[first..=last].iter().all(b64),
            "{}: differs outside the base64 schema",
            rel.display()
        );
    }
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = hay.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}

/// A public tiny dataset of its own (tables only unless `images`).
fn public_copy(images: bool) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    synth(&data, "public", if images { &[] } else { &["--no-images"] });
    (d, data)
}

fn edit(path: &Path, from: &str, to: &str) {
    rcic_testkit::csv_sets::edit(path, from, to);
}

#[test]
fn a_missing_column_or_a_wrong_well_type_fails_before_any_work() {
    let (d, data) = public_copy(false);
    let meta = data.join("metadata.csv");
    edit(&meta, "well_type,sirna,sirna_id", "well_type,sirna,class");
    let o = preprocess(&data, &d.path().join("a"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("metadata.csv") && e.contains("missing column(s) sirna_id"),
        "{e}"
    );
    edit(&meta, "well_type,sirna,class", "well_type,sirna,sirna_id");
    // Line 2 is the first site of the first well.
    edit(&meta, ",treatment,", ",control,");
    let o = preprocess(&data, &d.path().join("a"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("metadata.csv: line 2: well_type \"control\": expected treatment, negative_control or positive_control"),
        "{e}"
    );
    assert!(!d.path().join("a").exists(), "nothing is written");
}

#[test]
fn a_site_row_without_its_image_is_named() {
    let (d, data) = public_copy(true);
    let png = data.join("images/HUVEC-04/Plate2/B02_s2_w4.png");
    std::fs::remove_file(&png).unwrap();
    let o = preprocess(&data, &d.path().join("a"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains(s(&png)) && e.contains("missing"), "{e}");
    assert!(!d.path().join("a").exists(), "nothing is written");
}

#[test]
fn both_layouts_in_one_folder_is_refused() {
    let (d, data) = public_copy(false);
    std::fs::write(
        data.join("train.csv"),
        "id_code,experiment,plate,well,sirna\n",
    )
    .unwrap();
    let o = preprocess(&data, &d.path().join("a"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("metadata.csv") && e.contains("train.csv") && e.contains("one layout"),
        "{e}"
    );
}
