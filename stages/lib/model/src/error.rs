//! The model library's error type: every message names the file, tensor or
//! option at fault and what was expected. A wrapped error (io, libtorch) is
//! the error's source, not part of its text: `rcic_cli::report::error_chain`
//! prints the message and then each cause once.

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
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{path}: does not fit the model ({summary}):\n  {details}")]
    Mismatch {
        path: PathBuf,
        summary: String,
        details: String,
    },
    #[error("libtorch")]
    Torch(#[from] tch::TchError),
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
    fn causes_are_sources_printed_once() {
        let e = ModelError::io(
            std::path::Path::new("ck/missing"),
            std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"),
        );
        assert_eq!(e.to_string(), "ck/missing");
        assert_eq!(
            rcic_cli::report::error_chain(&e),
            "ck/missing: No such file"
        );
        let t = ModelError::from(tch::TchError::Torch("bad shape".into()));
        assert!(std::error::Error::source(&t).is_some());
        assert_eq!(
            rcic_cli::report::error_chain(&t),
            "libtorch: Internal torch error: bad shape"
        );
    }
}
