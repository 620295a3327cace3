//! The report crate's errors. Each names the file (or flag) at fault and what
//! was expected; the binaries raise them before anything is written.
//! Causes are part of the message (none is a `source`), so an error chain
//! printed with its causes says each once; the output checks and writes of
//! [`rcic_cli`] keep their own error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: {what}: {cause}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        cause: std::io::Error,
    },
    #[error("{}: not a readable PNG: {cause}", path.display())]
    Png {
        path: PathBuf,
        cause: image::ImageError,
    },
    #[error("{}: not a readable Parquet file: {cause}", path.display())]
    Parquet {
        path: PathBuf,
        cause: parquet::errors::ParquetError,
    },
    #[error("{}: not a readable {what}: {cause}", path.display())]
    Json {
        path: PathBuf,
        what: &'static str,
        cause: serde_json::Error,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
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

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Input {
            path: path.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;
