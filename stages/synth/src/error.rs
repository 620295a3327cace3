//! The library's error type: every failure names the path, experiment or
//! parameter at fault and what was expected, so the binary can report it
//! without guessing.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: could not encode PNG: {message}")]
    Png { path: PathBuf, message: String },
    #[error("{path} exists and is not empty; pass --force to replace it")]
    OutputExists { path: PathBuf },
    #[error("unknown experiment {name:?} for preset {preset}; expected one of: {known}")]
    UnknownExperiment {
        name: String,
        preset: String,
        known: String,
    },
    #[error("invalid option {option}: {message}")]
    InvalidOption {
        option: &'static str,
        message: String,
    },
    #[error("could not start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
}

pub type Result<T> = std::result::Result<T, SynthError>;

/// Attaches a path to an I/O error.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SynthError {
    let path = path.into();
    move |source| SynthError::Io { path, source }
}
