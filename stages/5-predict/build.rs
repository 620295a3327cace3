//! Bakes an rpath to libtorch (as stages/lib/model/build.rs does) so the binary
//! and tests find it without LD_LIBRARY_PATH, and records the project venv's
//! ONNX Runtime library, when present at build time, as the fallback after
//! ORT_DYLIB_PATH (RCIC_ORT_DEFAULT).

fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
    let venv_lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/lib");
    let found = std::fs::read_dir(&venv_lib).ok().and_then(|rd| {
        rd.filter_map(|e| e.ok()).find_map(|py| {
            let p = py
                .path()
                .join("site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1");
            p.exists().then(|| p.canonicalize().unwrap_or(p))
        })
    });
    if let Some(p) = found {
        println!("cargo:rustc-env=RCIC_ORT_DEFAULT={}", p.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
