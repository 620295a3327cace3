//! The report crate's errors. Each names the file (or flag) at fault and what
//! was expected; the binaries raise them before anything is written.
//! A library cause is the error's `source`, not part of its message:
//! [`rcic_cli::report::error_chain`] prints the chain once, joined with
//! `: `; the output checks and writes of [`rcic_cli`] keep their own error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: {what}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        cause: std::io::Error,
    },
    #[error("{}: not a readable PNG", path.display())]
    Png {
        path: PathBuf,
        #[source]
        cause: image::ImageError,
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
    #[error("{}: {what}", path.display())]
    Csv {
        path: PathBuf,
        what: &'static str,
        #[source]
        cause: csv::Error,
    },
    #[error("{}: not a readable {what}", path.display())]
    Json {
        path: PathBuf,
        what: &'static str,
        #[source]
        cause: serde_json::Error,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    /// The dataset index's error (it names the file, line and column).
    #[error(transparent)]
    Dataset(#[from] rcic_core::CoreError),
    /// An output refused before any work, or a failed write (its I/O cause
    /// a `source`, which [`rcic_cli::report::error_chain`] prints once).
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
}

impl ReportError {
    pub fn io(path: impl Into<PathBuf>, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            what,
            cause: source,
        }
    }

    pub fn csv(path: impl Into<PathBuf>, what: &'static str, cause: csv::Error) -> Self {
        Self::Csv {
            path: path.into(),
            what,
            cause,
        }
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Input {
            path: path.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;
