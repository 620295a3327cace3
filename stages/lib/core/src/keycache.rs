//! The dataset key without rereading the data: a cache of per-file hashes
//! keyed by (relative path, size, modification time, inode), kept in the
//! artifact store (`STORE/cache/`, one file per data root), as DVC and
//! Snakemake keep theirs. A rerun over unchanged data stats every file and
//! reads none; a changed, added or removed file changes the key; a file
//! touched but unchanged is rehashed once and keeps it. A file modified in
//! the last seconds before it was hashed is not cached (its time may not
//! tell a later change within the same tick), so it is hashed again next
//! time.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::store::hash_file;

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    inode: u64,
}

fn stamp(path: &Path) -> std::io::Result<(Stamp, SystemTime)> {
    let m = std::fs::metadata(path)?;
    let modified = m.modified()?;
    let mtime_ns = match modified.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    Ok((
        Stamp {
            size: m.len(),
            mtime_ns,
            inode: m.ino(),
        },
        modified,
    ))
}

/// The hash cache of one data root.
pub struct HashCache {
    file: Option<PathBuf>,
    entries: HashMap<String, (Stamp, String)>,
}

/// Files modified this recently when hashed are not cached.
const RACY: Duration = Duration::from_secs(2);

impl HashCache {
    /// The cache of `root` in `dir` (None: no cache, every file is read).
    pub fn open(dir: Option<&Path>, root: &Path) -> Self {
        let file = dir.map(|d| {
            let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
            let id = blake3::hash(abs.to_string_lossy().as_bytes()).to_hex();
            d.join(format!("file-hashes-{}.tsv", &id[..16]))
        });
        let entries = file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .map(|t| t.lines().filter_map(parse_line).collect())
            .unwrap_or_default();
        Self { file, entries }
    }

    /// The blake3 hex of every file (`rel` under `root`), from the cache
    /// where the stamp is unchanged; how many were read.
    pub fn hashes(&mut self, root: &Path, rel: &[String]) -> Result<(Vec<String>, usize)> {
        let now = SystemTime::now();
        // (hash, read now, the entry to cache: None keeps the old one)
        type Got = (String, bool, Option<(Stamp, String)>);
        let got: Vec<Got> = rel
            .par_iter()
            .map(|r| {
                let p = root.join(r);
                let io = |e| CoreError::io(&p, "cannot hash", e);
                let (st, modified) = stamp(&p).map_err(io)?;
                if let Some((s, h)) = self.entries.get(r) {
                    if *s == st {
                        return Ok((h.clone(), false, None));
                    }
                }
                let (_, h) = hash_file(&p).map_err(io)?;
                let settled = now.duration_since(modified).is_ok_and(|d| d >= RACY);
                Ok((h.clone(), true, settled.then_some((st, h))))
            })
            .collect::<Result<_>>()?;
        let read = got.iter().filter(|g| g.1).count();
        let changed = read > 0 || self.entries.len() != rel.len();
        let mut entries = HashMap::with_capacity(rel.len());
        let mut out = Vec::with_capacity(rel.len());
        for (r, (h, was_read, new)) in rel.iter().zip(got) {
            match new {
                Some(e) => {
                    entries.insert(r.clone(), e);
                }
                // A file read now but too fresh to trust its time: dropped.
                None if was_read => {}
                None => {
                    if let Some(e) = self.entries.remove(r) {
                        entries.insert(r.clone(), e);
                    }
                }
            }
            out.push(h);
        }
        self.entries = entries;
        if changed {
            self.save();
        }
        Ok((out, read))
    }

    /// Writes the cache; a cache that cannot be written only costs time.
    fn save(&self) {
        let Some(f) = &self.file else { return };
        let mut keys: Vec<&String> = self.entries.keys().collect();
        keys.sort();
        let mut text = String::with_capacity(keys.len() * 120);
        for k in keys {
            let (s, h) = &self.entries[k];
            text.push_str(&format!(
                "{k}\t{}\t{}\t{}\t{h}\n",
                s.size, s.mtime_ns, s.inode
            ));
        }
        if let Some(d) = f.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        let _ = rcic_cli::publish::write_atomic(f, text.as_bytes());
    }
}

fn parse_line(l: &str) -> Option<(String, (Stamp, String))> {
    let mut it = l.split('\t');
    let (r, size, mtime, inode, h) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    let st = Stamp {
        size: size.parse().ok()?,
        mtime_ns: mtime.parse().ok()?,
        inode: inode.parse().ok()?,
    };
    (h.len() == 64).then(|| (r.to_string(), (st, h.to_string())))
}

#[cfg(test)]
mod tests {
    use crate::store::dataset_key_cached;
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    fn write(p: &Path, bytes: &[u8], age_s: u64) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
        set_age(p, age_s);
    }

    fn set_age(p: &Path, age_s: u64) {
        let t = SystemTime::now() - Duration::from_secs(age_s);
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn unchanged_files_are_not_read_and_every_change_changes_the_key() {
        let d = tempfile::tempdir().unwrap();
        let (root, cache) = (d.path().join("data"), d.path().join("cache"));
        write(&root.join("train.csv"), b"id_code\n", 60);
        write(&root.join("train/E/Plate1/a.png"), b"aaaa", 60);
        write(&root.join("train/E/Plate1/b.png"), b"bbbb", 60);
        let key = |expect_read: usize| {
            let k = dataset_key_cached(&root, Some(&cache)).unwrap();
            assert_eq!((k.files, k.read), (k.files, expect_read), "{k:?}");
            k.key
        };
        let k1 = key(3);
        assert_eq!(
            k1,
            crate::store::dataset_key(&root).unwrap(),
            "the cache never changes a key"
        );
        assert_eq!(key(0), k1);
        // Touched, same bytes: read once, same key, then cached again.
        set_age(&root.join("train/E/Plate1/a.png"), 30);
        assert_eq!(key(1), k1);
        assert_eq!(key(0), k1);
        // Same size, other bytes, an old time: the time still differs.
        write(&root.join("train/E/Plate1/b.png"), b"BBBB", 50);
        let k2 = key(1);
        assert_ne!(k2, k1);
        // Added, then removed.
        write(&root.join("train/E/Plate1/c.png"), b"c", 40);
        let k3 = key(1);
        assert_ne!(k3, k2);
        std::fs::remove_file(root.join("train/E/Plate1/c.png")).unwrap();
        assert_eq!(key(0), k2);
        // A file changed a moment ago is hashed but not cached.
        write(&root.join("train/E/Plate1/a.png"), b"AAAA", 0);
        let k4 = key(1);
        assert_eq!(key(1), k4);
    }
}
