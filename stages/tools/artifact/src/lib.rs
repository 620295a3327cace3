//! Seals make the Makefile's file-level reuse trustworthy. A stage output
//! counts as done only when a seal `FILE.blake3` beside it records the
//! file's blake3 digest, written after the stage finished; before every
//! pipeline run the seals are checked, and a seal whose file is missing or
//! whose digest no longer matches is removed (with the damaged file), so
//! make recomputes exactly that output and what depends on it.

pub mod seal;

pub use seal::{check_tree, seal_file, seal_path, verify_seal, Outcome, SealError};
