//! The pipeline's accuracy table, what `make submission` prints at its end:
//! each seed's single model on single sites (scored here from its
//! predictions Parquet, argmax over the treatment classes), the same model
//! with its two sites combined, then the ensemble's steps, all from the
//! ensemble's `report.json` (which names the prediction files, the dataset
//! and the truth file). Validation sites are labelled from the dataset's
//! training wells (read by rcic-core's dataset index in either layout) and,
//! on synthetic data, the truth file; test sites from the truth file only
//! (a test_truth.csv or the public release's metadata.csv).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::{Array, FixedSizeListArray, Float32Array, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rcic_core::truth::read_truth;
use rcic_core::{Split, WellType};

use crate::ensemble::Score;
use crate::error::{ReportError, Result};

/// Correct and scored sites of one split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteScore {
    pub correct: usize,
    pub sites: usize,
}

impl SiteScore {
    fn cell(&self) -> String {
        if self.sites == 0 {
            return "-".into();
        }
        format!(
            "{:.5} ({}/{})",
            self.correct as f64 / self.sites as f64,
            self.correct,
            self.sites
        )
    }
}

/// `id_code -> sirna` of the labelled treatment wells of the training
/// experiments, from the dataset index (either layout: train.csv, or the
/// public metadata.csv's train rows).
pub fn train_labels(root: &Path, into: &mut HashMap<String, u32>) -> Result<()> {
    let index = crate::catalog::load_index(root)?;
    for w in &index.wells {
        if let (Split::Train, WellType::Treatment, Some(s)) =
            (index.experiments[w.experiment].split, w.well_type, w.sirna)
        {
            into.insert(index.id_code(w), s);
        }
    }
    Ok(())
}

/// Single-site accuracy of one predictions file per split (`val`, `test`),
/// over the first `treatments` logits; sites without a label are skipped.
pub fn site_scores(
    path: &Path,
    treatments: usize,
    val_labels: &HashMap<String, u32>,
    test_labels: &HashMap<String, u32>,
) -> Result<(SiteScore, SiteScore)> {
    let pq = |cause| ReportError::Parquet {
        path: path.to_path_buf(),
        cause,
    };
    let bad = |message: String| ReportError::Input {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(|e| ReportError::io(path, "cannot open predictions", e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq)?
        .build()
        .map_err(pq)?;
    let (mut val, mut test) = (SiteScore::default(), SiteScore::default());
    for batch in reader {
        let batch = batch.map_err(|e| bad(format!("cannot decode: {e}")))?;
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| bad(format!("no column {name:?} (data-schemas/predictions.md)")))
        };
        let strings = |name: &str| -> Result<StringArray> {
            column(name)?
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| bad(format!("column {name:?} is not utf8")))
        };
        let split = strings("split")?;
        let ids = strings("id_code")?;
        let logits = column("logits")?
            .as_any()
            .downcast_ref::<FixedSizeListArray>()
            .cloned()
            .ok_or_else(|| bad("column \"logits\" is not a fixed_size_list".into()))?;
        let width = logits.value_length() as usize;
        if treatments == 0 || treatments > width {
            return Err(bad(format!(
                "{width} logits per site, {treatments} treatment classes"
            )));
        }
        let values = logits
            .values()
            .as_any()
            .downcast_ref::<Float32Array>()
            .ok_or_else(|| bad("logits are not float32".into()))?
            .values();
        for row in 0..batch.num_rows() {
            let (labels, score) = match split.value(row) {
                "val" => (val_labels, &mut val),
                "test" => (test_labels, &mut test),
                other => return Err(bad(format!("row {row}: split {other:?}"))),
            };
            let Some(&label) = labels.get(ids.value(row)) else {
                continue;
            };
            let start = (logits.offset() + row) * width;
            let x = &values[start..start + treatments];
            let best = (0..treatments).fold(0, |b, k| if x[k] > x[b] { k } else { b });
            score.sites += 1;
            score.correct += (best as u32 == label) as usize;
        }
    }
    Ok((val, test))
}

fn well_cell(s: Option<&Score>) -> String {
    match s {
        Some(s) if s.wells > 0 => format!(
            "{:.5} ({}/{})",
            s.accuracy.unwrap_or(s.correct as f64 / s.wells as f64),
            s.correct,
            s.wells
        ),
        _ => "-".into(),
    }
}

/// The table in Markdown: per prediction file its single-site and
/// combined-sites accuracy, then every ensemble step.
pub fn table(report_path: &Path) -> Result<String> {
    let report = crate::ensemble::read(report_path)?;
    let mut val_labels = HashMap::new();
    let mut test_labels = HashMap::new();
    train_labels(&PathBuf::from(&report.data), &mut val_labels)?;
    if let Some(truth) = &report.options.truth {
        test_labels = read_truth(Path::new(truth))?;
        for (k, v) in &test_labels {
            val_labels.entry(k.clone()).or_insert(*v);
        }
    }
    let mut out = String::from("| step | validation | test (truth) |\n|---|---|---|\n");
    for f in &report.files {
        let name = Path::new(&f.path)
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| f.path.clone(), |n| n.to_string_lossy().into_owned());
        let (v, t) = site_scores(
            Path::new(&f.path),
            report.treatments,
            &val_labels,
            &test_labels,
        )?;
        out += &format!(
            "| {name}: single model, single site | {} | {} |\n",
            v.cell(),
            t.cell()
        );
        out += &format!(
            "| {name}: single model, sites combined | {} | {} |\n",
            well_cell(Some(&f.val)),
            well_cell(f.test.as_ref())
        );
    }
    for s in &report.steps {
        out += &format!(
            "| {} | {} | {} |\n",
            s.label,
            well_cell(Some(&s.val)),
            well_cell(s.test.as_ref())
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::types::Float32Type;
    use arrow_array::{ArrayRef, RecordBatch, UInt8Array};
    use std::sync::Arc;

    fn write_predictions(path: &Path, rows: &[(&str, &str, [f32; 4])]) {
        let logits = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(
            rows.iter()
                .map(|r| Some(r.2.iter().map(|&v| Some(v)).collect::<Vec<_>>())),
            4,
        );
        let col = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
        let batch = RecordBatch::try_from_iter(vec![
            ("split", col(rows.iter().map(|r| r.0).collect())),
            ("id_code", col(rows.iter().map(|r| r.1).collect())),
            (
                "site",
                Arc::new(UInt8Array::from(vec![1u8; rows.len()])) as ArrayRef,
            ),
            ("logits", Arc::new(logits) as ArrayRef),
        ])
        .unwrap();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None)
                .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn single_site_scores_use_treatment_classes_and_skip_unlabelled() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.parquet");
        write_predictions(
            &p,
            &[
                ("val", "A_1_B02", [0.0, 2.0, 1.0, 9.0]), // class 3 is a control: argmax over 0..3 -> 1
                ("val", "A_1_B03", [3.0, 2.0, 1.0, 0.0]), // 0, label 2: wrong
                ("val", "A_1_B04", [0.0, 0.0, 5.0, 0.0]), // unlabelled: skipped
                ("test", "T_1_B02", [0.0, 0.0, 5.0, 0.0]), // 2, label 2
            ],
        );
        let val: HashMap<String, u32> =
            [("A_1_B02".to_string(), 1), ("A_1_B03".to_string(), 2)].into();
        let test: HashMap<String, u32> = [("T_1_B02".to_string(), 2)].into();
        let (v, t) = site_scores(&p, 3, &val, &test).unwrap();
        assert_eq!(
            v,
            SiteScore {
                correct: 1,
                sites: 2
            }
        );
        assert_eq!(
            t,
            SiteScore {
                correct: 1,
                sites: 1
            }
        );
        assert_eq!(v.cell(), "0.50000 (1/2)");
        assert!(
            site_scores(&p, 5, &val, &test).is_err(),
            "more treatments than logits"
        );
    }
}
