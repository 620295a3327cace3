//! Makes every binary and test of this crate find libtorch without
//! LD_LIBRARY_PATH: bakes an rpath to the libtorch folder torch-sys linked
//! against, and force-links libtorch_cuda when it exists (the linker's
//! --as-needed would otherwise drop it, and CUDA would stay invisible).
//! (Same as stages/lib/model/build.rs, for this crate's binary and tests.)

fn main() {
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
