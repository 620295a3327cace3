//! The content-addressed artifact store: `STORE/<stage>/<key>/` holding the
//! outputs of one stage run and a `manifest.json` (stage, version,
//! parameters, input keys, every file with its size and blake3 hash).
//! A key is a hash of what determines the output (stage, version, canonical
//! parameters, input keys) and nothing else: no paths, no times. Outputs are
//! written to a temporary folder and renamed into place on commit, so a
//! killed run never leaves anything that looks complete.
//! Kept off `rcic_cli::publish`: host+PID temporaries let later runs clean up crashed ones.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Bumped when the key derivation itself changes.
const KEY_DOMAIN: &str = "rcic-artifact-key-v1";
/// Hex digits of a key (128 bits).
pub const KEY_LEN: usize = 32;
pub const MANIFEST: &str = "manifest.json";

/// What determines a stage's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSpec {
    pub stage: String,
    /// The stage's output-format version: bump it when the same inputs would
    /// give different outputs.
    pub version: String,
    /// Canonical parameters (object keys are sorted by serde_json's map).
    pub params: serde_json::Value,
    /// (role, key) of every input artifact, in a fixed order.
    pub inputs: Vec<InputRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRef {
    pub role: String,
    pub key: String,
}

impl StageSpec {
    pub fn new(stage: &str, version: &str, params: serde_json::Value) -> Self {
        Self {
            stage: stage.into(),
            version: version.into(),
            params,
            inputs: Vec::new(),
        }
    }

    pub fn input(mut self, role: &str, key: &str) -> Self {
        self.inputs.push(InputRef {
            role: role.into(),
            key: key.into(),
        });
        self
    }

    /// The content key.
    pub fn key(&self) -> String {
        let canonical = serde_json::json!({
            "stage": self.stage,
            "version": self.version,
            "params": canonicalize(&self.params),
            "inputs": self.inputs,
        });
        let mut h = blake3::Hasher::new();
        h.update(KEY_DOMAIN.as_bytes());
        h.update(&[0]);
        h.update(serde_json::to_string(&canonical).expect("json").as_bytes());
        h.finalize().to_hex()[..KEY_LEN].to_string()
    }
}

/// Sorts object keys recursively (serde_json's map is ordered, this makes it
/// explicit and independent of how the value was built).
fn canonicalize(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            serde_json::Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonicalize(&m[k])))
                    .collect(),
            )
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(canonicalize).collect())
        }
        other => other.clone(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the artifact folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub blake3: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub stage: String,
    pub version: String,
    pub key: String,
    pub params: serde_json::Value,
    pub inputs: Vec<InputRef>,
    pub files: Vec<FileEntry>,
    /// Tool that wrote it (`rcic-core <version>`); not part of the key.
    pub tool: String,
    /// Seconds since the Unix epoch at commit; not part of the key.
    pub created_unix: u64,
}

/// A published artifact.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Artifact {
    /// Reads a published artifact folder's manifest.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path)
            .map_err(|e| CoreError::io(&path, "cannot read manifest", e))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| CoreError::Format {
            path: path.clone(),
            message: format!("not a valid manifest: {e}"),
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    pub fn key(&self) -> &str {
        &self.manifest.key
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Checks that every file of the manifest exists with its size (cheap:
    /// catches truncated, emptied and missing files); names every mismatch.
    pub fn check_sizes(&self) -> Result<()> {
        let bad: Vec<String> = self
            .manifest
            .files
            .iter()
            .filter_map(|f| match fs::metadata(self.dir.join(&f.path)) {
                Err(e) => Some(format!("{}: {e}", f.path)),
                Ok(m) if m.len() != f.bytes => Some(format!(
                    "{}: {} bytes, manifest says {}",
                    f.path,
                    m.len(),
                    f.bytes
                )),
                Ok(_) => None,
            })
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Store(format!(
                "artifact {} is incomplete or damaged: {}; recompute it (rerun the stage that made it)",
                self.dir.display(),
                bad.join("; ")
            )))
        }
    }

    /// Re-hashes every file against the manifest; names every mismatch.
    pub fn verify(&self) -> Result<()> {
        let bad: Vec<String> = self
            .manifest
            .files
            .par_iter()
            .filter_map(|f| {
                let p = self.dir.join(&f.path);
                match hash_file(&p) {
                    Err(e) => Some(format!("{}: {e}", f.path)),
                    Ok((n, _)) if n != f.bytes => Some(format!(
                        "{}: {} bytes, manifest says {}",
                        f.path, n, f.bytes
                    )),
                    Ok((_, h)) if h != f.blake3 => Some(format!(
                        "{}: content hash differs from the manifest",
                        f.path
                    )),
                    Ok(_) => None,
                }
            })
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Store(format!(
                "artifact {} fails verification: {}",
                self.dir.display(),
                bad.join("; ")
            )))
        }
    }
}

/// How much [`Store::lookup`] checks before reusing an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Re-hash every file (default: catches any corruption).
    Full,
    /// Only that every file exists with its size.
    Sizes,
}

/// An artifact store rooted at a folder.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)
            .map_err(|e| CoreError::io(&root, "cannot create the artifact store", e))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the artifact of `spec` lives (published or not).
    pub fn dir(&self, stage: &str, key: &str) -> PathBuf {
        self.root.join(stage).join(key)
    }

    /// The published artifact of `spec`, if it exists and verifies. A folder
    /// that fails verification is reported as absent (it will be replaced).
    pub fn lookup(&self, spec: &StageSpec, verify: Verify) -> Result<Option<Artifact>> {
        self.lookup_key(&spec.stage, &spec.key(), verify)
    }

    pub fn lookup_key(&self, stage: &str, key: &str, verify: Verify) -> Result<Option<Artifact>> {
        let dir = self.dir(stage, key);
        if !dir.join(MANIFEST).is_file() {
            return Ok(None);
        }
        let Ok(art) = Artifact::open(&dir) else {
            return Ok(None);
        };
        if art.manifest.key != key || art.manifest.stage != stage {
            return Ok(None);
        }
        let ok = match verify {
            Verify::Full => art.verify().is_ok(),
            Verify::Sizes => art.check_sizes().is_ok(),
        };
        Ok(ok.then_some(art))
    }

    /// Every published artifact of a stage (manifests that parse), sorted by key.
    pub fn list(&self, stage: &str) -> Result<Vec<Artifact>> {
        let dir = self.root.join(stage);
        let Ok(rd) = fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Artifact> = rd
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| Artifact::open(&e.path()).ok())
            .collect();
        out.sort_by(|a, b| a.manifest.key.cmp(&b.manifest.key));
        Ok(out)
    }

    /// Starts writing the artifact of `spec` into a fresh temporary folder.
    pub fn begin(&self, spec: &StageSpec) -> Result<ArtifactWriter> {
        let key = spec.key();
        let stage_dir = self.root.join(&spec.stage);
        fs::create_dir_all(&stage_dir)
            .map_err(|e| CoreError::io(&stage_dir, "cannot create stage folder", e))?;
        remove_dead_temporaries(&stage_dir);
        let tmp = stage_dir.join(format!(".tmp-{key}-{}", owner_tag()));
        fs::create_dir_all(&tmp)
            .map_err(|e| CoreError::io(&tmp, "cannot create temporary folder", e))?;
        Ok(ArtifactWriter {
            final_dir: stage_dir.join(&key),
            tmp,
            spec: spec.clone(),
            key,
            committed: false,
            known: Vec::new(),
        })
    }

    /// Removes temporary folders left by killed runs of this process's user
    /// (any `.tmp-*` under a stage folder). Returns how many were removed.
    pub fn clean_temporaries(&self) -> Result<usize> {
        let mut n = 0;
        let Ok(stages) = fs::read_dir(&self.root) else {
            return Ok(0);
        };
        for stage in stages.filter_map(|e| e.ok()) {
            let Ok(rd) = fs::read_dir(stage.path()) else {
                continue;
            };
            for e in rd.filter_map(|e| e.ok()) {
                if e.file_name().to_string_lossy().starts_with(".tmp-")
                    && fs::remove_dir_all(e.path()).is_ok()
                {
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// A stage run's output in progress. Dropped without [`commit`](Self::commit)
/// (an error, a panic), its temporary folder is removed.
pub struct ArtifactWriter {
    final_dir: PathBuf,
    tmp: PathBuf,
    spec: StageSpec,
    key: String,
    committed: bool,
    /// Files whose size and hash their writer computed while writing them.
    known: Vec<FileEntry>,
}

impl ArtifactWriter {
    /// The folder to write outputs into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// The folder the artifact will have once published.
    pub fn final_dir(&self) -> &Path {
        &self.final_dir
    }

    /// Records the size and blake3 hex of the file `rel` (relative to
    /// [`dir`](Self::dir), `/`-separated), computed while it was written
    /// ([`crate::hashing::HashingWriter`]), so that [`commit`](Self::commit)
    /// does not read it back. A file whose size on disk differs at commit is
    /// hashed again.
    pub fn record_hash(&mut self, rel: &str, bytes: u64, blake3: String) {
        self.known.retain(|f| f.path != rel);
        self.known.push(FileEntry {
            path: rel.to_string(),
            bytes,
            blake3,
        });
    }

    /// The recorded entry of `rel`, if its size on disk still matches.
    fn recorded(&self, rel: &str, path: &Path) -> Option<FileEntry> {
        let f = self.known.iter().find(|f| f.path == rel)?;
        let len = fs::metadata(path).ok()?.len();
        (len == f.bytes).then(|| f.clone())
    }

    /// Hashes every file (but those recorded with [`record_hash`](Self::record_hash)),
    /// writes the manifest and renames the folder into
    /// place. An existing folder under the key that does not verify is
    /// replaced; one that verifies is kept and this output discarded.
    pub fn commit(mut self) -> Result<Artifact> {
        let mut rel = Vec::new();
        collect_files(&self.tmp, &self.tmp, &mut rel)?;
        rel.retain(|p| p != MANIFEST);
        rel.sort();
        let files: Vec<FileEntry> = rel
            .par_iter()
            .map(|r| {
                let p = self.tmp.join(r);
                if let Some(known) = self.recorded(r, &p) {
                    return Ok(known);
                }
                let (bytes, blake3) =
                    hash_file(&p).map_err(|e| CoreError::io(&p, "cannot hash", e))?;
                Ok(FileEntry {
                    path: r.clone(),
                    bytes,
                    blake3,
                })
            })
            .collect::<Result<_>>()?;
        let manifest = Manifest {
            format: 1,
            stage: self.spec.stage.clone(),
            version: self.spec.version.clone(),
            key: self.key.clone(),
            params: canonicalize(&self.spec.params),
            inputs: self.spec.inputs.clone(),
            files,
            tool: format!("rcic-core {}", env!("CARGO_PKG_VERSION")),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        let mpath = self.tmp.join(MANIFEST);
        let text = serde_json::to_string_pretty(&manifest).expect("json");
        write_synced(&mpath, text.as_bytes())
            .map_err(|e| CoreError::io(&mpath, "cannot write manifest", e))?;
        if self.final_dir.exists() {
            let existing = Artifact::open(&self.final_dir)
                .ok()
                .filter(|a| a.verify().is_ok());
            if let Some(a) = existing {
                self.committed = true;
                let _ = fs::remove_dir_all(&self.tmp);
                return Ok(a);
            }
            let trash = self
                .tmp
                .with_file_name(format!(".trash-{}-{}", self.key, owner_tag()));
            fs::rename(&self.final_dir, &trash).map_err(|e| {
                CoreError::io(&self.final_dir, "cannot move a corrupt artifact aside", e)
            })?;
            let _ = fs::remove_dir_all(&trash);
        }
        fs::rename(&self.tmp, &self.final_dir)
            .map_err(|e| CoreError::io(&self.final_dir, "cannot publish artifact", e))?;
        self.committed = true;
        Ok(Artifact {
            dir: self.final_dir.clone(),
            manifest,
        })
    }
}

/// `{host}-{pid}-{nonce}`: what temporary folder names end with, so that a
/// later run can tell the leftovers of a killed process of this machine
/// (a store may be shared by several machines) from live ones.
fn owner_tag() -> String {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{}-{nonce}", host_tag(), std::process::id())
}

/// This machine's name with anything but ASCII letters and digits replaced.
fn host_tag() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// Whether a process of this machine is running; without /proc, assume so.
fn process_alive(pid: u32) -> bool {
    !Path::new("/proc/self").exists() || Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the `.tmp-*`/`.trash-*` folders of `stage_dir` that processes of
/// this machine left when they were killed (their PID no longer runs).
/// Folders of other machines, of live processes, or of unknown form stay.
fn remove_dead_temporaries(stage_dir: &Path) {
    let host = host_tag();
    let Ok(rd) = fs::read_dir(stage_dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name
            .strip_prefix(".tmp-")
            .or_else(|| name.strip_prefix(".trash-"))
        else {
            continue;
        };
        // key-host-pid-nonce, split from the right: [nonce, pid, host, key].
        let parts: Vec<&str> = rest.rsplitn(4, '-').collect();
        if parts.len() == 4
            && parts[0].parse::<u128>().is_ok()
            && parts[2] == host
            && parts[1].parse::<u32>().is_ok_and(|pid| !process_alive(pid))
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for ArtifactWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn collect_files(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let rd = fs::read_dir(dir).map_err(|e| CoreError::io(dir, "cannot list", e))?;
    for e in rd {
        let e = e.map_err(|e| CoreError::io(dir, "cannot list", e))?;
        let p = e.path();
        // The entry's type comes with the listing (no stat per file);
        // a symbolic link is followed.
        let is_dir = match e.file_type() {
            Ok(t) if !t.is_symlink() => t.is_dir(),
            _ => p.is_dir(),
        };
        if is_dir {
            collect_files(base, &p, out)?;
        } else {
            let rel = p.strip_prefix(base).expect("under base");
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// Size and blake3 hex of a file.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut h = blake3::Hasher::new();
    let f = fs::File::open(path)?;
    let n = io::copy(&mut io::BufReader::with_capacity(1 << 20, f), &mut h)?;
    Ok((n, h.finalize().to_hex().to_string()))
}

/// The key of a raw RxRx1 root: a hash of its tables (the competition's
/// CSVs, or the public release's metadata.csv) and of every file under
/// `train/` and `test/` (or `images/`), by relative path and content (not by time or
/// absolute location), so the same data gives the same key on any machine.
pub fn dataset_key(root: &Path) -> Result<String> {
    Ok(dataset_key_cached(root, None)?.key)
}

/// A dataset key and what computing it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetKey {
    pub key: String,
    /// Files the key covers.
    pub files: usize,
    /// Files read (hashed) to compute it; the others came from the cache.
    pub read: usize,
}

/// [`dataset_key`] with the per-file hash cache of
/// [`crate::keycache`] in `cache` (None: read every file).
pub fn dataset_key_cached(root: &Path, cache: Option<&Path>) -> Result<DatasetKey> {
    let mut rel = Vec::new();
    for name in [
        "train.csv",
        "test.csv",
        "train_controls.csv",
        "test_controls.csv",
        "pixel_stats.csv",
        "metadata.csv",
    ] {
        if root.join(name).is_file() {
            rel.push(name.to_string());
        }
    }
    for sub in ["train", "test", "images"] {
        let d = root.join(sub);
        if d.is_dir() {
            collect_files(root, &d, &mut rel)?;
        }
    }
    rel.sort();
    let (hashes, read) = crate::keycache::HashCache::open(cache, root).hashes(root, &rel)?;
    let mut h = blake3::Hasher::new();
    h.update(b"rcic-dataset-key-v1\0");
    for (r, x) in rel.iter().zip(&hashes) {
        h.update(r.as_bytes());
        h.update(&[0]);
        h.update(x.as_bytes());
        h.update(&[0]);
    }
    Ok(DatasetKey {
        key: h.finalize().to_hex()[..KEY_LEN].to_string(),
        files: rel.len(),
        read,
    })
}

/// Where a store keeps its caches (file hashes of data roots).
pub fn cache_dir(store: &Path) -> PathBuf {
    store.join("cache")
}
