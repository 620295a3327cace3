//! Writing an output atomically: the bytes go to a hidden temporary sibling
//! (`.NAME.tmp-PID`) and are renamed into place only when complete, so a
//! failed or killed run never leaves a file that looks finished.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{ReportError, Result};

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, "cannot create output folder", e))?;
    let name = path
        .file_name()
        .ok_or_else(|| ReportError::input(path, "not a file name"))?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f =
            fs::File::create(&tmp).map_err(|e| ReportError::io(&tmp, "cannot create", e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| ReportError::io(&tmp, "cannot write", e))?;
        fs::rename(&tmp, path).map_err(|e| ReportError::io(path, "cannot move into place", e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.html");
        write_atomic(&p, b"hello").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"hello");
        let names: Vec<_> = fs::read_dir(d.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.html")]);
    }

    #[test]
    fn a_failed_write_names_the_path_and_cleans_up() {
        let d = tempfile::tempdir().unwrap();
        // The target is a folder: the rename fails.
        let p = d.path().join("taken");
        fs::create_dir_all(p.join("x")).unwrap();
        let e = write_atomic(&p, b"x").unwrap_err().to_string();
        assert!(e.contains("taken"), "{e}");
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
    }
}
