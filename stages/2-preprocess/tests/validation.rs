//! Broken copies of the tiny dataset: every offending file is listed, the
//! run fails, and nothing is published.

mod common;

use std::path::PathBuf;

use common::*;

#[test]
fn every_offending_file_is_listed_and_nothing_is_published() {
    let d = tempfile::tempdir().unwrap();
    let good = d.path().join("good");
    write_dataset(&good);
    let data = d.path().join("broken");
    copy_tree(&good, &data);
    let p =
        |split, exp, plate, well, site, ch| image_path(&data, split, exp, plate, well, site, ch);
    let missing = p("train", "HEPG2-01", 1, "B02", 1, 3);
    std::fs::remove_file(&missing).unwrap();
    let garbage = p("train", "HEPG2-01", 2, "B03", 2, 1);
    std::fs::write(&garbage, b"this is not a png").unwrap();
    // A valid header with its image data cut off.
    let truncated = p("test", "HEPG2-02", 4, "C03", 1, 6);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let sixteen = p("test", "HEPG2-02", 1, "C02", 2, 2);
    image::ImageBuffer::<image::Luma<u16>, _>::from_raw(
        SIZE,
        SIZE,
        vec![1000u16; (SIZE * SIZE) as usize],
    )
    .unwrap()
    .save(&sixteen)
    .unwrap();
    let rgb = p("train", "HEPG2-01", 3, "B02", 1, 4);
    image::RgbImage::from_raw(SIZE, SIZE, vec![9u8; (SIZE * SIZE * 3) as usize])
        .unwrap()
        .save(&rgb)
        .unwrap();
    let small = p("train", "HEPG2-01", 4, "C03", 2, 5);
    write_png(&small, 8, 8, vec![3u8; 64]);
    let bad: Vec<PathBuf> = vec![missing, garbage, truncated, sixteen, rgb, small];

    for dest in [
        vec![
            "--store".to_string(),
            d.path().join("artifacts").display().to_string(),
        ],
        vec!["-o".into(), d.path().join("out").display().to_string()],
        // Three lanes of workers, each with its own writer (see pack.rs).
        vec![
            "-o".into(),
            d.path().join("out13").display().to_string(),
            "--threads".into(),
            "13".into(),
        ],
    ] {
        let mut args = vec!["--data", s(&data), "-q"];
        args.extend(dest.iter().map(|x| x.as_str()));
        let o = run(&args);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("6 offending file(s)"), "{err}");
        for (b, what) in bad.iter().zip([
            "missing",
            "not a readable PNG",
            "corrupt PNG",
            "16-bit grayscale PNG; expected 8-bit grayscale",
            "8-bit RGB PNG; expected 8-bit grayscale",
            "8x8 pixels; expected 16x16",
        ]) {
            let line = err
                .lines()
                .find(|l| l.contains(b.to_str().unwrap()))
                .unwrap_or_else(|| panic!("{} not listed:\n{err}", b.display()));
            assert!(line.contains(what), "{line}");
        }
    }
    let store = d.path().join("artifacts");
    assert!(published(&store, "preprocess").is_empty());
    assert!(
        entries(&store, "preprocess").is_empty(),
        "no temporary left: {:?}",
        entries(&store, "preprocess")
    );
    for out in ["out", "out13"] {
        let left: Vec<_> = std::fs::read_dir(d.path().join(out))
            .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "-o folder {out} must stay empty: {left:?}");
    }
}

#[test]
fn extra_files_are_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let extra = image_path(&data, "train", "HEPG2-01", 1, "D02", 1, 1);
    write_png(&extra, SIZE, SIZE, vec![0u8; (SIZE * SIZE) as usize]);
    std::fs::write(data.join("train").join("notes.txt"), "x").unwrap();
    let (dir, err) = run_ok(&["--data", s(&data), "--store", s(&d.path().join("a"))]);
    assert!(err.contains("warning: 2 file(s)"), "{err}");
    assert!(err.contains(extra.to_str().unwrap()), "{err}");
    assert!(dir.join("manifest.json").is_file());
}
