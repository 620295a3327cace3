//! `--pretrained FILE`: torchvision's ImageNet state dict (the `.pth` file
//! torchvision downloads, zip or legacy format, or the same tensors as
//! safetensors) loaded into the backbone. torchvision's names are mapped
//! onto the reference's (`features.*` -> `model.features.*` for DenseNets,
//! with the old `norm.1` -> `norm1` spelling of early files; `bn1`/`layerN`
//! -> `model.features.1`/`model.features.{N+3}` for ResNets). The first
//! convolution (3 input channels there, 6 here) and the classifier are
//! skipped; `num_batches_tracked` may be absent (early files lack it); every
//! other backbone variable must be present with its shape, and every file
//! tensor must land somewhere, or the error lists each mismatch.

use std::collections::BTreeMap;
use std::path::Path;

use tch::nn::VarStore;

use crate::checkpoint::{mismatch, Checkpoint};
use crate::config::{BackboneKind, ModelConfig};
use crate::error::ModelError;
use crate::raw::RawTensor;

/// What was loaded.
#[derive(Debug, Clone)]
pub struct PretrainedReport {
    pub loaded: usize,
    /// File tensors deliberately not loaded (first conv, classifier).
    pub skipped: Vec<String>,
    /// Model variables left as initialised (the first conv; absent `num_batches_tracked`).
    pub kept: Vec<String>,
}

/// The first convolution's variable name (never loaded from ImageNet weights).
pub fn first_conv_name(config: &ModelConfig) -> &'static str {
    match config.arch {
        BackboneKind::DenseNet(_) => "model.features.conv0.weight",
        BackboneKind::ResNet(_) => "model.features.0.weight",
    }
}

/// Our name for a torchvision name; `None` for tensors that are skipped.
pub fn map_name(config: &ModelConfig, tv: &str) -> Option<String> {
    let name = tv.strip_prefix("module.").unwrap_or(tv);
    match config.arch {
        BackboneKind::DenseNet(_) => {
            if name.starts_with("classifier.") || name == "features.conv0.weight" {
                return None;
            }
            // Early torchvision files spell `denselayer1.norm.1.weight` for `norm1`.
            let fixed = [
                "norm.1.", "norm.2.", "conv.1.", "conv.2.", "relu.1.", "relu.2.",
            ]
            .iter()
            .fold(name.to_string(), |s, pat| {
                s.replace(
                    &format!(".{pat}"),
                    &format!(".{}{}.", &pat[..4], &pat[5..6]),
                )
            });
            Some(format!("model.{fixed}"))
        }
        BackboneKind::ResNet(_) => {
            if name.starts_with("fc.") || name == "conv1.weight" {
                return None;
            }
            if let Some(rest) = name.strip_prefix("bn1.") {
                return Some(format!("model.features.1.{rest}"));
            }
            for n in 1..=4 {
                if let Some(rest) = name.strip_prefix(&format!("layer{n}.")) {
                    return Some(format!("model.features.{}.{rest}", n + 3));
                }
            }
            Some(format!("model.unmapped.{name}"))
        }
    }
}

/// Loads ImageNet backbone weights from `path` into `vs` (built for `config`).
pub fn load_pretrained(
    vs: &VarStore,
    config: &ModelConfig,
    path: &Path,
) -> Result<PretrainedReport, ModelError> {
    let file = Checkpoint::read(path)?;
    load_pretrained_tensors(vs, config, &file.tensors, path)
}

pub fn load_pretrained_tensors(
    vs: &VarStore,
    config: &ModelConfig,
    tensors: &BTreeMap<String, RawTensor>,
    path: &Path,
) -> Result<PretrainedReport, ModelError> {
    let vars = vs.variables();
    let first = first_conv_name(config);
    let mut mapped: BTreeMap<String, &RawTensor> = BTreeMap::new();
    let mut skipped = Vec::new();
    let (mut missing, mut shape, mut unexpected) = (Vec::new(), Vec::new(), Vec::new());
    for (tv, t) in tensors {
        match map_name(config, tv) {
            None => skipped.push(tv.clone()),
            Some(ours) => match vars.get(&ours) {
                None => unexpected.push(format!(
                    "{tv}: no backbone variable of {} takes it",
                    config.backbone
                )),
                Some(v) if v.size() != t.shape => shape.push(format!(
                    "{tv} -> {ours}: file has shape {:?}, model expects {:?}",
                    t.shape,
                    v.size()
                )),
                Some(_) => {
                    mapped.insert(ours, t);
                }
            },
        }
    }
    let mut kept = vec![first.to_string()];
    let mut names: Vec<&String> = vars
        .keys()
        .filter(|k| k.starts_with("model.features.") && k.as_str() != first)
        .collect();
    names.sort();
    for name in names {
        if mapped.contains_key(name) {
            continue;
        }
        if name.ends_with(".num_batches_tracked") {
            kept.push(name.clone());
        } else if !shape.iter().any(|p| p.contains(&format!("-> {name}:"))) {
            missing.push(format!(
                "{name}: no tensor in the file (model expects {:?})",
                vars[name].size()
            ));
        }
    }
    if !(missing.is_empty() && shape.is_empty() && unexpected.is_empty()) {
        return Err(mismatch(path, shape, missing, unexpected));
    }
    tch::no_grad(|| {
        for (name, t) in &mapped {
            let mut v = vars[name].shallow_clone();
            v.copy_(&t.to_tch().to_kind(v.kind()).to_device(v.device()));
        }
    });
    Ok(PretrainedReport {
        loaded: mapped.len(),
        skipped,
        kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_torchvision_names() {
        let d = ModelConfig::from_backbone("densenet161").unwrap();
        assert_eq!(
            map_name(&d, "features.denseblock1.denselayer1.norm.1.weight").unwrap(),
            "model.features.denseblock1.denselayer1.norm1.weight"
        );
        assert_eq!(
            map_name(&d, "features.denseblock1.denselayer2.conv2.weight").unwrap(),
            "model.features.denseblock1.denselayer2.conv2.weight"
        );
        assert_eq!(
            map_name(&d, "features.norm5.running_var").unwrap(),
            "model.features.norm5.running_var"
        );
        assert_eq!(map_name(&d, "classifier.weight"), None);
        assert_eq!(map_name(&d, "features.conv0.weight"), None);
        let r = ModelConfig::from_backbone("resnet50").unwrap();
        assert_eq!(
            map_name(&r, "layer3.2.bn1.weight").unwrap(),
            "model.features.6.2.bn1.weight"
        );
        assert_eq!(
            map_name(&r, "bn1.running_mean").unwrap(),
            "model.features.1.running_mean"
        );
        assert_eq!(map_name(&r, "fc.bias"), None);
    }
}
