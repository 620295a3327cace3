//! Architecture options given on a command line (`--backbone`, `--classes`,
//! ...), applied over a base configuration (a checkpoint's, or the named
//! backbone's defaults): flags override, absent flags keep the base.

use crate::config::{BackboneKind, ModelConfig};
use crate::error::ModelError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigOverrides {
    pub backbone: Option<String>,
    pub classes: Option<i64>,
    pub embedding_size: Option<i64>,
    pub head_hidden: Option<Vec<i64>>,
    pub concat_cell_type: Option<bool>,
    pub cell_types: Option<i64>,
    pub bn_momentum: Option<f64>,
    /// DenseNet growth rate (any DenseNet; meant for `densenet-tiny`).
    pub growth_rate: Option<i64>,
    pub block_config: Option<Vec<i64>>,
    pub init_features: Option<i64>,
}

impl ConfigOverrides {
    /// `base` (e.g. from a checkpoint) with the given flags applied; without
    /// a base, `--backbone` is required.
    pub fn apply(&self, base: Option<&ModelConfig>) -> Result<ModelConfig, ModelError> {
        let mut c = match (base, &self.backbone) {
            (Some(b), None) => b.clone(),
            (Some(b), Some(name)) if *name == b.backbone => b.clone(),
            (Some(b), Some(name)) => {
                let fresh = ModelConfig::from_backbone(name)?;
                ModelConfig { backbone: fresh.backbone, arch: fresh.arch, ..b.clone() }
            }
            (None, Some(name)) => ModelConfig::from_backbone(name)?,
            (None, None) => {
                return Err(ModelError::Config("no architecture: the checkpoint has no rcic.model metadata, so --backbone is required".into()))
            }
        };
        if let Some(v) = self.classes {
            c.classes = v;
        }
        if let Some(v) = self.embedding_size {
            c.embedding_size = v;
        }
        if let Some(v) = &self.head_hidden {
            c.head_hidden = v.clone();
        }
        if let Some(v) = self.concat_cell_type {
            c.concat_cell_type = v;
        }
        if let Some(v) = self.cell_types {
            c.cell_types = v;
        }
        if let Some(v) = self.bn_momentum {
            c.bn_momentum = v;
        }
        if self.growth_rate.is_some() || self.block_config.is_some() || self.init_features.is_some()
        {
            let BackboneKind::DenseNet(d) = &mut c.arch else {
                return Err(ModelError::Config(format!(
                    "--growth-rate/--block-config/--init-features apply to DenseNets, not {}",
                    c.backbone
                )));
            };
            if let Some(v) = self.growth_rate {
                d.growth_rate = v;
            }
            if let Some(v) = &self.block_config {
                d.block_config = v.clone();
            }
            if let Some(v) = self.init_features {
                d.num_init_features = v;
            }
        }
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_base() {
        let base = ModelConfig::from_backbone("densenet-tiny").unwrap();
        let c = ConfigOverrides {
            classes: Some(10),
            growth_rate: Some(4),
            ..Default::default()
        }
        .apply(Some(&base))
        .unwrap();
        assert_eq!(c.classes, 10);
        assert!(matches!(&c.arch, BackboneKind::DenseNet(d) if d.growth_rate == 4));
        assert!(ConfigOverrides::default()
            .apply(None)
            .unwrap_err()
            .to_string()
            .contains("--backbone"));
        let e = ConfigOverrides {
            backbone: Some("resnet18".into()),
            growth_rate: Some(4),
            ..Default::default()
        }
        .apply(None)
        .unwrap_err();
        assert!(e.to_string().contains("DenseNets"), "{e}");
    }
}
