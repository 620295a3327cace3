//! The ensemble's errors. Each names the file (and row, class or flag) at
//! fault and what was expected; none is raised after an output was written.
//! Causes are part of the message (none is a `source`), so an error chain
//! printed with its causes says each once; the output checks and writes of
//! [`rcic_cli`] keep their own error (its I/O cause a `source`, which
//! [`rcic_cli::report::error_chain`] prints once).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    #[error("{}: {what}: {cause}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        cause: std::io::Error,
    },
    #[error("{}: not a readable Parquet file: {cause}", path.display())]
    Parquet {
        path: PathBuf,
        cause: parquet::errors::ParquetError,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("dataset index: {0}")]
    Dataset(rcic_core::CoreError),
    #[error("table: {0}")]
    Polars(polars::error::PolarsError),
    #[error("plot: {0}")]
    Plot(String),
    /// An output refused before any work, or a failed publish.
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
}

impl EnsembleError {
    pub fn io(path: impl Into<PathBuf>, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            what,
            cause: source,
        }
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Input {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl From<rcic_core::CoreError> for EnsembleError {
    fn from(e: rcic_core::CoreError) -> Self {
        Self::Dataset(e)
    }
}

impl From<polars::error::PolarsError> for EnsembleError {
    fn from(e: polars::error::PolarsError) -> Self {
        Self::Polars(e)
    }
}

pub type Result<T, E = EnsembleError> = std::result::Result<T, E>;
