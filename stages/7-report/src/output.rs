//! Writing an output atomically: the bytes go to a hidden temporary sibling
//! (`.NAME.tmp-PID`) and are renamed into place only when complete, so a
//! failed or killed run never leaves a file that looks finished. Where it
//! goes is checked before any work ([`check_output`]).

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{ReportError, Result};
use rcic_core::paths::{blocking_ancestor, resolve};

/// Checks, before any work, that `out` (given as `flag`) can be written: it
/// is not a folder, its nearest existing ancestor is a folder, it is none
/// of `inputs` (`(flag, path)`) and lies in none of `input_dirs` (`(flag,
/// folder)`), compared as resolved paths.
pub fn check_output(
    flag: &str,
    out: &Path,
    inputs: &[(&str, &Path)],
    input_dirs: &[(&str, &Path)],
) -> Result<()> {
    let usage = |m: String| Err(ReportError::Usage(m));
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
    let r = resolve(out);
    if let Some((f, p)) = inputs.iter().find(|(_, p)| resolve(p) == r) {
        return usage(format!(
            "{flag} {} is the input {f} {}; an output may not overwrite an input",
            out.display(),
            p.display()
        ));
    }
    if let Some((f, d)) = input_dirs.iter().find(|(_, d)| r.starts_with(resolve(d))) {
        return usage(format!(
            "{flag} {} lies inside the input folder {f} {}; write outputs outside it",
            out.display(),
            d.display()
        ));
    }
    Ok(())
}

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
    fn outputs_are_checked_against_folders_files_and_inputs() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        fs::create_dir_all(data.join("train")).unwrap();
        let r = d.path().join("report.json");
        fs::write(&r, "{}").unwrap();
        let e = |out: &Path| {
            check_output("-o", out, &[("--ensemble", &r)], &[("--data", &data)])
                .unwrap_err()
                .to_string()
        };
        assert!(e(&data).contains("is a directory"));
        let m = e(&r.join("x.png"));
        assert!(
            m.contains(&format!("{} is not a directory", r.display())),
            "{m}"
        );
        let m = e(&d.path().join("data/../report.json"));
        assert!(
            m.contains("-o") && m.contains("the input --ensemble"),
            "{m}"
        );
        let m = e(&data.join("train/new/x.png"));
        assert!(m.contains("inside the input folder --data"), "{m}");
        check_output(
            "-o",
            &d.path().join("out/x.png"),
            &[("--ensemble", &r)],
            &[("--data", &data)],
        )
        .unwrap();
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
