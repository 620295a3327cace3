//! Output paths of the stage binaries, checked before any work: a file
//! path, not a folder; no file on its way (where creating it would fail
//! with a bare "File exists" or "Not a directory"); its folder present
//! unless the stage creates it; and none of the run's inputs, compared
//! after resolving links and `..` ([`crate::paths::resolve`]). One check
//! for every stage, with one wording.

use std::ffi::OsStr;
use std::path::Path;

use crate::paths::{blocking_ancestor, resolve};
use crate::CliError;

/// One input of a run, as an output must not touch it.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A file read by the run (`flag`, path).
    File(&'a str, &'a Path),
    /// A sealed folder (an artifact): nothing may be written inside it.
    Sealed(&'a str, &'a Path),
    /// A folder of input files: none of its existing files may be overwritten.
    Files(&'a str, &'a Path),
    /// An input folder nothing may be written into (`--data`).
    Folder(&'a str, &'a Path),
}

/// What is written: `flag PATH`, perhaps with files of fixed names beside it.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    pub flag: &'a str,
    pub path: &'a Path,
    /// Files written beside `path` (e.g. `report.json` beside a CSV).
    pub siblings: &'a [&'a str],
    /// Whether the stage creates `path`'s folder (otherwise it must exist).
    pub create_folder: bool,
}

impl<'a> Output<'a> {
    /// `flag PATH`, no siblings, its folder created when missing.
    pub fn new(flag: &'a str, path: &'a Path) -> Self {
        Self {
            flag,
            path,
            siblings: &[],
            create_folder: true,
        }
    }
}

/// Checks `out` against the file system and against `inputs`.
pub fn check_output(out: &Output, inputs: &[Input]) -> Result<(), CliError> {
    let (flag, path) = (out.flag, out.path);
    let bad = |m: String| Err(CliError::Output(format!("{flag} {}{m}", path.display())));
    if path.is_dir() {
        return bad(" is a folder; expected the path of a file to write".into());
    }
    if let Some(f) = blocking_ancestor(path) {
        return bad(format!(": {} is not a directory", f.display()));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !out.create_folder && !folder.is_dir() {
        return bad(format!(": the folder {} does not exist", folder.display()));
    }
    if let Some(s) = out
        .siblings
        .iter()
        .find(|s| path.file_name() == Some(OsStr::new(s)))
    {
        return bad(format!(": {s} is written beside it; choose another name"));
    }
    let mut written = vec![(String::new(), path.to_path_buf())];
    written.extend(
        out.siblings
            .iter()
            .map(|s| (format!(" (its {s}, written beside it)"), folder.join(s))),
    );
    for (what, p) in &written {
        if !what.is_empty() && p.is_dir() {
            return bad(format!(
                "{what} is a folder; it would not be replaced; write elsewhere"
            ));
        }
        if let Some(m) = clash(p, inputs) {
            return bad(format!("{what}{m}"));
        }
    }
    Ok(())
}

/// Why writing `p` would touch one of `inputs`, if it would.
fn clash(p: &Path, inputs: &[Input]) -> Option<String> {
    let out = resolve(p);
    inputs.iter().find_map(|input| match *input {
        Input::File(f, i) => (out == resolve(i)).then(|| {
            format!(
                " is the input {f} {}: the output would overwrite it; write elsewhere",
                i.display()
            )
        }),
        Input::Sealed(f, i) => out.starts_with(resolve(i)).then(|| {
            format!(
                " lies inside {} (the input artifact of {f}): writing there would change an input; write elsewhere",
                i.display()
            )
        }),
        Input::Files(f, i) => (out.is_file() && out.starts_with(resolve(i))).then(|| {
            format!(
                " is a file of the input {f} {}: the output would overwrite it; write elsewhere",
                i.display()
            )
        }),
        Input::Folder(f, i) => out.starts_with(resolve(i)).then(|| {
            format!(
                " lies inside the input folder {f} {}; write outputs outside it",
                i.display()
            )
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(out: &Output, inputs: &[Input]) -> String {
        check_output(out, inputs).unwrap_err().to_string()
    }

    #[test]
    fn folders_files_on_the_way_and_missing_folders_are_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        assert!(msg(&Output::new("-o", p), &[])
            .ends_with("is a folder; expected the path of a file to write"));
        std::fs::write(p.join("f"), b"").unwrap();
        let below = p.join("f/x.csv");
        assert!(msg(&Output::new("-o", &below), &[]).contains("f is not a directory"));
        let deep = p.join("no/x.csv");
        check_output(&Output::new("-o", &deep), &[]).unwrap();
        let strict = Output {
            create_folder: false,
            ..Output::new("-o", &deep)
        };
        assert!(msg(&strict, &[]).contains("does not exist"));
    }

    #[test]
    fn inputs_are_never_written() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir(p.join("art")).unwrap();
        std::fs::write(p.join("in.csv"), b"").unwrap();
        let same = p.join("art/../in.csv");
        let m = msg(
            &Output::new("-o", &same),
            &[Input::File("--data", &p.join("in.csv"))],
        );
        assert!(
            m.starts_with("-o ") && m.contains("is the input --data"),
            "{m}"
        );
        let inside = p.join("art/x");
        let m = msg(
            &Output::new("-o", &inside),
            &[Input::Sealed("--tensors", &p.join("art"))],
        );
        assert!(m.contains("the input artifact of --tensors"), "{m}");
        let m = msg(&Output::new("-o", &same), &[Input::Files("--data", p)]);
        assert!(m.contains("is a file of the input --data"), "{m}");
        check_output(
            &Output::new("-o", &p.join("new")),
            &[Input::Files("--data", p)],
        )
        .unwrap();
        let m = msg(&Output::new("-o", &inside), &[Input::Folder("--data", p)]);
        assert!(m.contains("lies inside the input folder --data"), "{m}");
    }

    #[test]
    fn siblings_are_checked_too() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        let sub = p.join("s.csv");
        let out = Output {
            siblings: &["report.json"],
            ..Output::new("-o", &sub)
        };
        let m = msg(&out, &[Input::File("--truth", &p.join("report.json"))]);
        assert!(
            m.contains("(its report.json, written beside it) is the input --truth"),
            "{m}"
        );
        std::fs::create_dir(p.join("report.png")).unwrap();
        let out = Output {
            siblings: &["report.json", "report.png"],
            ..Output::new("-o", &sub)
        };
        assert!(msg(&out, &[]).contains("(its report.png, written beside it) is a folder"));
        let named = p.join("report.json");
        let out = Output {
            siblings: &["report.json"],
            ..Output::new("-o", &named)
        };
        assert!(msg(&out, &[]).contains("is written beside it; choose another name"));
    }
}
