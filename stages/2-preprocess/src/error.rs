//! The preprocess stage's errors. Validation failures carry every offending
//! file, so one run tells the user everything to fix.

use std::fmt;
use std::path::PathBuf;

/// One offending input file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileProblem {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

fn render(problems: &[FileProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error(transparent)]
    Core(#[from] rcic_core::CoreError),
    #[error("the PNG tree fails validation; nothing was published. {} offending file(s):\n{}", .0.len(), render(.0))]
    Invalid(Vec<FileProblem>),
    /// Causes are sources, which [`rcic_cli::report::error_chain`] prints
    /// once after the message.
    #[error("{}: {what}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        cause: std::io::Error,
    },
    #[error("parquet {}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        cause: parquet::errors::ParquetError,
    },
    #[error("arrow")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("{0}")]
    Config(String),
    /// An output refused before any work, or a failed publish (its I/O
    /// cause a `source`, which [`rcic_cli::report::error_chain`] prints once).
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
}

impl PreprocessError {
    pub fn io(path: impl Into<PathBuf>, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            what,
            cause: source,
        }
    }

    /// Offending files of a validation failure (empty for other errors).
    pub fn problems(&self) -> &[FileProblem] {
        match self {
            Self::Invalid(p) => p,
            _ => &[],
        }
    }
}

pub type Result<T, E = PreprocessError> = std::result::Result<T, E>;
