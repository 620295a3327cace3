//! The direct page decoder of the logits ([`rcic_ensemble::pages`]) against
//! the Arrow reader, bit for bit, over the layouts writers produce: arrow-rs
//! (non-null items; v1 and v2 pages; plain, zstd; dictionary on, off and
//! overflowing into plain pages; small pages; many row groups) and pyarrow
//! (nullable lists and items, rows split across pages); and what it leaves
//! to the Arrow reader (other encodings, nulls).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt8Array,
};
use arrow_schema::{DataType, Field, Schema};
use common::*;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;
use rcic_ensemble::pages::{Dest, RowStream};
use rcic_ensemble::read::PredFile;

const CLASSES: usize = 37;

/// `n` rows of varied logits: normal-ish values, repeats (dictionary
/// hits), signed zeros, extremes; row `nan_row` holds a NaN and an infinity.
fn sample(n: usize, nan_row: Option<usize>) -> Vec<Row> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|r| {
            let logits = (0..CLASSES)
                .map(|c| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    match (x % 13, Some(r) == nan_row) {
                        (0, true) if c % 2 == 0 => f32::NAN,
                        (0, true) => f32::INFINITY,
                        (1, _) => -0.0,
                        (2, _) => f32::MAX,
                        (3..=5, _) => (x % 5) as f32,
                        _ => (x >> 40) as f32 / 1e5 - 80.0,
                    }
                })
                .collect();
            Row {
                split: if r % 3 == 0 { "val" } else { "test" }.into(),
                id_code: format!("E-01_{}_A{:02}", 1 + r % 4, r / 2),
                site: 1 + (r % 2) as u8,
                logits,
            }
        })
        .collect()
}

/// Every row through the direct decoder (pages read here, or ahead on a
/// thread): (values as bits, all finite).
fn decoded(path: &Path, rows: usize, ahead: bool) -> Vec<(Vec<u32>, bool)> {
    let mut s =
        RowStream::open(path, "logits", CLASSES, rows, ahead).expect("decoder reads the file");
    let mut out = Vec::new();
    while let Some((r, v, finite)) = s.next_row().expect("decoder reads every page") {
        assert_eq!(r, out.len());
        out.push((v.iter().map(|x| x.to_bits()).collect(), finite));
    }
    s.finish().expect("nothing left over");
    out
}

/// Every row through [`RowStream::next_into`], the first `CLASSES - 5`
/// values copied, added to 0.5 or only checked, in turn: (values as bits,
/// all finite, the largest sum when added).
fn decoded_into(path: &Path, rows: usize) -> Vec<(Vec<u32>, bool, Option<f32>)> {
    let mut s = RowStream::open(path, "logits", CLASSES, rows, false).unwrap();
    let mut out = Vec::new();
    loop {
        let r = out.len();
        let mut dst = vec![0.5f32; CLASSES - 5];
        let dest = match r % 3 {
            0 => Dest::Check,
            1 => Dest::Copy(&mut dst),
            _ => Dest::Add(&mut dst),
        };
        let Some((at, finite, top)) = s.next_into(dest).unwrap() else {
            break;
        };
        assert_eq!(at, r);
        let bits = dst.iter().map(|x| x.to_bits()).collect();
        out.push((bits, finite, (r % 3 == 2).then_some(top)));
    }
    s.finish().unwrap();
    out
}

fn assert_same(path: &Path, what: &str) {
    let whole = PredFile::read_keys(path).unwrap();
    let rows = whole.rows();
    let got = decoded(path, rows, false);
    assert_eq!(got, decoded(path, rows, true), "{what}: read ahead");
    for (r, ((bits, finite, top), (row, f))) in
        decoded_into(path, rows).iter().zip(&got).enumerate()
    {
        assert_eq!(finite, f, "{what}: into, row {r}");
        let row: Vec<f32> = row[..CLASSES - 5]
            .iter()
            .map(|&b| f32::from_bits(b))
            .collect();
        let want: Vec<f32> = match r % 3 {
            0 => vec![0.5; CLASSES - 5],
            1 => row,
            _ => row.iter().map(|x| 0.5 + x).collect(),
        };
        let want_bits: Vec<u32> = want.iter().map(|x| x.to_bits()).collect();
        assert_eq!(bits, &want_bits, "{what}: into, row {r}");
        if let Some(top) = top {
            let max = want
                .iter()
                .copied()
                .filter(|x| !x.is_nan())
                .fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(top.to_bits(), max.to_bits(), "{what}: into, row {r}");
        }
    }
    // The Arrow reader refuses non-finite logits: compare the values read
    // through a projection-free Arrow read of the raw column instead.
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut want: Vec<Vec<f32>> = Vec::new();
    for b in reader {
        let b = b.unwrap();
        let l = b
            .column_by_name("logits")
            .unwrap()
            .as_any()
            .downcast_ref::<FixedSizeListArray>()
            .unwrap()
            .clone();
        for i in 0..l.len() {
            let v = l.value(i);
            let v = v.as_any().downcast_ref::<Float32Array>().unwrap();
            want.push(v.values().to_vec());
        }
    }
    assert_eq!(got.len(), want.len(), "{what}: rows");
    for (r, ((g, finite), w)) in got.iter().zip(&want).enumerate() {
        let bits: Vec<u32> = w.iter().map(|v| v.to_bits()).collect();
        assert_eq!(g, &bits, "{what}: row {r}");
        assert_eq!(*finite, w.iter().all(|v| v.is_finite()), "{what}: row {r}");
    }
}

#[test]
fn decoder_equals_the_arrow_reader_for_arrow_rs_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let rows = sample(203, Some(57));
    let zstd = Compression::ZSTD(ZstdLevel::try_new(3).unwrap());
    let base = || WriterProperties::builder();
    let layouts: Vec<(&str, WriterProperties)> = vec![
        ("default", base().build()),
        (
            "zstd (as rcic-predict writes)",
            base().set_compression(zstd).build(),
        ),
        (
            "v2",
            base()
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .build(),
        ),
        (
            "v2 zstd small pages",
            base()
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_compression(zstd)
                .set_data_page_row_count_limit(5)
                .set_write_batch_size(5)
                .build(),
        ),
        (
            "no dictionary",
            base().set_dictionary_enabled(false).build(),
        ),
        (
            "dictionary overflowing into plain pages",
            base()
                .set_dictionary_page_size_limit(256)
                .set_data_page_size_limit(512)
                .set_write_batch_size(16)
                .build(),
        ),
        (
            "many row groups",
            base().set_max_row_group_row_count(Some(7)).build(),
        ),
    ];
    for (what, props) in layouts {
        let p = dir
            .path()
            .join(format!("{}.parquet", what.replace(' ', "_")));
        write_parquet_with(&p, &rows, CLASSES, Some(props));
        assert_same(&p, what);
    }
}

#[test]
fn decoder_equals_the_arrow_reader_for_pyarrow_layouts() {
    let dir = tempfile::tempdir().unwrap();
    // Nullable list and items (definition levels up to 3), dictionary then
    // plain pages, pages that end inside a row.
    let script = r#"
import sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
out, version = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(1)
n, c = 301, 37
x = rng.standard_normal((n, c), dtype=np.float32)
x[::7, 3] = 0.25
t = pa.table({
    "split": ["test"] * n,
    "id_code": [f"E-01_1_A{i:03d}" for i in range(n)],
    "site": pa.array([1] * n, pa.uint8()),
    "logits": pa.FixedSizeListArray.from_arrays(pa.array(x.ravel(), pa.float32()), c),
})
pq.write_table(t, out, compression="none", data_page_size=1000,
               dictionary_pagesize_limit=2000, data_page_version=version)
"#;
    for version in ["1.0", "2.0"] {
        let p = dir.path().join(format!("py{version}.parquet"));
        let out = Command::new(python())
            .args(["-c", script])
            .arg(&p)
            .arg(version)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same(&p, &format!("pyarrow data pages {version}"));
    }
}

#[test]
fn other_encodings_and_nulls_are_left_to_the_arrow_reader() {
    let dir = tempfile::tempdir().unwrap();
    let rows = sample(20, None);
    let p = dir.path().join("bss.parquet");
    let props = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .set_column_encoding(
            ColumnPath::from(vec!["logits".into(), "list".into(), "item".into()]),
            Encoding::BYTE_STREAM_SPLIT,
        )
        .build();
    write_parquet_with(&p, &rows, CLASSES, Some(props));
    let mut s = RowStream::open(&p, "logits", CLASSES, rows.len(), false).unwrap();
    assert!(
        s.next_row().is_err(),
        "BYTE_STREAM_SPLIT is not decoded directly"
    );
    assert_eq!(
        PredFile::read(&p).unwrap().row_logits(3),
        &rows[3].logits[..],
        "the Arrow reader reads it"
    );

    // A null item in a nullable column.
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    let mut values: Vec<Option<f32>> = rows
        .iter()
        .flat_map(|r| r.logits.iter().map(|&v| Some(v)))
        .collect();
    values[5 * CLASSES + 2] = None;
    let list = FixedSizeListArray::new(
        item.clone(),
        CLASSES as i32,
        Arc::new(Float32Array::from(values)),
        None,
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("split", DataType::Utf8, false),
        Field::new("id_code", DataType::Utf8, false),
        Field::new("site", DataType::UInt8, false),
        Field::new(
            "logits",
            DataType::FixedSizeList(item, CLASSES as i32),
            false,
        ),
    ]));
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
        Arc::new(list),
    ];
    let p = dir.path().join("null.parquet");
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&p).unwrap(), schema.clone(), None).unwrap();
    w.write(&RecordBatch::try_new(schema, cols).unwrap())
        .unwrap();
    w.close().unwrap();
    let mut s = RowStream::open(&p, "logits", CLASSES, rows.len(), false).unwrap();
    assert!(
        s.next_row().is_err(),
        "a page with a null is not decoded directly"
    );
    let e = PredFile::read(&p).unwrap_err().to_string();
    assert!(e.contains("null"), "{e}");
}
