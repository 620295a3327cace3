//! The library's error type: every failure names the path, experiment or
//! parameter at fault and what was expected, so the binary can report it
//! without guessing.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The cause is the source ([`rcic_cli::report::error_chain`] prints it
    /// after the path).
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("{}: could not encode PNG", path.display())]
    Png {
        path: PathBuf,
        #[source]
        cause: image::ImageError,
    },
    #[error("{} exists and is not empty; pass --force to replace it", path.display())]
    OutputExists { path: PathBuf },
    #[error("{option} {}: {} is not a directory", path.display(), parent.display())]
    ParentNotDir {
        option: &'static str,
        path: PathBuf,
        parent: PathBuf,
    },
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
    /// A failed publish of an output folder (its I/O cause a `source`,
    /// which [`rcic_cli::report::error_chain`] prints once).
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
}

pub type Result<T> = std::result::Result<T, SynthError>;

/// Attaches a path to an I/O error.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SynthError {
    let path = path.into();
    move |cause| SynthError::Io { path, cause }
}
