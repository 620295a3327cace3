//! Finding the training data: a preprocess artifact named by `--tensors`, or
//! the one the store holds for the Kaggle root `--data` (found by the root's
//! content key). No hidden recomputation: when there is none, the error gives
//! the exact `rcic-preprocess` command to run.

use std::path::{Path, PathBuf};

use rcic_core::{dataset_key, Store};

use crate::error::TrainError;

/// The preprocess artifact folder to train on.
pub fn find_tensors(
    tensors: Option<&Path>,
    data: &Path,
    store: &Path,
) -> Result<PathBuf, TrainError> {
    if let Some(t) = tensors {
        if !t.join("sites.parquet").is_file() {
            return Err(TrainError::Data(format!(
                "--tensors {}: not a preprocess artifact (no sites.parquet); expected a folder printed by rcic-preprocess",
                t.display()
            )));
        }
        return Ok(t.to_path_buf());
    }
    let key = dataset_key(data)?;
    let st = Store::open(store)?;
    let found: Vec<_> = st
        .list("preprocess")?
        .into_iter()
        .filter(|a| {
            a.manifest
                .inputs
                .iter()
                .any(|i| i.role == "data" && i.key == key)
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.dir.clone()),
        [] => Err(TrainError::Data(format!(
            "no preprocess artifact of {} (data key {key}) in the store {}; run first:\n    rcic-preprocess --data {} --store {}",
            data.display(),
            store.display(),
            data.display(),
            store.display()
        ))),
        many => Err(TrainError::Data(format!(
            "{} preprocess artifacts of {} in {} ({}); name one with --tensors",
            many.len(),
            data.display(),
            store.display(),
            many.iter().map(|a| a.dir.display().to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}
