//! Where an artifact goes: the content-addressed store
//! (`STORE/<stage>/<key>/`, the default) or an explicit folder (`-o OUTDIR`,
//! which receives the same files, manifest included). Either way files are
//! written to a temporary folder first and published only when complete.

use std::path::{Path, PathBuf};

use rcic_core::store::MANIFEST;
use rcic_core::{Artifact, ArtifactWriter, StageSpec, Store, Verify};

use crate::error::{PreprocessError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// An artifact store root.
    Store(PathBuf),
    /// An explicit output folder.
    Dir(PathBuf),
}

impl Dest {
    /// A verified artifact of `spec` already there, if any.
    pub fn existing(&self, spec: &StageSpec) -> Result<Option<Artifact>> {
        match self {
            Dest::Store(root) => Ok(Store::open(root)?.lookup(spec, Verify::Full)?),
            Dest::Dir(dir) => Ok(Artifact::open(dir).ok().filter(|a| {
                a.manifest.key == spec.key() && a.manifest.stage == spec.stage && a.verify().is_ok()
            })),
        }
    }

    /// Starts writing the artifact of `spec`.
    pub fn begin(&self, spec: &StageSpec) -> Result<Pending> {
        match self {
            Dest::Store(root) => Ok(Pending {
                writer: Some(Store::open(root)?.begin(spec)?),
                target: None,
            }),
            Dest::Dir(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| PreprocessError::io(dir, "cannot create the output folder", e))?;
                let nonce = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let tmp_root = dir.join(format!(".tmp-store-{}-{nonce}", std::process::id()));
                let writer = Store::open(&tmp_root)?.begin(spec)?;
                Ok(Pending {
                    writer: Some(writer),
                    target: Some((dir.clone(), tmp_root)),
                })
            }
        }
    }
}

/// An artifact being written; dropped without [`commit`](Self::commit), it
/// leaves nothing behind.
pub struct Pending {
    writer: Option<ArtifactWriter>,
    /// `-o`: (the output folder, the temporary store inside it).
    target: Option<(PathBuf, PathBuf)>,
}

impl Pending {
    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        self.writer.as_ref().expect("not committed").dir()
    }

    pub fn key(&self) -> &str {
        self.writer.as_ref().expect("not committed").key()
    }

    /// Hashes, writes the manifest and publishes.
    pub fn commit(mut self) -> Result<Artifact> {
        let art = self.writer.take().expect("not committed").commit()?;
        let Some((dir, _)) = &self.target else {
            return Ok(art);
        };
        // Replace the previous contents of OUTDIR that a preprocess run wrote.
        if let Ok(old) = Artifact::open(dir) {
            for f in &old.manifest.files {
                let _ = std::fs::remove_file(dir.join(&f.path));
            }
        }
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.filter_map(|e| e.ok()) {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with(rcic_core::tensors::TENSORS_PREFIX)
                    && n.ends_with(rcic_core::tensors::TENSORS_SUFFIX)
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let _ = std::fs::remove_file(dir.join(MANIFEST));
        for f in art
            .manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .chain([MANIFEST])
        {
            let (from, to) = (art.dir.join(f), dir.join(f));
            std::fs::rename(&from, &to)
                .map_err(|e| PreprocessError::io(&to, "cannot move into the output folder", e))?;
        }
        Ok(Artifact::open(dir)?)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        drop(self.writer.take());
        if let Some((_, tmp)) = &self.target {
            let _ = std::fs::remove_dir_all(tmp);
        }
    }
}
