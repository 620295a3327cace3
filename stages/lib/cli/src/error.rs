//! The error type of this crate's checks and writes; stage error types wrap
//! it (`#[from]`), and the printer in [`crate::report`] says each cause once.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An output that cannot or must not be written (the message names the
    /// flag, the path and why).
    #[error("{0}")]
    Output(String),
    /// A file-system operation on `path` failed.
    #[error("{path}: {what}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A `--config` file or one of its entries is wrong (the message names
    /// the file, section and key).
    #[error("{0}")]
    Config(String),
}

impl CliError {
    pub fn io(path: &Path, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    }
}
