//! Makes the binary and tests find libtorch without LD_LIBRARY_PATH: the
//! rpath of rcic-build, to the folder rcic-model re-exports.

fn main() {
    rcic_build::libtorch_rpath();
}
