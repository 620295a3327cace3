//! Prediction files come from other tools too: the same rows written with
//! every standard Parquet codec, by the parquet crate (uncompressed, snappy,
//! gzip, lz4, lz4_raw, brotli, zstd, and zstd with the logits
//! byte-stream-split as rcic-predict writes them) and by pyarrow (its default
//! snappy as pandas writes it, and the others it offers), give the same
//! submission.

mod common;

use std::path::Path;

use common::*;
use parquet::basic::{BrotliLevel, Compression, Encoding, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnPath;

const CLASSES: usize = 1139;

/// The submission the ensemble writes for `file`.
fn submission(s: &Synth, dir: &Path, file: &Path) -> String {
    let name = file.file_stem().unwrap().to_string_lossy();
    let out = dir.join(format!("out-{name}/submission.csv"));
    let run = ensemble(&["--data", ps(&s.root), "-o", ps(&out), ps(file)]);
    assert!(
        run.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn every_codec_of_the_parquet_crate_reads_the_same() {
    let s = synth();
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(s, 11, 2.0, CLASSES, false);
    let plain = dir.path().join("none.parquet");
    write_parquet_with(&plain, &rows, CLASSES, None);
    let expected = submission(s, dir.path(), &plain);
    for (name, codec) in [
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("lz4", Compression::LZ4),
        ("lz4_raw", Compression::LZ4_RAW),
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
    ] {
        let f = dir.path().join(format!("{name}.parquet"));
        let props = WriterProperties::builder().set_compression(codec).build();
        write_parquet_with(&f, &rows, CLASSES, Some(props));
        assert_eq!(submission(s, dir.path(), &f), expected, "{name}");
    }
    // What rcic-predict writes: zstd, the logits byte-stream-split.
    let logits = ColumnPath::new(vec!["logits".into(), "list".into(), "item".into()]);
    let f = dir.path().join("zstd-byte-stream-split.parquet");
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap()))
        .set_column_dictionary_enabled(logits.clone(), false)
        .set_column_encoding(logits, Encoding::BYTE_STREAM_SPLIT)
        .build();
    write_parquet_with(&f, &rows, CLASSES, Some(props));
    let meta = SerializedFileReader::new(std::fs::File::open(&f).unwrap())
        .unwrap()
        .metadata()
        .row_group(0)
        .column(3)
        .clone();
    assert!(
        meta.encodings().any(|e| e == Encoding::BYTE_STREAM_SPLIT),
        "{meta:?}"
    );
    assert_eq!(submission(s, dir.path(), &f), expected, "byte stream split");
}

#[test]
fn every_codec_of_pyarrow_reads_the_same() {
    let s = synth();
    let dir = tempfile::tempdir().unwrap();
    let make = |compression: &str| {
        let f = dir.path().join(format!("py-{compression}.parquet"));
        let out = std::process::Command::new(python())
            .arg(fixture("make_predictions.py"))
            .args([ps(&s.root), ps(&s.truth), ps(&f), "3", "2.0"])
            .arg(VAL.join(","))
            .arg(compression)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "make_predictions.py {compression}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        f
    };
    let expected = submission(s, dir.path(), &make("none"));
    for compression in ["snappy", "gzip", "lz4", "brotli", "zstd", "predict"] {
        let f = make(compression);
        assert_eq!(
            submission(s, dir.path(), &f),
            expected,
            "pyarrow {compression}"
        );
    }
}
