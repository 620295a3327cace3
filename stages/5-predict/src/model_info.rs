//! What the model file says about itself: the export's metadata_props
//! (data-schemas/onnx.md) — TTA inside the graph, precision, classes — and
//! the training options it carries (`rcic.train`: fold, split seed,
//! normalisation), which predict uses unless flags override them.

use std::collections::BTreeMap;

/// The training-side options a model may carry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainedWith {
    pub cv_number: Option<i32>,
    pub data_split_seed: Option<u64>,
    pub data_normalization: Option<String>,
}

impl TrainedWith {
    /// From the `rcic.train` JSON (checkpoint metadata, copied into the ONNX model by export).
    pub fn from_json(s: Option<&str>) -> Self {
        let Some(v) = s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()) else {
            return Self::default();
        };
        Self {
            cv_number: v
                .get("cv_number")
                .and_then(|x| x.as_i64())
                .map(|x| x as i32),
            data_split_seed: v.get("data_split_seed").and_then(|x| x.as_u64()),
            data_normalization: v
                .get("data_normalization")
                .and_then(|x| x.as_str())
                .map(str::to_string),
        }
    }
}

/// The metadata of an ONNX model, by key.
#[derive(Debug, Clone, Default)]
pub struct ModelMeta {
    pub props: BTreeMap<String, String>,
}

impl ModelMeta {
    /// TTA variants inside the graph (0 when none or unknown).
    pub fn tta_inside(&self) -> usize {
        self.props
            .get("rcic.tta")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    pub fn tta_size_inside(&self) -> f64 {
        self.props
            .get("rcic.tta_size")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0)
    }

    pub fn fp16(&self) -> bool {
        self.props
            .get("rcic.precision")
            .is_some_and(|p| p == "fp16")
    }

    pub fn trained_with(&self) -> TrainedWith {
        TrainedWith::from_json(self.props.get("rcic.train").map(String::as_str))
    }
}
