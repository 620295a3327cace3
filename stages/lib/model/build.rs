//! Makes every binary and test of this crate find libtorch without
//! LD_LIBRARY_PATH: bakes an rpath to the libtorch folder torch-sys linked
//! against, and force-links libtorch_cuda when it exists (the linker's
//! --as-needed would otherwise drop it, and CUDA would stay invisible).
//! Re-exports the folder as DEP_RCIC_LIBTORCH_LIB for downstream binary crates
//! (they must list rcic-model as a dependency to receive it).

fn main() {
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    // Dependents read these as DEP_RCIC_LIBTORCH_LIB (and, for older readers,
    // DEP_RCIC_LIBTORCH_LIBTORCH_LIB).
    println!("cargo:lib={lib}");
    println!("cargo:libtorch_lib={lib}");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
