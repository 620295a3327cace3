//! Re-exports the hand-made datasets of rcic-testkit for these tests.

#![allow(unused_imports)]

pub use rcic_testkit::csv_sets::*;
