//! The ensemble's `report.json` (data-schemas/submission.md) as types: the
//! ensemble stage writes it, the report stage reads and draws it, so both
//! use these one definitions. Fields a reader can do without default when
//! absent; unknown keys are ignored, so older and newer files still read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One accuracy figure. `accuracy` is None (null) when there were no wells.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub accuracy: Option<f64>,
    pub correct: usize,
    pub wells: usize,
    /// Experiment name -> accuracy.
    #[serde(default)]
    pub per_experiment: BTreeMap<String, f64>,
}

/// One prediction file and its own scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    pub path: String,
    pub weight: f64,
    #[serde(default)]
    pub classes: usize,
    #[serde(default)]
    pub rows: usize,
    #[serde(default)]
    pub control_rows: usize,
    #[serde(default)]
    pub val_wells: usize,
    #[serde(default)]
    pub test_wells: usize,
    pub val: Score,
    /// Against `--truth`, else null.
    #[serde(default)]
    pub test: Option<Score>,
}

/// One step of docs/method.md section 9 with its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// `average`, `ensemble`, `plate_groups`, `assignment`, `alias_labels`.
    pub name: String,
    /// The reference's log label.
    pub label: String,
    pub val: Score,
    /// Against `--truth`, else null.
    #[serde(default)]
    pub test: Option<Score>,
}

/// Whether a chosen plate-group assignment matches the known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    Correct,
    Incorrect,
    /// Nothing known to compare with.
    Prediction,
}

impl GroupStatus {
    /// Its word in `report.json`.
    pub fn name(self) -> &'static str {
        match self {
            GroupStatus::Correct => "correct",
            GroupStatus::Incorrect => "incorrect",
            GroupStatus::Prediction => "prediction",
        }
    }

    /// The reference's log word.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::Correct => "correct_assignment",
            GroupStatus::Incorrect => "incorrect_assignment",
            GroupStatus::Prediction => "prediction",
        }
    }
}

/// The plate groups chosen for one experiment of one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupAssignment {
    /// `val` or `test`.
    pub split: String,
    pub experiment: String,
    /// Plates present, ascending.
    pub plates: Vec<u8>,
    /// Group of each plate in `plates`.
    pub permutation: Vec<usize>,
    pub score: f64,
    /// Best score minus the runner-up's (0 without a runner-up).
    pub margin: f64,
    /// Against the dataset's known assignment (labelled experiments).
    pub status: GroupStatus,
    /// Against the truth file's labels, when given.
    #[serde(default)]
    pub truth_status: Option<GroupStatus>,
    #[serde(default)]
    pub wells: usize,
    /// Wells per plate (rows) whose argmax is in each group (columns).
    #[serde(default)]
    pub counts: Vec<Vec<u32>>,
}

/// The per-plate assignment's timing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LsaReport {
    pub plates: usize,
    /// Wall time of all plates (parallel).
    pub wall_seconds: f64,
    /// Sum of the per-plate times.
    pub plate_seconds: f64,
    pub max_plate_seconds: f64,
    pub threads: usize,
}

/// The options the ensemble ran with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnsembleOptions {
    pub weights: Vec<f64>,
    pub temperature: Option<f64>,
    pub sinkhorn: Option<usize>,
    pub use_alias_labels: bool,
    /// The truth file of synthetic data.
    pub truth: Option<String>,
}

/// Everything `report.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub options: EnsembleOptions,
    #[serde(default)]
    pub files: Vec<FileReport>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub group_assignment: Vec<GroupAssignment>,
    #[serde(default)]
    pub lsa: LsaReport,
    #[serde(default)]
    pub submission_rows: usize,
    #[serde(default)]
    pub seconds: f64,
}
