//! Where an output folder really is, before anything is created: its
//! resolved path (to tell whether two folders are the same or nested,
//! though neither may exist yet) and whether its nearest existing ancestor
//! is a folder at all. Used by [`crate::output`] and by the stages that
//! compare their outputs with their inputs.

use std::path::{Component, Path, PathBuf};

/// `p` made absolute, its longest existing prefix canonicalised (symlinks
/// and `..` resolved), the rest appended lexically (`.` dropped, `..`
/// removing the previous component).
pub fn resolve(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let parts: Vec<Component> = abs.components().collect();
    for k in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..k].iter().collect();
        if let Ok(mut out) = head.canonicalize() {
            for c in &parts[k..] {
                match c {
                    Component::CurDir => {}
                    Component::ParentDir => {
                        out.pop();
                    }
                    c => out.push(c),
                }
            }
            return out;
        }
    }
    abs
}

/// The nearest existing proper ancestor of `p` when it is not a folder
/// (creating `p` would fail there with an unhelpful "File exists").
pub fn blocking_ancestor(p: &Path) -> Option<PathBuf> {
    p.ancestors()
        .skip(1)
        .find(|a| !a.as_os_str().is_empty() && a.exists())
        .filter(|a| !a.is_dir())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_missing_tails_and_finds_file_parents() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("a")).unwrap();
        std::fs::write(root.join("f"), "x").unwrap();
        assert_eq!(resolve(&root.join("a/../a/./b/c/..")), root.join("a/b"));
        assert_eq!(resolve(&root.join("a/x")), root.join("a/x"));
        assert_eq!(blocking_ancestor(&root.join("f/x/y")), Some(root.join("f")));
        assert_eq!(blocking_ancestor(&root.join("a/x/y")), None);
    }
}
