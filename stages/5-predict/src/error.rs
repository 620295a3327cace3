//! The library's error type.

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// Model and data (or flags) do not fit together.
    #[error("{0}")]
    Mismatch(String),
    #[error("{0}")]
    Flag(String),
    #[error("ONNX Runtime: {0}")]
    Ort(String),
    #[error("libtorch: {0}")]
    Tch(String),
    #[error("{path}: {message}")]
    File {
        path: std::path::PathBuf,
        message: String,
    },
    #[error(transparent)]
    Core(#[from] rcic_core::CoreError),
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
    #[error(transparent)]
    Model(#[from] rcic_model::ModelError),
}

impl From<ort::Error> for PredictError {
    fn from(e: ort::Error) -> Self {
        Self::Ort(e.to_string())
    }
}

impl From<tch::TchError> for PredictError {
    fn from(e: tch::TchError) -> Self {
        Self::Tch(e.to_string())
    }
}
