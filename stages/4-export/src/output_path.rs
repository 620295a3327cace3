//! Output files of the stage binaries (export, predict): checked before any
//! work (a file path, not a folder; its folder a folder; not one of the
//! run's inputs, compared after resolving links and `..` with
//! `rcic_core::paths::resolve`) and written
//! through a temporary name that is removed on any failure, so a failed run
//! leaves neither a clobbered input nor a stray temporary behind.

use std::path::{Path, PathBuf};

use rcic_core::paths::{blocking_ancestor, resolve};

use crate::ExportError;

/// Checks that `path` (named `what` in messages, e.g. `-o out.onnx`) can
/// be written as a file: it is not a folder, no existing file lies on its
/// way (where creating it would fail with a bare "File exists" or "Not a
/// directory"), and its folder exists unless the caller creates it
/// (`create_folder`).
pub fn check_writable(what: &str, path: &Path, create_folder: bool) -> Result<(), ExportError> {
    let bad = |m: String| Err(ExportError::Output(format!("{what}: {m}")));
    if path.is_dir() {
        return bad("is a folder; expected a file path".into());
    }
    if let Some(f) = blocking_ancestor(path) {
        return bad(format!("{} is not a directory", f.display()));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !create_folder && !folder.is_dir() {
        return bad(format!("the folder {} does not exist", folder.display()));
    }
    Ok(())
}

/// One input of a run, as the output must not touch it.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A file read by the run (`flag`, path).
    File(&'a str, &'a Path),
    /// A sealed folder (an artifact): nothing may be written inside it.
    Sealed(&'a str, &'a Path),
    /// A folder of input files: none of its existing files may be overwritten.
    Files(&'a str, &'a Path),
}

/// Rejects an output (`flag`, `path`) that is one of `inputs`, with a
/// message naming both flags and both paths.
pub fn check_not_input(flag: &str, path: &Path, inputs: &[Input]) -> Result<(), ExportError> {
    let out = resolve(path);
    for input in inputs {
        let clash = match *input {
            Input::File(f, p) => (out == resolve(p)).then(|| {
                format!(
                    "{flag} {} is the input {f} {}: the output would overwrite it; write elsewhere",
                    path.display(),
                    p.display()
                )
            }),
            Input::Sealed(f, p) => out.starts_with(resolve(p)).then(|| {
                format!(
                    "{flag} {} lies inside {} (the input artifact of {f}): writing there would change an input; write elsewhere",
                    path.display(),
                    p.display()
                )
            }),
            Input::Files(f, p) => (out.is_file() && out.starts_with(resolve(p))).then(|| {
                format!(
                    "{flag} {} is a file of the input {f} {}: the output would overwrite it; write elsewhere",
                    path.display(),
                    p.display()
                )
            }),
        };
        if let Some(m) = clash {
            return Err(ExportError::Output(m));
        }
    }
    Ok(())
}

/// A temporary file that is removed when dropped unless it was renamed to
/// its final name with [`TempFile::persist`].
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    /// The temporary `path` (created by the caller).
    pub fn new(path: PathBuf) -> Self {
        Self { path, armed: true }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temporary to `to`; on failure it is removed.
    pub fn persist(mut self, to: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, to)?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed && self.path.is_file() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_temporary_is_removed_and_a_persisted_one_kept() {
        let d = tempfile::tempdir().unwrap();
        let t = TempFile::new(d.path().join("x.tmp"));
        std::fs::write(t.path(), b"1").unwrap();
        drop(t);
        assert!(!d.path().join("x.tmp").exists());
        let t = TempFile::new(d.path().join("y.tmp"));
        std::fs::write(t.path(), b"1").unwrap();
        std::fs::create_dir(d.path().join("dir")).unwrap();
        assert!(t.persist(&d.path().join("dir")).is_err());
        assert!(!d.path().join("y.tmp").exists());
        let t = TempFile::new(d.path().join("z.tmp"));
        std::fs::write(t.path(), b"1").unwrap();
        t.persist(&d.path().join("z")).unwrap();
        assert!(d.path().join("z").is_file() && !d.path().join("z.tmp").exists());
    }
}
