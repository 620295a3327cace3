//! The output folders: each is filled under a hidden temporary sibling and
//! renamed into place at the end ([`rcic_cli::publish::StagedDir`]), so a
//! killed run never leaves a complete-looking dataset, and a failed one
//! leaves nothing (the temporary is removed when dropped). An existing
//! non-empty destination is refused unless the caller forces its replacement.

use std::fs;
use std::path::{Path, PathBuf};

use rcic_cli::publish::StagedDir;

use crate::error::{Result, SynthError};

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

/// Checks `dest` and creates its temporary sibling (and `dest`'s parent).
pub fn stage(dest: &Path, force: bool) -> Result<StagedDir> {
    check_empty(dest, force)?;
    Ok(StagedDir::create(dest)?)
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
        fs::write(s.path().join("a"), "1").unwrap();
        assert!(!dest.join("a").exists());
        s.publish().unwrap();
        assert!(dest.join("a").exists());
        assert!(matches!(
            stage(&dest, false),
            Err(SynthError::OutputExists { .. })
        ));
        let s = stage(&dest, true).unwrap();
        fs::write(s.path().join("b"), "2").unwrap();
        s.publish().unwrap();
        assert!(dest.join("b").exists() && !dest.join("a").exists());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
        // Dropped without publishing: nothing is left.
        let s = stage(&dest, true).unwrap();
        fs::write(s.path().join("c"), "3").unwrap();
        drop(s);
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
        assert!(dest.join("b").exists());
        assert_eq!(default_truth_dir(&dest), root.path().join("data-truth"));
    }
}
