//! Makes every binary and test of this crate find libtorch without
//! LD_LIBRARY_PATH (rcic-build's rpath), and re-exports libtorch's folder as
//! DEP_RCIC_LIBTORCH_LIB (`links = "rcic_libtorch"`) for the build scripts
//! of the crates that depend on this one.

fn main() {
    if let Some(lib) = rcic_build::libtorch_rpath() {
        println!("cargo:lib={lib}");
    }
}
