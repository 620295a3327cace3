//! What the build scripts of the tch- and ort-linked crates share, written
//! once: binaries find libtorch without LD_LIBRARY_PATH through an rpath to
//! the folder torch-sys linked against, and find ONNX Runtime through the
//! project venv's wheel, whose version is the one `requirements.txt` pins
//! (the only place it is written).

use std::path::{Path, PathBuf};

/// For the build script of a crate that depends on `rcic-model` (or on
/// torch-sys directly): bakes an rpath to libtorch's folder into the
/// crate's binaries and tests, and force-links libtorch_cuda when it exists
/// (the linker's --as-needed would otherwise drop it, and CUDA would stay
/// invisible). Returns the folder.
pub fn libtorch_rpath() -> Option<String> {
    println!("cargo:rerun-if-env-changed=DEP_RCIC_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let lib = std::env::var("DEP_RCIC_LIBTORCH_LIB")
        .or_else(|_| std::env::var("DEP_TCH_LIBTORCH_LIB"))
        .ok()?;
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
    Some(lib)
}

/// The repository root, from a crate's manifest folder (the first ancestor
/// holding `requirements.txt`).
pub fn repo_root(manifest_dir: &Path) -> Option<PathBuf> {
    manifest_dir
        .ancestors()
        .find(|a| a.join("requirements.txt").is_file())
        .map(Path::to_path_buf)
}

/// The onnxruntime version `requirements.txt` pins (`onnxruntime==X`).
pub fn ort_version(repo: &Path) -> Option<String> {
    let text = std::fs::read_to_string(repo.join("requirements.txt")).ok()?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("onnxruntime=="))
        .map(|v| v.trim().to_string())
}

/// The venv's `libonnxruntime.so.VERSION` (`.venv/lib/python3*/site-packages/
/// onnxruntime/capi/`), when installed.
pub fn venv_onnxruntime(repo: &Path) -> Option<PathBuf> {
    let version = ort_version(repo)?;
    std::fs::read_dir(repo.join(".venv/lib"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|py| {
            py.path()
                .join("site-packages/onnxruntime/capi")
                .join(format!("libonnxruntime.so.{version}"))
        })
        .find(|p| p.exists())
        .map(|p| p.canonicalize().unwrap_or(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_requirements() {
        let repo = repo_root(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let v = ort_version(&repo).unwrap();
        assert!(v.split('.').count() == 3, "{v}");
    }
}
