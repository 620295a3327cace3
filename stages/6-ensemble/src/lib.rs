//! rcic-ensemble: docs/method.md section 9 (`make_submission`) over prediction
//! Parquet files: per-file and ensemble accuracy, plate-group assignment,
//! per-plate linear sum assignment, `submission.csv` and the report's data.

pub mod assign;
pub mod combine;
pub mod error;
pub mod groups;
pub mod logits;
pub mod lsa;
pub mod options;
pub mod output;
pub mod pipeline;
pub mod read;
pub mod report;
pub mod rows;
pub mod scores;
pub mod table;

pub use error::{EnsembleError, Result};
pub use options::Options;
pub use pipeline::{run, Outcome};
