//! Atomic publication of output folders: everything is written into a
//! hidden temporary sibling and renamed into place at the end, so a killed
//! run never leaves a complete-looking dataset. An existing non-empty
//! destination is refused unless the caller forces its replacement.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{io, Result, SynthError};

/// A destination folder and the temporary sibling being filled for it.
pub struct Staged {
    pub dest: PathBuf,
    pub tmp: PathBuf,
}

fn sibling(dest: &Path, tag: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dest.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

fn non_empty(p: &Path) -> bool {
    match fs::read_dir(p) {
        Ok(mut d) => d.next().is_some(),
        Err(_) => p.exists(),
    }
}

/// Refuses an existing non-empty `dest` unless `force`.
pub fn check_empty(dest: &Path, force: bool) -> Result<()> {
    if non_empty(dest) && !force {
        return Err(SynthError::OutputExists {
            path: dest.to_path_buf(),
        });
    }
    Ok(())
}

/// Checks `dest` and creates its temporary sibling.
pub fn stage(dest: &Path, force: bool) -> Result<Staged> {
    check_empty(dest, force)?;
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let tmp = sibling(dest, "partial");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir(&tmp).map_err(io(&tmp))?;
    Ok(Staged {
        dest: dest.to_path_buf(),
        tmp,
    })
}

impl Staged {
    /// Moves the finished folder into place, replacing what was there.
    pub fn publish(self) -> Result<()> {
        if self.dest.exists() {
            let old = sibling(&self.dest, "old");
            fs::rename(&self.dest, &old).map_err(io(&self.dest))?;
            fs::rename(&self.tmp, &self.dest).map_err(io(&self.dest))?;
            if old.is_dir() {
                fs::remove_dir_all(&old).map_err(io(&old))?;
            } else {
                fs::remove_file(&old).map_err(io(&old))?;
            }
        } else {
            fs::rename(&self.tmp, &self.dest).map_err(io(&self.dest))?;
        }
        Ok(())
    }

    /// Removes the temporary folder after a failure.
    pub fn discard(self) {
        let _ = fs::remove_dir_all(&self.tmp);
    }
}

/// The default truth folder: `<parent of out>/<basename of out>-truth`.
pub fn default_truth_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    out.with_file_name(format!("{name}-truth"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_empty_and_publishes_atomically() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("data");
        fs::create_dir(&dest).unwrap();
        // Empty existing folder: fine.
        let s = stage(&dest, false).unwrap();
        fs::write(s.tmp.join("a"), "1").unwrap();
        assert!(!dest.join("a").exists());
        s.publish().unwrap();
        assert!(dest.join("a").exists());
        assert!(matches!(
            stage(&dest, false),
            Err(SynthError::OutputExists { .. })
        ));
        let s = stage(&dest, true).unwrap();
        fs::write(s.tmp.join("b"), "2").unwrap();
        s.publish().unwrap();
        assert!(dest.join("b").exists() && !dest.join("a").exists());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
        assert_eq!(default_truth_dir(&dest), root.path().join("data-truth"));
    }
}
