//! The model library's error type: every message names the file, tensor or
//! option at fault and what was expected. Each message is complete in
//! itself: a wrapped error (io, libtorch) is part of the text and not also
//! reported as the error's source, so an error chain (`{:#}`) says it once.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A publish of the shared I/O policy (a checkpoint written atomically).
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
    #[error("--backbone {name:?}: unknown backbone; expected one of {known}")]
    UnknownBackbone { name: String, known: String },
    #[error("{0}")]
    Config(String),
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: does not fit the model ({summary}):\n  {details}")]
    Mismatch {
        path: PathBuf,
        summary: String,
        details: String,
    },
    #[error("libtorch: {0}")]
    Torch(tch::TchError),
}

impl From<tch::TchError> for ModelError {
    fn from(e: tch::TchError) -> Self {
        Self::Torch(e)
    }
}

impl ModelError {
    pub fn format(path: &std::path::Path, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_not_repeated_by_their_chain() {
        let e = ModelError::io(
            std::path::Path::new("ck/missing"),
            std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"),
        );
        assert_eq!(e.to_string(), "ck/missing: No such file");
        assert!(std::error::Error::source(&e).is_none(), "no second copy");
        let t = ModelError::from(tch::TchError::Torch("bad shape".into()));
        assert!(std::error::Error::source(&t).is_none());
    }
}
