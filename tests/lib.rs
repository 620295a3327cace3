//! The end-to-end tests of rcic live in `tests/` beside this file: they run
//! the stage binaries and the Makefile on tiny synthetic data. Their helpers
//! are in the dev-only crate rcic-testkit (stages/lib/testkit).
