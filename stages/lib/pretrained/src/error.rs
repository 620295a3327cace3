//! The crate's errors: each names the file and backbone at fault and what
//! was expected; I/O causes are sources.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PretrainedError {
    #[error("--backbone {backbone}: torchvision publishes no ImageNet weights for it (they exist for {known}); train it without --pretrained, or pass a file of yours with --pretrained FILE")]
    NoSource { backbone: String, known: String },
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("{}: SHA-256 {actual} does not begin with {expected}, the hash in torchvision's file name; the file is damaged or not the published one (delete it and fetch it again)", path.display())]
    HashMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{}: torchvision's ImageNet weights of {file_backbone}, but the backbone is {backbone}; expected {expected}", path.display())]
    OtherBackbone {
        path: PathBuf,
        file_backbone: String,
        backbone: String,
        expected: String,
    },
    #[error("no ImageNet weights for {backbone}: expected {file} in {searched}.\nIt comes from {url} (torchvision's ImageNet weights). Get it with\n    make weights PRESET=...        (or: rcic-weights --backbone {backbone})\nor, on a machine without network access, copy the file there, or pass a copy you have with PRETRAINED=FILE (rcic-train --pretrained FILE)")]
    Missing {
        backbone: String,
        file: String,
        url: String,
        searched: String,
    },
}

pub type Result<T, E = PretrainedError> = std::result::Result<T, E>;
