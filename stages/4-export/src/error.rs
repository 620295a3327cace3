//! The export library's error type.

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Model(#[from] rcic_model::ModelError),
    #[error("tensor {0} is missing from the checkpoint")]
    MissingTensor(String),
    #[error("{0}")]
    Options(String),
}
