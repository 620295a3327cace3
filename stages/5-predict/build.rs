//! Makes the binary and tests find libtorch without LD_LIBRARY_PATH (the
//! rpath of rcic-build, to the folder rcic-model re-exports), and records
//! the project venv's ONNX Runtime library, when present at build time, as
//! the fallback after ORT_DYLIB_PATH (RCIC_ORT_DEFAULT).

fn main() {
    rcic_build::libtorch_rpath();
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(p) = rcic_build::repo_root(&manifest).and_then(|r| rcic_build::venv_onnxruntime(&r))
    {
        println!("cargo:rustc-env=RCIC_ORT_DEFAULT={}", p.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
