//! Makes the binary and tests find libtorch without LD_LIBRARY_PATH: bakes
//! in an rpath to the folder rcic-model's build script re-exports
//! (DEP_RCIC_LIBTORCH_LIB, from its `links = "rcic_libtorch"`).

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_RCIC_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_RCIC_LIBTORCH_LIB")
        .or_else(|_| std::env::var("DEP_RCIC_LIBTORCH_LIBTORCH_LIB"))
    {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
