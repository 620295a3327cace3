//! The ensemble's errors. Each names the file (and row, class or flag) at
//! fault and what was expected; none is raised after an output was written.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    #[error("{}: {what}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a readable Parquet file: {source}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("dataset index: {0}")]
    Dataset(#[from] rcic_core::CoreError),
    #[error("table: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("plot: {0}")]
    Plot(String),
}

impl EnsembleError {
    pub fn io(path: impl Into<PathBuf>, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            what,
            source,
        }
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Input {
            path: path.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = EnsembleError> = std::result::Result<T, E>;
