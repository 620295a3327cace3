//! Writing outputs atomically: every file goes to a hidden temporary sibling
//! first and is renamed into place only when all of them are complete, so a
//! failed or killed run leaves no output that looks finished. Where the
//! outputs go is checked before any work ([`check_output`]): not a folder,
//! not below a file, and none of them an input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{EnsembleError, Result};
use rcic_core::paths::{blocking_ancestor, resolve};

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
        // Registered first: a failed write below still removes it.
        self.files.push((tmp.clone(), path.to_path_buf()));
        let mut f =
            fs::File::create(&tmp).map_err(|e| EnsembleError::io(&tmp, "cannot create", e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| EnsembleError::io(&tmp, "cannot write", e))?;
        Ok(())
    }

    /// Renames every staged file into place, in the order added; after a
    /// failed rename the rest stay unpublished and every temporary left is
    /// removed.
    pub fn publish(mut self) -> Result<()> {
        while !self.files.is_empty() {
            let (tmp, path) = self.files.remove(0);
            if let Err(e) = fs::rename(&tmp, &path) {
                let _ = fs::remove_file(&tmp);
                return Err(EnsembleError::io(&path, "cannot move into place", e));
            }
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

/// Checks, before any work, that `out` (given as `flag`) can be written:
/// it is not a folder, its nearest existing ancestor is a folder, and
/// neither it nor any of `siblings` (files written beside it) is one of
/// `inputs` (`(flag, path)`, compared as resolved paths).
pub fn check_output(
    flag: &str,
    out: &Path,
    siblings: &[&str],
    inputs: &[(&str, &Path)],
) -> Result<()> {
    let usage = |m: String| Err(EnsembleError::Usage(m));
    if out.is_dir() {
        return usage(format!(
            "{flag} {} is a directory; expected the path of the file to write",
            out.display()
        ));
    }
    if let Some(parent) = blocking_ancestor(out) {
        return usage(format!(
            "{flag} {}: {} is not a directory",
            out.display(),
            parent.display()
        ));
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut outputs = vec![(flag.to_string(), out.to_path_buf())];
    outputs.extend(siblings.iter().map(|s| {
        (
            format!("{s} (written beside {flag} {})", out.display()),
            dir.join(s),
        )
    }));
    if let Some(s) = siblings
        .iter()
        .find(|s| out.file_name() == Some(std::ffi::OsStr::new(s)))
    {
        return usage(format!(
            "{flag} {}: {s} is written beside it; choose another name",
            out.display()
        ));
    }
    let inputs: Vec<(&str, &Path, PathBuf)> =
        inputs.iter().map(|(f, p)| (*f, *p, resolve(p))).collect();
    for (what, path) in &outputs {
        if path != out && path.is_dir() {
            return usage(format!(
                "{what}: {} is a directory; it would not be replaced",
                path.display()
            ));
        }
        let r = resolve(path);
        if let Some((f, p, _)) = inputs.iter().find(|(_, _, i)| *i == r) {
            return usage(format!(
                "{what} {} is the input {f} {}; an output may not overwrite an input",
                path.display(),
                p.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_publish_leaves_no_temporary_and_publishes_nothing_after() {
        let d = tempfile::tempdir().unwrap();
        let taken = d.path().join("taken");
        fs::create_dir_all(taken.join("x")).unwrap();
        let mut s = Staged::default();
        s.add(&taken, b"csv").unwrap();
        s.add(&d.path().join("report.json"), b"{}").unwrap();
        assert!(s.publish().is_err());
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
    }

    #[test]
    fn outputs_are_checked_against_folders_files_and_inputs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.parquet");
        fs::write(&p, b"x").unwrap();
        let e = |out: &Path, inputs: &[(&str, &Path)]| {
            check_output("-o", out, &["report.json"], inputs)
                .unwrap_err()
                .to_string()
        };
        let msg = e(d.path(), &[]);
        assert!(msg.contains("is a directory"), "{msg}");
        let msg = e(&p.join("sub.csv"), &[]);
        assert!(
            msg.contains(&format!("{} is not a directory", p.display())),
            "{msg}"
        );
        let alias = d.path().join("x/../p.parquet");
        let msg = e(&alias, &[("PRED", &p)]);
        assert!(
            msg.contains("-o") && msg.contains("the input PRED"),
            "{msg}"
        );
        let r = d.path().join("report.json");
        fs::write(&r, b"{}").unwrap();
        let msg = e(&d.path().join("sub.csv"), &[("--truth", &r)]);
        assert!(
            msg.contains("report.json") && msg.contains("--truth"),
            "{msg}"
        );
        let msg = e(&d.path().join("report.json"), &[]);
        assert!(msg.contains("report.json is written beside it"), "{msg}");
        check_output(
            "-o",
            &d.path().join("new/sub.csv"),
            &["report.json"],
            &[("PRED", &p)],
        )
        .unwrap();
    }
}
