//! Which epoch checkpoints a run keeps on disk. Each epoch writes `NAME.<e>`
//! and its `.state` (about 0.1 + 0.2 GB for DenseNet-161, so some 40 GB per
//! seed over the winner's 130 epochs when all are kept). With
//! `--keep-checkpoints N`, once epoch e is published the run keeps the
//! checkpoints of the last N epochs, the epochs `--keep-epochs` names and
//! the best `NAME` (a file of its own), and only the last epoch's `.state`
//! (what resuming needs); the rest is removed. Removal follows the
//! publication of the newer files, so a run killed at any point can still
//! resume from its last complete epoch. `all` (the default, as the
//! reference) removes nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What to keep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Retention {
    /// Recent epoch checkpoints kept (None: all).
    pub keep_last: Option<u32>,
    /// Epochs whose checkpoints are always kept.
    pub keep_epochs: BTreeSet<u32>,
}

/// `--keep-checkpoints`: a number of recent epochs, or None for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep(pub Option<u32>);

/// `N` or `all`.
pub fn parse_keep(s: &str) -> Result<Keep, String> {
    if s == "all" {
        return Ok(Keep(None));
    }
    match s.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(Keep(Some(n))),
        _ => Err(format!(
            "{s:?}: expected `all` or a number of epochs, at least 1"
        )),
    }
}

fn epoch_path(save: &Path, epoch: u32) -> PathBuf {
    PathBuf::from(format!("{}.{epoch}", save.display()))
}

fn state_path(save: &Path, epoch: u32) -> PathBuf {
    PathBuf::from(format!("{}.{epoch}.state", save.display()))
}

impl Retention {
    /// The files of epochs before `epoch` to remove once `epoch` is
    /// published (a resumed run also cleans what an earlier run left).
    pub fn stale(&self, save: &Path, epoch: u32) -> Vec<PathBuf> {
        let Some(n) = self.keep_last else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for k in 0..epoch {
            if epoch - k >= n && !self.keep_epochs.contains(&k) {
                out.push(epoch_path(save, k));
            }
            out.push(state_path(save, k));
        }
        out.retain(|p| p.exists());
        out
    }

    /// Removes [`Retention::stale`]; a file that cannot be removed is
    /// reported, not fatal (training goes on).
    pub fn apply(&self, save: &Path, epoch: u32) -> Vec<String> {
        self.stale(save, epoch)
            .into_iter()
            .filter_map(|p| {
                std::fs::remove_file(&p)
                    .err()
                    .map(|e| format!("cannot remove {}: {e}", p.display()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_n_the_named_and_the_last_state() {
        let d = tempfile::tempdir().unwrap();
        let save = d.path().join("m");
        for e in 0..6 {
            std::fs::write(epoch_path(&save, e), b"c").unwrap();
            std::fs::write(state_path(&save, e), b"s").unwrap();
        }
        let r = Retention {
            keep_last: Some(2),
            keep_epochs: BTreeSet::from([1]),
        };
        assert!(r.apply(&save, 5).is_empty());
        let mut left: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["m.1", "m.4", "m.5", "m.5.state"]);
        let all = Retention::default();
        assert!(all.stale(&save, 5).is_empty());
    }

    #[test]
    fn parses_all_or_a_count() {
        assert_eq!(parse_keep("all"), Ok(Keep(None)));
        assert_eq!(parse_keep("3"), Ok(Keep(Some(3))));
        assert!(parse_keep("0").is_err() && parse_keep("x").is_err());
    }
}
