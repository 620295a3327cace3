//! The predict library's error type: messages name the flag, file or model
//! at fault; a wrapped error (ONNX Runtime, libtorch, core) is the source,
//! printed once after the message by `rcic_cli::report::error_chain`.

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// Model and data (or flags) do not fit together.
    #[error("{0}")]
    Mismatch(String),
    #[error("{0}")]
    Flag(String),
    #[error("ONNX Runtime")]
    Ort(#[from] ort::Error),
    /// ONNX Runtime cannot be set up or gave something unexpected.
    #[error("ONNX Runtime: {0}")]
    OrtSetup(String),
    /// An ONNX Runtime call failed in a context the message names.
    #[error("{context}")]
    OrtIn {
        context: String,
        #[source]
        cause: ort::Error,
    },
    #[error("libtorch")]
    Tch(#[from] tch::TchError),
    #[error("{path}: {message}")]
    File {
        path: std::path::PathBuf,
        message: String,
    },
    /// A predictions file that cannot be read or written as Parquet.
    #[error("{}", path.display())]
    Parquet {
        path: std::path::PathBuf,
        #[source]
        cause: parquet::errors::ParquetError,
    },
    /// Columns that do not form a predictions table.
    #[error("{}", path.display())]
    Arrow {
        path: std::path::PathBuf,
        #[source]
        cause: arrow_schema::ArrowError,
    },
    #[error(transparent)]
    Core(#[from] rcic_core::CoreError),
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
    #[error(transparent)]
    Model(#[from] rcic_model::ModelError),
}
