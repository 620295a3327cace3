//! The ensemble's errors. Each names the file (and row, class or flag) at
//! fault and what was expected; none is raised after an output was written.
//! A library cause is the error's `source`, not part of its message:
//! [`rcic_cli::report::error_chain`] prints the chain once, joined with
//! `: `.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    #[error("{}: {what}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        cause: std::io::Error,
    },
    #[error("{}: not a readable Parquet file", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        cause: parquet::errors::ParquetError,
    },
    #[error("{}: cannot decode", path.display())]
    Decode {
        path: PathBuf,
        #[source]
        cause: arrow_schema::ArrowError,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("cannot reserve memory for the ensemble's sums")]
    Memory(#[source] std::io::Error),
    #[error("dataset index")]
    Dataset(#[from] rcic_core::CoreError),
    #[error("table")]
    Polars(#[from] polars::error::PolarsError),
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

pub type Result<T, E = EnsembleError> = std::result::Result<T, E>;
