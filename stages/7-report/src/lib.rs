//! rcic-report: looking at the data and the results. Site composites in
//! Recursion's channel colours (`rcic-view`) and one self-contained HTML page
//! (`rcic-report`) with the training curves of the train stage's metrics, the
//! ensemble's accuracy by step and per experiment and its plate-group
//! margins (every chart of the pipeline), and sample site composites. Outputs are
//! checked and published with [`rcic_cli`]'s output check and atomic write.

pub mod bars;
pub mod catalog;
pub mod chart;
pub mod composite;
pub mod curves;
pub mod datauri;
pub mod ensemble;
pub mod error;
pub mod metrics;
pub mod page;
pub mod samples;
pub mod site;
pub mod steps;
pub mod summary;

pub use error::{ReportError, Result};
