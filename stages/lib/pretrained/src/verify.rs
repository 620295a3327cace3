//! A weights file is the published one when its SHA-256 begins with the hex
//! digits torchvision writes in its name (`densenet161-8d451a50.pth`), the
//! check torch.hub makes after every download. A file named like one of
//! torchvision's files but of another backbone is refused by name.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{PretrainedError, Result};

/// The hex digits after the last `-` of a `NAME-HASH.ext` file name.
pub fn hash_prefix(file_name: &str) -> Option<&str> {
    let stem = file_name.split('.').next()?;
    let (_, h) = stem.rsplit_once('-')?;
    (h.len() >= 6
        && h.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()))
    .then_some(h)
}

/// The file's SHA-256 in lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let io = |cause| PretrainedError::Io {
        path: path.to_path_buf(),
        cause,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `path` against the hash prefix `expected`.
pub fn verify(path: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual.starts_with(expected) {
        Ok(())
    } else {
        Err(PretrainedError::HashMismatch {
            path: path.to_path_buf(),
            expected: expected.into(),
            actual,
        })
    }
}

/// For a file the user names (`--pretrained FILE`): when its name is one
/// of torchvision's published names, it must be `backbone`'s, and its hash
/// must match; other names are taken as they are (the loader then checks
/// every tensor's name and shape).
pub fn check_name(path: &Path, backbone: &str) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some((file_backbone, _)) = crate::source::FILES.iter().find(|(_, f)| *f == name) else {
        return Ok(());
    };
    let want = crate::source::source(backbone);
    if want.map(|s| s.backbone) != Some(*file_backbone) {
        return Err(PretrainedError::OtherBackbone {
            path: path.to_path_buf(),
            file_backbone: (*file_backbone).into(),
            backbone: backbone.into(),
            expected: want.map_or("no torchvision file".into(), |s| s.file_name().to_string()),
        });
    }
    verify(path, hash_prefix(name).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_comes_from_the_name() {
        assert_eq!(hash_prefix("densenet161-8d451a50.pth"), Some("8d451a50"));
        assert_eq!(
            hash_prefix("resnext50_32x4d-7cdf4587.pth"),
            Some("7cdf4587")
        );
        assert_eq!(hash_prefix("weights.pth"), None);
        assert_eq!(hash_prefix("my-model.pth"), None);
    }

    #[test]
    fn a_file_is_checked_against_its_name() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.bin");
        std::fs::write(&p, b"abc").unwrap();
        // sha256("abc") = ba7816bf...
        verify(&p, "ba7816bf").unwrap();
        let e = verify(&p, "00000000").unwrap_err().to_string();
        assert!(
            e.contains("ba7816bf") && e.contains("00000000") && e.contains("x.bin"),
            "{e}"
        );
    }

    #[test]
    fn a_published_name_of_another_backbone_is_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("densenet121-a639ec97.pth");
        std::fs::write(&p, b"abc").unwrap();
        let e = check_name(&p, "densenet161").unwrap_err().to_string();
        assert!(
            e.contains("densenet121-a639ec97.pth")
                && e.contains("densenet161-8d451a50.pth")
                && e.contains("of densenet121"),
            "{e}"
        );
        // The right backbone, but not the published bytes.
        let e = check_name(&p, "densenet121").unwrap_err().to_string();
        assert!(e.contains("does not begin with a639ec97"), "{e}");
        // A name of the user's own is left to the loader.
        let own = d.path().join("mine.pth");
        std::fs::write(&own, b"abc").unwrap();
        check_name(&own, "densenet161").unwrap();
    }
}
