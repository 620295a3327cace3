//! Every bad input fails with a clear message naming what is wrong, and
//! writes nothing: different class counts, missing or duplicate (id_code,
//! site) rows, NaN/inf logits, a weights count not matching the files,
//! predictions for wells not in the dataset, test rows for training wells.

mod common;

use common::*;

const CLASSES: usize = 1139;

/// Runs the ensemble on files built from `edit`ed rows and expects failure
/// with `needle` in the message and an empty output folder.
fn fails(files: Vec<(Vec<Row>, usize)>, extra: &[&str], needle: &str) {
    let s = synth();
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec![
        "--data".into(),
        ps(&s.root).into(),
        "-o".into(),
        ps(&dir.path().join("out/sub.csv")).into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    for (i, (rows, classes)) in files.iter().enumerate() {
        let f = dir.path().join(format!("p{i}.parquet"));
        write_parquet(&f, rows, *classes);
        args.push(ps(&f).into());
    }
    let out = ensemble(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure for {needle:?}");
    assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    let out_dir = dir.path().join("out");
    assert!(
        !out_dir.exists() || std::fs::read_dir(&out_dir).unwrap().next().is_none(),
        "something was written for {needle:?}"
    );
}

fn base() -> Vec<Row> {
    // Weak signal, few rows matter: the checks run before any arithmetic.
    rows(synth(), 9, 1.0, CLASSES, false)
}

#[test]
fn different_class_counts() {
    let small: Vec<Row> = base()
        .into_iter()
        .map(|mut r| {
            r.logits.truncate(1120);
            r
        })
        .collect();
    fails(
        vec![(base(), CLASSES), (small, 1120)],
        &[],
        "1120 classes, but",
    );
}

#[test]
fn fewer_classes_than_treatments() {
    let small: Vec<Row> = base()
        .into_iter()
        .map(|mut r| {
            r.logits.truncate(100);
            r
        })
        .collect();
    fails(vec![(small, 100)], &[], "1108 treatment classes");
}

#[test]
fn missing_site() {
    let mut rows = base();
    let k = rows
        .iter()
        .position(|r| r.split == "test" && r.site == 2)
        .unwrap();
    let id = rows[k].id_code.clone();
    rows.remove(k);
    fails(
        vec![(rows, CLASSES)],
        &[],
        &format!("miss a site (expected sites 1..=2 each): test {id}"),
    );
}

#[test]
fn missing_test_well() {
    let mut rows = base();
    let id = rows
        .iter()
        .find(|r| r.split == "test")
        .unwrap()
        .id_code
        .clone();
    rows.retain(|r| r.id_code != id);
    fails(
        vec![(rows, CLASSES)],
        &[],
        &format!("test treatment well(s) of the dataset have no rows: {id}"),
    );
}

#[test]
fn missing_validation_well() {
    let mut rows = base();
    let id = rows
        .iter()
        .find(|r| r.split == "val")
        .unwrap()
        .id_code
        .clone();
    rows.retain(|r| !(r.split == "val" && r.id_code == id));
    fails(vec![(rows, CLASSES)], &[], &format!("no val rows: {id}"));
}

#[test]
fn duplicate_row() {
    let mut rows = base();
    let r = rows[5].clone();
    rows.push(r.clone());
    fails(
        vec![(rows, CLASSES)],
        &[],
        &format!(
            "occur more than once: {} {} site {}",
            r.split, r.id_code, r.site
        ),
    );
}

#[test]
fn nan_and_inf_logits() {
    for (v, name) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let mut rows = base();
        rows[3].logits[17] = v;
        fails(
            vec![(rows, CLASSES)],
            &[],
            &format!(
                "row 3 ({} site {}): logit of class 17 is {name}",
                base()[3].id_code,
                base()[3].site
            ),
        );
    }
}

#[test]
fn weights_count_mismatch() {
    fails(
        vec![(base(), CLASSES)],
        &["-w", "1,2"],
        "-w gives 2 weight(s) for 1 prediction file(s)",
    );
}

#[test]
fn well_not_in_dataset() {
    let mut rows = base();
    rows[0].id_code = "HEPG2-99_1_B02".into();
    fails(
        vec![(rows, CLASSES)],
        &[],
        "name wells that are not in the dataset: HEPG2-99_1_B02",
    );
}

#[test]
fn test_row_for_a_training_well() {
    let mut rows = base();
    let k = rows
        .iter()
        .position(|r| r.split == "val" && r.id_code.starts_with("HEPG2-02"))
        .unwrap();
    let mut extra = rows[k].clone();
    extra.split = "test".into();
    rows.push(extra);
    fails(
        vec![(rows, CLASSES)],
        &[],
        "test row(s) name wells of training experiments",
    );
}

#[test]
fn bad_split_name() {
    let mut rows = base();
    rows[2].split = "train".into();
    fails(
        vec![(rows, CLASSES)],
        &[],
        "row 2: split \"train\"; expected \"val\" or \"test\"",
    );
}

/// Writes `rows` with nullable logits (as other tools may write them),
/// nulling the list of row `null_row` or value `null_value` (row, class).
fn write_nullable(
    path: &std::path::Path,
    rows: &[Row],
    null_row: Option<usize>,
    null_value: Option<(usize, usize)>,
) {
    use arrow_array::{
        ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt8Array,
    };
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    let values: Float32Array = rows
        .iter()
        .enumerate()
        .flat_map(|(r, row)| {
            row.logits
                .iter()
                .enumerate()
                .map(move |(c, &x)| (null_value != Some((r, c))).then_some(x))
        })
        .collect();
    let valid = arrow_buffer::NullBuffer::from(
        (0..rows.len())
            .map(|r| Some(r) != null_row)
            .collect::<Vec<_>>(),
    );
    let logits =
        FixedSizeListArray::new(item.clone(), CLASSES as i32, Arc::new(values), Some(valid));
    let schema = Arc::new(Schema::new(vec![
        Field::new("split", DataType::Utf8, false),
        Field::new("id_code", DataType::Utf8, false),
        Field::new("site", DataType::UInt8, false),
        Field::new(
            "logits",
            DataType::FixedSizeList(item, CLASSES as i32),
            true,
        ),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.split))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &r.id_code),
        )),
        Arc::new(UInt8Array::from_iter_values(rows.iter().map(|r| r.site))),
        Arc::new(logits),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn null_logits_name_the_row() {
    let s = synth();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (None, None, None),
        (Some(4), None, Some("row 4: column logits is null or empty")),
        (
            None,
            Some((7, 30)),
            Some("row 7: logit of class 30 is null"),
        ),
    ];
    for (i, (null_row, null_value, needle)) in cases.into_iter().enumerate() {
        let f = dir.path().join(format!("n{i}.parquet"));
        write_nullable(&f, &base(), null_row, null_value);
        let out_dir = dir.path().join(format!("out{i}"));
        let out = ensemble(&[
            "--data",
            ps(&s.root),
            "-o",
            ps(&out_dir.join("sub.csv")),
            ps(&f),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        match needle {
            // Nullable columns without a null read like the product's own.
            None => assert!(out.status.success(), "{err}"),
            Some(needle) => {
                assert!(!out.status.success(), "expected failure for {needle:?}");
                assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
                assert!(!out_dir.join("sub.csv").exists());
            }
        }
    }
}
