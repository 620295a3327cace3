//! Locating the preprocess artifact a stage reads (training and prediction
//! alike): the folder named by `--tensors`, or the one the store holds for
//! the Kaggle root `--data` (found by the root's content key). No hidden
//! recomputation: when there is none, the error gives the exact
//! `rcic-preprocess` command to run.

use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};
use crate::store::{cache_dir, dataset_key_cached, Store};

/// The preprocess artifact folder to read.
pub fn find_tensors(tensors: Option<&Path>, data: &Path, store: &Path) -> Result<PathBuf> {
    if let Some(t) = tensors {
        if !t.join("sites.parquet").is_file() {
            return Err(CoreError::NotPreprocessArtifact {
                path: t.to_path_buf(),
            });
        }
        return Ok(t.to_path_buf());
    }
    let key = dataset_key_cached(data, Some(&cache_dir(store)))?.key;
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
        [] => Err(CoreError::NoPreprocessArtifact {
            data: data.to_path_buf(),
            key,
            store: store.to_path_buf(),
        }),
        many => Err(CoreError::ManyPreprocessArtifacts {
            data: data.to_path_buf(),
            store: store.to_path_buf(),
            found: many.iter().map(|a| a.dir.clone()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tensors_folder_must_be_a_preprocess_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let e = find_tensors(Some(dir.path()), Path::new("data"), Path::new("store")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "--tensors {}: not a preprocess artifact (no sites.parquet); expected a folder printed by rcic-preprocess",
                dir.path().display()
            )
        );
        std::fs::write(dir.path().join("sites.parquet"), b"").unwrap();
        assert_eq!(
            find_tensors(Some(dir.path()), Path::new("data"), Path::new("store")).unwrap(),
            dir.path()
        );
    }
}
