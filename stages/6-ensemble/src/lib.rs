//! rcic-ensemble: docs/method.md section 9 (`make_submission`) over prediction
//! Parquet files: per-file and ensemble accuracy, plate-group assignment,
//! per-plate linear sum assignment, `submission.csv` and a report.

pub mod assign;
pub mod combine;
pub mod error;
pub mod groups;
pub mod lsa;
pub mod output;
pub mod pages;
pub mod pipeline;
pub mod plot;
pub mod read;
pub mod report;
pub mod scores;
pub mod simd;
pub mod table;
pub mod truth;

pub use error::{EnsembleError, Result};
pub use pipeline::{run, Options, Outcome, Report};
