//! Which RxRx1 folder layout the dataset is written in: the Kaggle
//! competition's (train.csv, test.csv, the controls CSVs, pixel_stats.csv,
//! `{train,test}/EXP/PlateP/`) or the public release's (metadata.csv, one
//! row per site with the test labels, `images/EXP/PlateP/`). The images
//! are the same bytes in both; only their folder and the tables differ.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::preset::Split;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FolderLayout {
    /// The Kaggle competition's files (what the competition shipped).
    #[default]
    Competition,
    /// The public RxRx1 release (what rxrx.ai distributes today).
    Public,
}

impl FolderLayout {
    /// The folder of one plate's images under the dataset root.
    pub fn plate_dir(self, root: &Path, split: Split, experiment: &str, plate: u8) -> PathBuf {
        let top = match self {
            Self::Competition => split.dir(),
            Self::Public => "images",
        };
        root.join(top)
            .join(experiment)
            .join(format!("Plate{plate}"))
    }
}

impl std::fmt::Display for FolderLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Competition => "competition",
            Self::Public => "public",
        })
    }
}
