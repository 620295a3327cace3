//! One seal: `FILE.blake3` holds `<64 hex digits>  <file name>\n` (the
//! b3sum line format), written atomically ([`rcic_cli::publish::write_atomic`]:
//! a hidden temporary sibling renamed into place).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Errors of sealing and checking.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The cause is the source, printed once after the path.
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: io::Error,
    },
    #[error("{path}: not a seal (expected `<64 hex digits>  <file name>`)")]
    Malformed { path: PathBuf },
    #[error("{path}: is not a file name with a parent folder")]
    BadPath { path: PathBuf },
    /// Writing the seal failed (the message names the path).
    #[error(transparent)]
    Write(#[from] rcic_cli::CliError),
}

type Result<T> = std::result::Result<T, SealError>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SealError + '_ {
    move |cause| SealError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// The seal of `file`: `file` with `.blake3` appended.
pub fn seal_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_os_string();
    s.push(".blake3");
    PathBuf::from(s)
}

fn digest(file: &Path) -> Result<String> {
    let mut f = fs::File::open(file).map_err(io_err(file))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err(file))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn file_name(file: &Path) -> Result<String> {
    file.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| SealError::BadPath {
            path: file.to_path_buf(),
        })
}

/// Hashes `file` and writes its seal; returns the seal's path.
pub fn seal_file(file: &Path) -> Result<PathBuf> {
    let name = file_name(file)?;
    let hex = digest(file)?;
    let seal = seal_path(file);
    rcic_cli::publish::write_atomic(&seal, format!("{hex}  {name}\n").as_bytes())?;
    Ok(seal)
}

/// What checking one seal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The file exists and has the sealed digest.
    Intact,
    /// The sealed file is missing.
    Missing,
    /// The file's digest differs from the sealed one.
    Changed,
}

/// Checks one seal (a path ending in `.blake3`) against its file.
pub fn verify_seal(seal: &Path) -> Result<Outcome> {
    let text = fs::read_to_string(seal).map_err(io_err(seal))?;
    let line = text.lines().next().unwrap_or("");
    let (hex, name) = line
        .split_once("  ")
        .filter(|(h, n)| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) && !n.is_empty())
        .ok_or_else(|| SealError::Malformed {
            path: seal.to_path_buf(),
        })?;
    let file = seal.with_file_name(name);
    if !file.is_file() {
        return Ok(Outcome::Missing);
    }
    Ok(if digest(&file)? == hex {
        Outcome::Intact
    } else {
        Outcome::Changed
    })
}

/// Checks every seal under `root` (recursively; a missing root has none).
/// A seal that is malformed, or whose file is missing or changed, is removed
/// together with the damaged file; returns the removed seals and why.
pub fn check_tree(root: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut seals = Vec::new();
    collect(root, &mut seals)?;
    seals.sort();
    let mut removed = Vec::new();
    for seal in seals {
        let why = match verify_seal(&seal) {
            Ok(Outcome::Intact) => continue,
            Ok(Outcome::Missing) => "file missing".to_owned(),
            Ok(Outcome::Changed) => "content changed".to_owned(),
            Err(SealError::Malformed { .. }) => "malformed seal".to_owned(),
            Err(e) => return Err(e),
        };
        let file = PathBuf::from(
            seal.to_string_lossy()
                .trim_end_matches(".blake3")
                .to_owned(),
        );
        if file.is_file() {
            fs::remove_file(&file).map_err(io_err(&file))?;
        }
        fs::remove_file(&seal).map_err(io_err(&seal))?;
        removed.push((file, why));
    }
    Ok(removed)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let path = entry.map_err(io_err(dir))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "blake3")
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_verify_then_damage() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("model");
        fs::write(&f, b"weights").unwrap();
        let s = seal_file(&f).unwrap();
        assert_eq!(s, d.path().join("model.blake3"));
        let text = fs::read_to_string(&s).unwrap();
        assert_eq!(
            text,
            format!("{}  model\n", blake3::hash(b"weights").to_hex())
        );
        assert_eq!(verify_seal(&s).unwrap(), Outcome::Intact);
        fs::write(&f, b"weightz").unwrap();
        assert_eq!(verify_seal(&s).unwrap(), Outcome::Changed);
        fs::remove_file(&f).unwrap();
        assert_eq!(verify_seal(&s).unwrap(), Outcome::Missing);
    }

    #[test]
    fn check_tree_removes_exactly_the_damaged() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("seed0");
        let b = d.path().join("seed1");
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        for dir in [&a, &b] {
            fs::write(dir.join("model"), b"m").unwrap();
            seal_file(&dir.join("model")).unwrap();
            fs::write(dir.join("predictions.parquet"), b"p").unwrap();
            seal_file(&dir.join("predictions.parquet")).unwrap();
        }
        fs::write(b.join("predictions.parquet"), b"corrupt").unwrap();
        fs::remove_file(a.join("model")).unwrap();
        fs::write(a.join("junk.blake3"), "not a seal\n").unwrap();
        let removed = check_tree(d.path()).unwrap();
        let names: Vec<_> = removed
            .iter()
            .map(|(p, w)| {
                (
                    p.strip_prefix(d.path())
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    w.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("seed0/junk".to_owned(), "malformed seal"),
                ("seed0/model".to_owned(), "file missing"),
                ("seed1/predictions.parquet".to_owned(), "content changed"),
            ]
        );
        assert!(!b.join("predictions.parquet").exists());
        assert!(!b.join("predictions.parquet.blake3").exists());
        assert!(b.join("model.blake3").exists() && a.join("predictions.parquet.blake3").exists());
        assert!(check_tree(d.path()).unwrap().is_empty());
        assert!(check_tree(&d.path().join("absent")).unwrap().is_empty());
    }
}
