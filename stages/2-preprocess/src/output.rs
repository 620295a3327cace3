//! Where an artifact goes: the content-addressed store
//! (`STORE/<stage>/<key>/`, the default) or an explicit folder (`-o OUTDIR`,
//! which receives the same files, manifest included). Either way files are
//! written to a temporary folder first and published only when complete.
//! `-o` is checked before any work with the one output check of
//! [`rcic_cli::output`] (on the artifact's manifest, the file that makes the
//! folder an artifact): outside the dataset, not below a file; and it must
//! hold nothing but what an earlier `-o` run wrote there (its artifact, the
//! shard folders of `--shard`), which a new run may reuse or replace.

use std::path::{Path, PathBuf};

use rcic_cli::output::{check_output, Input, Output};
use rcic_cli::publish::StagedDir;
use rcic_core::store::MANIFEST;
use rcic_core::{Artifact, ArtifactWriter, StageSpec, Store, Verify};

use crate::error::{PreprocessError, Result};
use crate::plan::Shard;

/// The name the scratch store of an `-o` run is made from, inside OUTDIR
/// (as `.tmp-store.XXXXXX.partial`).
const SCRATCH: &str = "tmp-store";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// An artifact store root.
    Store(PathBuf),
    /// An explicit output folder.
    Dir(PathBuf),
}

impl Dest {
    /// Refuses, before any work, an `-o` folder that is the dataset folder
    /// `data` or lies inside it, lies below a file, or holds anything that
    /// an earlier `-o` run did not write (`shard`: the run's own shard
    /// folder is checked too).
    pub fn check(&self, data: &Path, shard: Option<Shard>) -> Result<()> {
        let Dest::Dir(dir) = self else {
            return Ok(());
        };
        let mut dirs = vec![dir.clone()];
        dirs.extend(shard.map(|s| dir.join(s.dir_name())));
        for d in &dirs {
            let manifest = d.join(MANIFEST);
            check_output(
                &Output::new("-o", &manifest),
                &[Input::Folder("--data", data)],
            )?;
        }
        for d in dirs {
            let foreign = foreign_entries(&d)?;
            if !foreign.is_empty() {
                return Err(PreprocessError::Config(format!(
                    "-o {} exists and is not empty ({} not written by rcic-preprocess: {}); choose a new or empty folder",
                    d.display(),
                    foreign.len(),
                    foreign.join(", ")
                )));
            }
        }
        Ok(())
    }

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
                // A scratch store, never published: its finished files are
                // moved into OUTDIR on commit; dropped, it is removed.
                let scratch = StagedDir::create(&dir.join(SCRATCH))?;
                let writer = Store::open(scratch.path())?.begin(spec)?;
                Ok(Pending {
                    writer: Some(writer),
                    target: Some((dir.clone(), scratch)),
                })
            }
        }
    }
}

/// Whether `name` is a shard folder of `--shard I/N` (`shard-I-of-N`).
fn is_shard_dir(name: &str) -> bool {
    name.strip_prefix("shard-")
        .and_then(|r| r.split_once("-of-"))
        .is_some_and(|(i, n)| {
            [i, n]
                .iter()
                .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The entries of `dir` (sorted; none when it does not exist) that an
/// `-o` run does not write: anything but a preprocess artifact's manifest
/// and files, shard folders and the hidden scratch stores of runs.
fn foreign_entries(dir: &Path) -> Result<Vec<String>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(PreprocessError::io(dir, "cannot list the output folder", e)),
    };
    let own: Vec<String> = Artifact::open(dir)
        .ok()
        .filter(|a| a.manifest.stage == crate::STAGE || a.manifest.stage == crate::SHARD_STAGE)
        .map(|a| {
            a.manifest
                .files
                .iter()
                .filter_map(|f| f.path.split('/').next().map(str::to_string))
                .chain([MANIFEST.to_string()])
                .collect()
        })
        .unwrap_or_default();
    let mut foreign = Vec::new();
    for e in rd {
        let e = e.map_err(|e| PreprocessError::io(dir, "cannot list the output folder", e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.path().is_dir();
        if own.contains(&name)
            || (is_dir && (is_shard_dir(&name) || name.starts_with(&format!(".{SCRATCH}"))))
        {
            continue;
        }
        foreign.push(name);
    }
    foreign.sort();
    Ok(foreign)
}

/// An artifact being written; dropped without [`commit`](Self::commit), it
/// leaves nothing behind (the writer's folder and the scratch store are
/// removed when dropped).
pub struct Pending {
    writer: Option<ArtifactWriter>,
    /// `-o`: (the output folder, the scratch store inside it).
    target: Option<(PathBuf, StagedDir)>,
}

impl Pending {
    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        self.writer.as_ref().expect("not committed").dir()
    }

    pub fn key(&self) -> &str {
        self.writer.as_ref().expect("not committed").key()
    }

    /// Records a file's size and hash computed while it was written
    /// ([`ArtifactWriter::record_hash`]).
    pub fn record_hash(&mut self, rel: &str, bytes: u64, blake3: String) {
        self.writer
            .as_mut()
            .expect("not committed")
            .record_hash(rel, bytes, blake3);
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
