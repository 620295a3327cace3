//! The architecture as data: one `ModelConfig` names the backbone and every
//! size of the neck and head. Both realisations read it: the tch module
//! (`net.rs`, training) and the ONNX graph (the export stage). It travels as
//! JSON in checkpoint metadata and ONNX metadata.

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// RxRx1's class count (1108 treatments + 31 controls).
pub const DEFAULT_CLASSES: i64 = 1139;
pub const DEFAULT_EMBEDDING: i64 = 1024;
pub const DEFAULT_CELL_TYPES: i64 = 4;
pub const DEFAULT_BN_MOMENTUM: f64 = 0.05;
/// Input channels of the first convolution (RxRx1's six stains).
pub const IN_CHANNELS: i64 = 6;

/// A DenseNet in torchvision's layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseNetConfig {
    pub growth_rate: i64,
    pub block_config: Vec<i64>,
    /// Output channels of the first convolution.
    pub num_init_features: i64,
    /// Bottleneck width multiplier (torchvision: 4).
    pub bn_size: i64,
}

impl DenseNetConfig {
    /// Channels after the last block (the pooled feature count).
    pub fn out_features(&self) -> i64 {
        let mut c = self.num_init_features;
        for (i, &n) in self.block_config.iter().enumerate() {
            c += n * self.growth_rate;
            if i + 1 < self.block_config.len() {
                c /= 2;
            }
        }
        c
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResBlock {
    Basic,
    Bottleneck,
}

/// A ResNet / ResNeXt in torchvision's layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResNetConfig {
    pub block: ResBlock,
    pub layers: [i64; 4],
    pub groups: i64,
    pub width_per_group: i64,
}

impl ResNetConfig {
    pub fn expansion(&self) -> i64 {
        match self.block {
            ResBlock::Basic => 1,
            ResBlock::Bottleneck => 4,
        }
    }

    pub fn out_features(&self) -> i64 {
        512 * self.expansion()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackboneKind {
    DenseNet(DenseNetConfig),
    ResNet(ResNetConfig),
}

/// The whole network (REFERENCE section 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The name it was made from (`densenet161`, `resnet50`, `densenet-tiny`, ...).
    pub backbone: String,
    pub arch: BackboneKind,
    pub classes: i64,
    pub embedding_size: i64,
    /// Hidden layer sizes of the head (empty: one Linear).
    pub head_hidden: Vec<i64>,
    pub concat_cell_type: bool,
    pub cell_types: i64,
    /// Batch-norm momentum, PyTorch convention (weight of the new batch).
    pub bn_momentum: f64,
}

/// Names `ModelConfig::from_backbone` knows (a `mem-` prefix is accepted
/// and means the same parameters).
pub const BACKBONES: &[&str] = &[
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "densenet-tiny",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnext50_32x4d",
];

/// `densenet-tiny`'s defaults: a 4-block DenseNet small enough for CPU tests.
pub const TINY_GROWTH_RATE: i64 = 8;
pub const TINY_BLOCK_CONFIG: [i64; 4] = [2, 2, 2, 2];
pub const TINY_INIT_FEATURES: i64 = 16;

impl ModelConfig {
    /// The reference's defaults around a named backbone.
    pub fn from_backbone(name: &str) -> Result<Self, ModelError> {
        let base = name.strip_prefix("mem-").unwrap_or(name);
        let dense = |g: i64, b: &[i64], i: i64| {
            BackboneKind::DenseNet(DenseNetConfig {
                growth_rate: g,
                block_config: b.to_vec(),
                num_init_features: i,
                bn_size: 4,
            })
        };
        let res = |block, layers, groups, width| {
            BackboneKind::ResNet(ResNetConfig {
                block,
                layers,
                groups,
                width_per_group: width,
            })
        };
        let arch = match base {
            "densenet121" => dense(32, &[6, 12, 24, 16], 64),
            "densenet161" => dense(48, &[6, 12, 36, 24], 96),
            "densenet169" => dense(32, &[6, 12, 32, 32], 64),
            "densenet201" => dense(32, &[6, 12, 48, 32], 64),
            "densenet-tiny" => dense(TINY_GROWTH_RATE, &TINY_BLOCK_CONFIG, TINY_INIT_FEATURES),
            "resnet18" => res(ResBlock::Basic, [2, 2, 2, 2], 1, 64),
            "resnet34" => res(ResBlock::Basic, [3, 4, 6, 3], 1, 64),
            "resnet50" => res(ResBlock::Bottleneck, [3, 4, 6, 3], 1, 64),
            "resnext50_32x4d" => res(ResBlock::Bottleneck, [3, 4, 6, 3], 32, 4),
            _ => {
                return Err(ModelError::UnknownBackbone {
                    name: name.into(),
                    known: BACKBONES.join(", "),
                })
            }
        };
        Ok(Self {
            backbone: name.into(),
            arch,
            classes: DEFAULT_CLASSES,
            embedding_size: DEFAULT_EMBEDDING,
            head_hidden: Vec::new(),
            concat_cell_type: true,
            cell_types: DEFAULT_CELL_TYPES,
            bn_momentum: DEFAULT_BN_MOMENTUM,
        })
    }

    /// Pooled backbone features (2208 for DenseNet-161).
    pub fn feature_count(&self) -> i64 {
        match &self.arch {
            BackboneKind::DenseNet(d) => d.out_features(),
            BackboneKind::ResNet(r) => r.out_features(),
        }
    }

    /// Inputs of the neck: features plus the one-hot cell type when concatenated.
    pub fn neck_inputs(&self) -> i64 {
        self.feature_count()
            + if self.concat_cell_type {
                self.cell_types
            } else {
                0
            }
    }

    /// Checks sizes are positive and the structure is buildable.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |what: &str| {
            Err(ModelError::Config(format!(
                "backbone {}: {what}",
                self.backbone
            )))
        };
        if self.classes < 1 || self.embedding_size < 1 || self.cell_types < 0 {
            return bad("classes and embedding size must be >= 1, cell types >= 0");
        }
        if self.head_hidden.iter().any(|&h| h < 1) {
            return bad("head hidden sizes must be >= 1");
        }
        if !(0.0..=1.0).contains(&self.bn_momentum) {
            return bad("batch-norm momentum must lie in [0, 1]");
        }
        match &self.arch {
            BackboneKind::DenseNet(d) if d.growth_rate < 1 || d.num_init_features < 1 || d.bn_size < 1 || d.block_config.is_empty() || d.block_config.iter().any(|&n| n < 1) => {
                bad("DenseNet growth rate, initial width, bottleneck size and every block's layer count must be >= 1")
            }
            BackboneKind::ResNet(r) if r.layers.iter().any(|&n| n < 1) || r.groups < 1 || r.width_per_group < 1 => {
                bad("ResNet layer counts, groups and width per group must be >= 1")
            }
            _ => Ok(()),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("config serialises")
    }

    pub fn from_json(s: &str) -> Result<Self, ModelError> {
        let c: Self = serde_json::from_str(s)
            .map_err(|e| ModelError::Config(format!("model configuration JSON: {e}")))?;
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_counts_match_torchvision() {
        let f = |n: &str| ModelConfig::from_backbone(n).unwrap().feature_count();
        assert_eq!(f("densenet121"), 1024);
        assert_eq!(f("densenet161"), 2208);
        assert_eq!(f("mem-densenet161"), 2208);
        assert_eq!(f("densenet169"), 1664);
        assert_eq!(f("densenet201"), 1920);
        assert_eq!(f("resnet18"), 512);
        assert_eq!(f("resnet50"), 2048);
        assert_eq!(f("resnext50_32x4d"), 2048);
        assert_eq!(
            ModelConfig::from_backbone("densenet161")
                .unwrap()
                .neck_inputs(),
            2212
        );
    }

    #[test]
    fn json_round_trip_and_unknown_names() {
        let c = ModelConfig::from_backbone("densenet-tiny").unwrap();
        assert_eq!(ModelConfig::from_json(&c.to_json()).unwrap(), c);
        let e = ModelConfig::from_backbone("vgg16").unwrap_err().to_string();
        assert!(e.contains("vgg16") && e.contains("densenet161"), "{e}");
    }
}
