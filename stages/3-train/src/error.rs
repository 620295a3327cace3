//! The train library's errors: a bad flag names the flag and what was
//! expected; data problems name the experiment or file. The binary prints
//! them with `rcic_cli::report`, each cause said once.

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{flag} {message}")]
    Flag { flag: &'static str, message: String },
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Core(#[from] rcic_core::CoreError),
    #[error(transparent)]
    Model(#[from] rcic_model::ModelError),
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
}
