//! The model library's error type: every message names the file, tensor or
//! option at fault and what was expected.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("--backbone {name:?}: unknown backbone; expected one of {known}")]
    UnknownBackbone { name: String, known: String },
    #[error("{0}")]
    Config(String),
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: does not fit the model ({summary}):\n  {details}")]
    Mismatch {
        path: PathBuf,
        summary: String,
        details: String,
    },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

impl ModelError {
    pub fn format(path: &std::path::Path, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
