//! Reading the ensemble stage's `report.json` (data-schemas/submission.md,
//! written by stages/6-ensemble/src/report.rs): the run facts, the files, the
//! accuracy after each step and the plate-group choices. Only what the page
//! shows is read; other keys are ignored, so the page survives additions.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{ReportError, Result};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Score {
    /// Null when there were no wells.
    pub accuracy: Option<f64>,
    pub correct: usize,
    pub wells: usize,
    #[serde(default)]
    pub per_experiment: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Step {
    /// `average`, `ensemble`, `plate_groups`, `assignment`, `alias_labels`.
    pub name: String,
    /// The reference's log text for the step.
    pub label: String,
    pub val: Score,
    /// Against `--truth`, else null.
    #[serde(default)]
    pub test: Option<Score>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub weight: f64,
    #[serde(default)]
    pub val_wells: usize,
    #[serde(default)]
    pub test_wells: usize,
    pub val: Score,
    #[serde(default)]
    pub test: Option<Score>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GroupChoice {
    pub split: String,
    pub experiment: String,
    pub plates: Vec<u8>,
    pub permutation: Vec<usize>,
    pub score: f64,
    pub margin: f64,
    /// `correct`, `incorrect` or `prediction`.
    pub status: String,
    #[serde(default)]
    pub truth_status: Option<String>,
    #[serde(default)]
    pub wells: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnsembleReport {
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub treatments: usize,
    #[serde(default)]
    pub classes: usize,
    #[serde(default)]
    pub plate_groups: usize,
    #[serde(default)]
    pub files: Vec<FileEntry>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub group_assignment: Vec<GroupChoice>,
    #[serde(default)]
    pub submission_rows: usize,
    #[serde(default)]
    pub seconds: f64,
    #[serde(default)]
    pub options: EnsembleOptions,
}

/// The ensemble options the report needs (the truth file of synthetic data).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EnsembleOptions {
    #[serde(default)]
    pub truth: Option<String>,
}

impl EnsembleReport {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ReportError::io(path, "cannot read ensemble report", e))?;
        serde_json::from_str(&text).map_err(|cause| ReportError::Json {
            path: path.to_path_buf(),
            what: "ensemble report.json (data-schemas/submission.md)",
            cause,
        })
    }
}

#[cfg(test)]
pub(crate) const SAMPLE: &str = r#"{
  "tool": "rcic-ensemble 0.1.0", "data": "data/tiny", "treatments": 32, "classes": 36,
  "plate_groups": 4, "options": {"weights": [1.0]},
  "files": [{"path": "m/pred.parquet", "weight": 1.0, "classes": 36, "rows": 10,
    "control_rows": 0, "val_wells": 96, "test_wells": 64,
    "val": {"accuracy": 0.03125, "correct": 3, "wells": 96, "per_experiment": {"HEPG2-02": 0.03}},
    "test": null}],
  "steps": [
    {"name": "average", "label": "Average score",
     "val": {"accuracy": 0.25, "correct": 24, "wells": 96, "per_experiment": {}},
     "test": {"accuracy": 0.5, "correct": 32, "wells": 64, "per_experiment": {}}},
    {"name": "assignment", "label": "Score after linear sum assignment",
     "val": {"accuracy": 0.75, "correct": 72, "wells": 96, "per_experiment": {"HEPG2-02": 0.75}},
     "test": null}],
  "group_assignment": [{"split": "val", "experiment": "HEPG2-02", "plates": [1,2,3,4],
    "permutation": [0,1,2,3], "score": 0.25, "margin": 0.0, "status": "incorrect",
    "truth_status": null, "wells": 32, "counts": [[1,2,3,4]]}],
  "lsa": {"plates": 20, "wall_seconds": 0.0, "plate_seconds": 0.0, "max_plate_seconds": 0.0, "threads": 2},
  "submission_rows": 64, "seconds": 0.1
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ensemble_json() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        std::fs::write(&p, SAMPLE).unwrap();
        let r = EnsembleReport::read(&p).unwrap();
        assert_eq!(r.steps.len(), 2);
        assert_eq!(r.steps[0].test.as_ref().unwrap().accuracy, Some(0.5));
        assert_eq!(r.steps[1].test, None);
        assert_eq!(r.files[0].val.correct, 3);
        assert_eq!(r.group_assignment[0].status, "incorrect");
        assert_eq!(r.submission_rows, 64);
    }

    #[test]
    fn bad_json_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        std::fs::write(&p, "{\"tool\": 1").unwrap();
        let e = EnsembleReport::read(&p).unwrap_err().to_string();
        assert!(e.contains("report.json") && e.contains("ensemble"), "{e}");
        std::fs::write(&p, "{\"files\": []}").unwrap();
        let e = EnsembleReport::read(&p).unwrap_err().to_string();
        assert!(e.contains("report.json") && e.contains("steps"), "{e}");
        let e = EnsembleReport::read(&d.path().join("none.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.json"), "{e}");
    }
}
