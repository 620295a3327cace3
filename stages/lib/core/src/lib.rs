//! rcic-core: what every stage shares. The dataset index (Kaggle CSVs ->
//! typed tables, plate groups, layout aliases, folds), the content-addressed
//! artifact store, and the Arrow schemas of the artifacts.

pub mod alias;
pub mod argmax;
mod competition;
mod csvread;
pub mod data_layout;
pub mod ensemble_report;
pub mod error;
pub mod folds;
pub mod groupinfer;
pub mod groups;
pub mod hashing;
pub mod index;
pub mod keycache;
pub mod locate;
mod metadata;
pub mod metrics_table;
pub mod normalize;
pub mod pixelstats;
pub mod plate_table;
pub mod pyrandom;
pub mod schema;
pub mod sites_table;
pub mod splits;
pub mod stats_table;
pub mod store;
pub mod tensors;
pub mod truth;
pub mod tta;
pub mod wells;

pub use alias::{AliasConfig, LayoutAlias};
pub use argmax::argmax;
pub use data_layout::DataLayout;
pub use error::{CoreError, Result};
pub use folds::Folds;
pub use groups::PlateGroups;
pub use index::{
    DatasetIndex, Experiment, IndexOptions, LabelSource, Site, Split, WellRecord, WellType,
    CHANNELS, SITES,
};
pub use store::{dataset_key, Artifact, ArtifactWriter, StageSpec, Store, Verify};
pub use wells::Well;
