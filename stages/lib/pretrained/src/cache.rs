//! Where weights files are kept, outside any clone: `RCIC_WEIGHTS_DIR`, else
//! `$XDG_CACHE_HOME/rcic/weights`, else `~/.cache/rcic/weights`. A file
//! torch.hub already downloaded (`$TORCH_HOME/hub/checkpoints`, by default
//! `~/.cache/torch/hub/checkpoints`) is found too, so users of torchvision
//! download nothing twice. Every file found is verified before use.

use std::path::{Path, PathBuf};

use crate::error::{PretrainedError, Result};
use crate::source::{known, source};
use crate::verify::verify;

/// The folders searched, in order; the first is where downloads go.
#[derive(Debug, Clone)]
pub struct CacheDirs {
    pub dirs: Vec<PathBuf>,
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn cache_home() -> Option<PathBuf> {
    env_dir("XDG_CACHE_HOME").or_else(|| env_dir("HOME").map(|h| h.join(".cache")))
}

/// torch.hub's folder of downloaded weights.
fn torch_hub() -> Option<PathBuf> {
    env_dir("TORCH_HOME")
        .or_else(|| cache_home().map(|c| c.join("torch")))
        .map(|t| t.join("hub").join("checkpoints"))
}

impl CacheDirs {
    /// The default folders from the environment.
    pub fn from_env() -> Self {
        let ours = env_dir("RCIC_WEIGHTS_DIR")
            .or_else(|| cache_home().map(|c| c.join("rcic").join("weights")));
        Self {
            dirs: ours.into_iter().chain(torch_hub()).collect(),
        }
    }

    /// A given folder (`--cache-dir`) first, then torch.hub's.
    pub fn with_first(dir: &Path) -> Self {
        Self {
            dirs: std::iter::once(dir.to_path_buf())
                .chain(torch_hub())
                .collect(),
        }
    }

    /// Where a download of `file` goes.
    pub fn target(&self, file: &str) -> PathBuf {
        self.dirs
            .first()
            .map_or_else(|| PathBuf::from(file), |d| d.join(file))
    }
}

/// The verified ImageNet weights of `backbone` from the cache folders.
pub fn find(backbone: &str, dirs: &CacheDirs) -> Result<PathBuf> {
    let s = source(backbone).ok_or_else(|| PretrainedError::NoSource {
        backbone: backbone.into(),
        known: known(),
    })?;
    for d in &dirs.dirs {
        let p = d.join(s.file_name());
        if p.is_file() {
            verify(&p, s.hash_prefix())?;
            return Ok(p);
        }
    }
    Err(PretrainedError::Missing {
        backbone: backbone.into(),
        file: s.file_name().into(),
        url: s.url(),
        searched: dirs
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_says_which_from_where_and_how() {
        let d = tempfile::tempdir().unwrap();
        let dirs = CacheDirs {
            dirs: vec![d.path().join("a"), d.path().join("b")],
        };
        let e = find("mem-densenet161", &dirs).unwrap_err().to_string();
        for part in [
            "densenet161-8d451a50.pth",
            "https://download.pytorch.org/models/densenet161-8d451a50.pth",
            "make weights",
            "PRETRAINED=FILE",
            &d.path().join("b").display().to_string(),
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
        let e = find("densenet-tiny", &dirs).unwrap_err().to_string();
        assert!(e.contains("densenet-tiny") && e.contains("resnet18"), "{e}");
    }

    #[test]
    fn a_file_in_a_later_folder_is_found_and_verified() {
        let d = tempfile::tempdir().unwrap();
        let dirs = CacheDirs {
            dirs: vec![d.path().join("a"), d.path().join("b")],
        };
        std::fs::create_dir_all(&dirs.dirs[1]).unwrap();
        let p = dirs.dirs[1].join("resnet18-f37072fd.pth");
        std::fs::write(&p, b"not the published bytes").unwrap();
        let e = find("resnet18", &dirs).unwrap_err().to_string();
        assert!(e.contains("does not begin with f37072fd"), "{e}");
    }
}
