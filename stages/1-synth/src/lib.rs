//! rcic-synth: synthetic RxRx1-like Cell Painting datasets in the exact
//! Kaggle layout, with known truth, for testing and benchmarking the rcic
//! pipeline without the real 46 GB dataset.
//!
//! The pieces, one concept per module: `preset` (which experiments and
//! classes), `wells`, `seeds` (one random stream per decision), `layout`
//! (plate groups, rotations, alias), `phenotype` (morphology parameters and
//! class effects), `batch` (experiment/plate/site effects), `texture`,
//! `render` (cells into signal planes), `acquire` (signal into 8-bit
//! images), `pixelstats`, `csvout` (the competition's CSVs), `metadata`
//! (the public release's table), `folder` (which of the two layouts),
//! `truth`, `output` (atomic folders, on
//! rcic-cli's publish), `generate` (the whole run) and `proxy` (a difficulty
//! measure).

pub mod acquire;
pub mod batch;
pub mod csvout;
pub mod error;
pub mod folder;
pub mod generate;
pub mod layout;
pub mod metadata;
pub mod output;
pub mod phenotype;
pub mod pixelstats;
pub mod preset;
pub mod proxy;
pub mod render;
pub mod seeds;
pub mod texture;
pub mod truth;
pub mod wells;

pub use error::{Result, SynthError};
pub use folder::FolderLayout;
pub use generate::{generate, Options, Summary};
pub use preset::{Preset, Spec, Split};
