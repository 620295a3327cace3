//! Writing outputs atomically: every file goes to a hidden temporary sibling
//! first and is renamed into place only when all of them are complete, so a
//! failed or killed run leaves no output that looks finished.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{EnsembleError, Result};

/// Files staged for an atomic publish.
#[derive(Default)]
pub struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    /// Writes `bytes` to a temporary sibling of `path`.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir)
            .map_err(|e| EnsembleError::io(dir, "cannot create output folder", e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let mut f =
            fs::File::create(&tmp).map_err(|e| EnsembleError::io(&tmp, "cannot create", e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| EnsembleError::io(&tmp, "cannot write", e))?;
        self.files.push((tmp, path.to_path_buf()));
        Ok(())
    }

    /// Renames every staged file into place, in the order added.
    pub fn publish(mut self) -> Result<()> {
        for (tmp, path) in std::mem::take(&mut self.files) {
            fs::rename(&tmp, &path)
                .map_err(|e| EnsembleError::io(&path, "cannot move into place", e))?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.files {
            let _ = fs::remove_file(tmp);
        }
    }
}
