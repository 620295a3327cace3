//! Re-exports the library's hand-made datasets for these tests.

#![allow(unused_imports)]

pub use rcic_core::fixtures::*;
