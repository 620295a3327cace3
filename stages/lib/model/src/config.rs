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

/// The whole network (docs/method.md section 4).
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

    /// The fields in which `self` (e.g. a checkpoint's architecture) and
    /// `other` (e.g. the requested one) differ, with both values; empty when
    /// they are equal.
    pub fn differences(&self, other: &Self) -> Vec<ConfigDifference> {
        let mut d = Vec::new();
        let mut cmp = |field: &'static str, a: String, b: String| {
            if a != b {
                d.push(ConfigDifference {
                    field,
                    left: a,
                    right: b,
                });
            }
        };
        cmp("backbone", self.backbone.clone(), other.backbone.clone());
        match (&self.arch, &other.arch) {
            (BackboneKind::DenseNet(a), BackboneKind::DenseNet(b)) => {
                cmp(
                    "growth rate",
                    a.growth_rate.to_string(),
                    b.growth_rate.to_string(),
                );
                cmp("block config", list(&a.block_config), list(&b.block_config));
                cmp(
                    "initial features",
                    a.num_init_features.to_string(),
                    b.num_init_features.to_string(),
                );
                cmp(
                    "bottleneck size",
                    a.bn_size.to_string(),
                    b.bn_size.to_string(),
                );
            }
            (BackboneKind::ResNet(a), BackboneKind::ResNet(b)) => {
                cmp("block", format!("{:?}", a.block), format!("{:?}", b.block));
                cmp("layers", list(&a.layers), list(&b.layers));
                cmp("groups", a.groups.to_string(), b.groups.to_string());
                cmp(
                    "width per group",
                    a.width_per_group.to_string(),
                    b.width_per_group.to_string(),
                );
            }
            (a, b) => cmp("backbone family", family(a).into(), family(b).into()),
        }
        cmp(
            "classes",
            self.classes.to_string(),
            other.classes.to_string(),
        );
        cmp(
            "embedding size",
            self.embedding_size.to_string(),
            other.embedding_size.to_string(),
        );
        cmp(
            "head hidden sizes",
            list(&self.head_hidden),
            list(&other.head_hidden),
        );
        cmp(
            "concat cell type",
            self.concat_cell_type.to_string(),
            other.concat_cell_type.to_string(),
        );
        cmp(
            "cell types",
            self.cell_types.to_string(),
            other.cell_types.to_string(),
        );
        cmp(
            "batch-norm momentum",
            self.bn_momentum.to_string(),
            other.bn_momentum.to_string(),
        );
        d
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

/// One field in which two architectures differ ([`ModelConfig::differences`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDifference {
    /// The field, in words (`embedding size`, `block config`, ...).
    pub field: &'static str,
    /// Its value in the first configuration.
    pub left: String,
    /// Its value in the second.
    pub right: String,
}

/// A comma list as the command line writes it (`none` when empty).
fn list(v: &[i64]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn family(a: &BackboneKind) -> &'static str {
    match a {
        BackboneKind::DenseNet(_) => "DenseNet",
        BackboneKind::ResNet(_) => "ResNet",
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

    #[test]
    fn differences_name_each_field_with_both_values() {
        let a = ModelConfig::from_backbone("densenet-tiny").unwrap();
        assert!(a.differences(&a).is_empty());
        let mut b = a.clone();
        b.embedding_size = 64;
        if let BackboneKind::DenseNet(d) = &mut b.arch {
            d.growth_rate = 12;
        }
        b.head_hidden = vec![16, 8];
        let d = a.differences(&b);
        let show: Vec<String> = d
            .iter()
            .map(|x| format!("{} {} / {}", x.field, x.left, x.right))
            .collect();
        assert_eq!(
            show,
            [
                "growth rate 8 / 12",
                "embedding size 1024 / 64",
                "head hidden sizes none / 16,8"
            ]
        );
        let r = ModelConfig::from_backbone("resnet18").unwrap();
        let fields: Vec<&str> = a.differences(&r).iter().map(|x| x.field).collect();
        assert_eq!(fields, ["backbone", "backbone family"]);
    }
}
