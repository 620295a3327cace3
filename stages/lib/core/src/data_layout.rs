//! The two layouts an RxRx1 dataset folder comes in, told apart by what the
//! folder holds: the Kaggle competition's (train.csv, test.csv, the two
//! controls CSVs, `{train,test}/EXP/PlateP/...png`) and the public release's
//! (one metadata.csv, `images/EXP/PlateP/...png`). Everything that depends
//! on the layout (which table files there are, where a site's images lie)
//! is answered here, so the rest of the index and every stage see one
//! dataset whatever its layout.

use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};
use crate::index::Split;

/// The public release's one table.
pub const METADATA_CSV: &str = "metadata.csv";
/// The public release's image folder.
pub const IMAGES_DIR: &str = "images";
/// The competition's four tables, in reading order.
pub const COMPETITION_CSVS: [&str; 4] = [
    "train.csv",
    "test.csv",
    "train_controls.csv",
    "test_controls.csv",
];
/// The optional per-image statistics the competition shipped.
pub const PIXEL_STATS_CSV: &str = "pixel_stats.csv";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataLayout {
    /// The Kaggle competition's files (train.csv, test.csv, controls,
    /// `{train,test}/`).
    Competition,
    /// The public RxRx1 release (metadata.csv, `images/`).
    Public,
}

impl DataLayout {
    /// The layout of the dataset folder `root`: public when it holds
    /// metadata.csv and no train.csv, the competition's otherwise (whose
    /// missing files are then reported by name); both is an error.
    pub fn detect(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(CoreError::MissingFile {
                path: root.to_path_buf(),
                expected: "a dataset folder: the Kaggle competition layout (train.csv, test.csv, train_controls.csv, test_controls.csv, train/, test/) or the public RxRx1 release (metadata.csv, images/)".into(),
            });
        }
        let metadata = root.join(METADATA_CSV).is_file();
        let train = root.join(COMPETITION_CSVS[0]).is_file();
        match (metadata, train) {
            (true, true) => Err(CoreError::MixedLayouts {
                root: root.to_path_buf(),
            }),
            (true, false) => Ok(Self::Public),
            (false, _) => Ok(Self::Competition),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Competition => "competition",
            Self::Public => "public",
        }
    }

    /// The table files of this layout under `root` (those the dataset is
    /// read from; pixel_stats.csv not included).
    pub fn table_files(self, root: &Path) -> Vec<PathBuf> {
        match self {
            Self::Competition => COMPETITION_CSVS.iter().map(|n| root.join(n)).collect(),
            Self::Public => vec![root.join(METADATA_CSV)],
        }
    }

    /// The folders under `root` that hold the images.
    pub fn image_dirs(self, root: &Path) -> Vec<PathBuf> {
        match self {
            Self::Competition => vec![root.join("train"), root.join("test")],
            Self::Public => vec![root.join(IMAGES_DIR)],
        }
    }

    /// The folder of one plate's images.
    pub fn plate_dir(self, root: &Path, split: Split, experiment: &str, plate: u8) -> PathBuf {
        let top = match self {
            Self::Competition => split.as_str(),
            Self::Public => IMAGES_DIR,
        };
        root.join(top)
            .join(experiment)
            .join(format!("Plate{plate}"))
    }
}

/// The image file name of one site's channel (1-based), the same in both
/// layouts: `WELL_sS_wC.png`.
pub fn image_name(well: &str, site: u8, channel: usize) -> String {
    format!("{well}_s{site}_w{channel}.png")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_from_the_files_present() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            DataLayout::detect(d.path()).unwrap(),
            DataLayout::Competition
        );
        std::fs::write(d.path().join(METADATA_CSV), "").unwrap();
        assert_eq!(DataLayout::detect(d.path()).unwrap(), DataLayout::Public);
        std::fs::write(d.path().join("train.csv"), "").unwrap();
        let e = DataLayout::detect(d.path()).unwrap_err().to_string();
        assert!(e.contains("metadata.csv") && e.contains("train.csv"), "{e}");
        let e = DataLayout::detect(&d.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("metadata.csv") && e.contains("train.csv"), "{e}");
        let p = DataLayout::Public.plate_dir(Path::new("r"), Split::Test, "E-1", 2);
        assert_eq!(p, Path::new("r/images/E-1/Plate2"));
        let p = DataLayout::Competition.plate_dir(Path::new("r"), Split::Test, "E-1", 2);
        assert_eq!(p, Path::new("r/test/E-1/Plate2"));
    }
}
