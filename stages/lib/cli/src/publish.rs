//! Publishing outputs atomically: bytes go to a temporary sibling (made by
//! `tempfile`, removed when dropped) and are renamed into place only when
//! complete, so a failed or killed run leaves no output that looks finished
//! and no clobbered previous version. [`AtomicFile`] for one file written as
//! a stream, [`write_atomic`] for bytes at hand, [`Staged`] for several files
//! that appear together (all written before the first is renamed),
//! [`StagedDir`] for a whole folder.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempDir};

use crate::CliError;

/// Permissions of a published file or folder: `bits` less the umask, as a
/// plain `File::create` or `create_dir` gives (tempfile's own are private).
fn mode(bits: u32) -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(bits)
}

/// The folder of `path` (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A file being written under a temporary name beside its final `path`.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary (and the folder of `path` when missing).
    pub fn create(path: &Path) -> Result<Self, CliError> {
        let dir = folder_of(path);
        fs::create_dir_all(dir)
            .map_err(|e| CliError::io(dir, "cannot create the output folder", e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| CliError::io(dir, "cannot create a temporary file", e))?;
        Ok(Self {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Flushes to disk and renames the temporary to the final path.
    pub fn commit(self) -> Result<(), CliError> {
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| CliError::io(self.tmp.path(), "cannot write", e))?;
        let path = self.path;
        self.tmp
            .persist(&path)
            .map_err(|e| CliError::io(&path, "cannot move into place", e.error))?;
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut f = AtomicFile::create(path)?;
    f.file()
        .write_all(bytes)
        .map_err(|e| CliError::io(path, "cannot write", e))?;
    f.commit()
}

/// Files written first and renamed into place together, in the order added;
/// whatever is not published when this is dropped is removed.
#[derive(Debug, Default)]
pub struct Staged {
    files: Vec<AtomicFile>,
}

impl Staged {
    /// Writes `bytes` to a temporary sibling of `path`.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<(), CliError> {
        let mut f = AtomicFile::create(path)?;
        f.file()
            .write_all(bytes)
            .and_then(|_| f.file().sync_all())
            .map_err(|e| CliError::io(path, "cannot write", e))?;
        self.files.push(f);
        Ok(())
    }

    /// Renames every staged file into place; after a failed rename the rest
    /// stay unpublished and their temporaries are removed.
    pub fn publish(self) -> Result<(), CliError> {
        for f in self.files {
            let path = f.path;
            f.tmp
                .persist(&path)
                .map_err(|e| CliError::io(&path, "cannot move into place", e.error))?;
        }
        Ok(())
    }
}

/// A folder filled under a temporary sibling name and renamed into place.
#[derive(Debug)]
pub struct StagedDir {
    tmp: TempDir,
    dest: PathBuf,
}

impl StagedDir {
    /// Creates the temporary sibling of `dest` (and `dest`'s parent).
    pub fn create(dest: &Path) -> Result<Self, CliError> {
        let dir = folder_of(dest);
        fs::create_dir_all(dir)
            .map_err(|e| CliError::io(dir, "cannot create the output folder", e))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .permissions(mode(0o777))
            .tempdir_in(dir)
            .map_err(|e| CliError::io(dir, "cannot create a temporary folder", e))?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    /// The temporary folder to fill.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Renames the folder into place; what was at `dest` is moved aside
    /// first and removed once the new folder is there.
    pub fn publish(self) -> Result<(), CliError> {
        let dest = self.dest;
        let tmp = self.tmp.keep();
        let old = dest.exists().then(|| tmp.with_extension("old"));
        if let Some(old) = &old {
            fs::rename(&dest, old)
                .map_err(|e| CliError::io(&dest, "cannot move the previous output aside", e))?;
        }
        if let Err(e) = fs::rename(&tmp, &dest) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(CliError::io(&dest, "cannot move into place", e));
        }
        if let Some(old) = old {
            let gone = if old.is_dir() {
                fs::remove_dir_all(&old)
            } else {
                fs::remove_file(&old)
            };
            gone.map_err(|e| CliError::io(&old, "cannot remove the previous output", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_dropped_file_leaves_nothing_and_a_committed_one_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.csv");
        fs::write(&p, b"old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.file().write_all(b"new").unwrap();
        drop(f);
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(names(d.path()), ["out.csv"]);
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(names(d.path()), ["out.csv"]);
        write_atomic(&d.path().join("sub/x"), b"1").unwrap();
        assert!(d.path().join("sub/x").is_file());
        // Readable by others as a plain create makes it (umask 022 or 002).
        use std::os::unix::fs::PermissionsExt;
        let m = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert!(m & 0o044 == 0o044, "{m:o}");
    }

    #[test]
    fn a_staged_folder_appears_whole_or_not_at_all() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out");
        let s = StagedDir::create(&dest).unwrap();
        fs::write(s.path().join("x"), b"1").unwrap();
        drop(s);
        assert!(names(d.path()).is_empty());
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("old"), b"0").unwrap();
        let s = StagedDir::create(&dest).unwrap();
        fs::write(s.path().join("x"), b"1").unwrap();
        s.publish().unwrap();
        assert_eq!(names(d.path()), ["out"]);
        assert_eq!(names(&dest), ["x"]);
    }

    #[test]
    fn staged_files_publish_together_or_not_at_all() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Staged::default();
        s.add(&d.path().join("a"), b"1").unwrap();
        s.add(&d.path().join("b"), b"2").unwrap();
        assert!(names(d.path()).iter().all(|n| n.starts_with('.')));
        drop(s);
        assert!(names(d.path()).is_empty());
        let mut s = Staged::default();
        s.add(&d.path().join("a"), b"1").unwrap();
        fs::create_dir(d.path().join("dir")).unwrap();
        fs::write(d.path().join("dir/x"), b"").unwrap();
        s.add(&d.path().join("dir"), b"2").unwrap();
        assert!(s.publish().is_err());
        assert_eq!(names(d.path()), ["a", "dir"]);
    }
}
