//! Reading the ensemble stage's `report.json` (data-schemas/submission.md)
//! into the types both stages share ([`rcic_core::ensemble_report`]): the
//! run facts, the files, the accuracy after each step and the plate-group
//! choices. Keys the types do not name are ignored and optional ones
//! default, so the page survives additions.

use std::path::Path;

pub use rcic_core::ensemble_report::{EnsembleReport, GroupStatus, Score};

use crate::error::{ReportError, Result};

/// Reads and parses `report.json`.
pub fn read(path: &Path) -> Result<EnsembleReport> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReportError::io(path, "cannot read ensemble report", e))?;
    serde_json::from_str(&text).map_err(|cause| ReportError::Json {
        path: path.to_path_buf(),
        what: "ensemble report.json (data-schemas/submission.md)",
        cause,
    })
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

    fn chain(e: ReportError) -> String {
        rcic_cli::report::error_chain(&e)
    }

    #[test]
    fn reads_the_ensemble_json() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        std::fs::write(&p, SAMPLE).unwrap();
        let r = read(&p).unwrap();
        assert_eq!(r.steps.len(), 2);
        assert_eq!(r.steps[0].test.as_ref().unwrap().accuracy, Some(0.5));
        assert_eq!(r.steps[1].test, None);
        assert_eq!(r.files[0].val.correct, 3);
        assert_eq!(r.group_assignment[0].status, GroupStatus::Incorrect);
        assert_eq!(r.submission_rows, 64);
    }

    #[test]
    fn bad_json_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        std::fs::write(&p, "{\"tool\": 1").unwrap();
        let e = chain(read(&p).unwrap_err());
        assert!(e.contains("report.json") && e.contains("ensemble"), "{e}");
        std::fs::write(&p, "{\"files\": []}").unwrap();
        let e = chain(read(&p).unwrap_err());
        assert!(e.contains("report.json") && e.contains("steps"), "{e}");
        let e = chain(read(&d.path().join("none.json")).unwrap_err());
        assert!(e.contains("none.json"), "{e}");
    }
}
