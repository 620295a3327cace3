//! Checkpoints: safetensors files whose tensor names are the reference's
//! state-dict names and whose metadata holds the architecture
//! (`rcic.model`, the `ModelConfig` as JSON) next to whatever the writer
//! adds (training options, epoch, accuracy). Loading is strict: every
//! variable of the model must be present with its shape, and nothing else
//! may be in the file; a mismatch lists every offending name.

use std::collections::BTreeMap;
use std::path::Path;

use tch::nn::VarStore;

use crate::config::ModelConfig;
use crate::error::ModelError;
use crate::raw::RawTensor;
use crate::safetensors::{self, TensorFile};

/// Metadata key of the architecture JSON.
pub const CONFIG_KEY: &str = "rcic.model";
/// Metadata key of the format marker.
pub const FORMAT_KEY: &str = "format";

/// A checkpoint read from disk.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The architecture, when the file says (our checkpoints do; a converted
    /// PyTorch state dict does not).
    pub config: Option<ModelConfig>,
    pub metadata: BTreeMap<String, String>,
    pub tensors: BTreeMap<String, RawTensor>,
}

impl Checkpoint {
    /// Reads a safetensors checkpoint, or a PyTorch `.pth` state dict (no
    /// metadata then). The format is told by the content, not the name.
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
        if bytes.starts_with(b"PK\x03\x04") || bytes.first() == Some(&0x80) {
            let tensors = crate::pth::parse(&bytes).map_err(|m| {
                ModelError::format(path, format!("not a readable PyTorch state dict: {m}"))
            })?;
            return Ok(Self {
                config: None,
                metadata: BTreeMap::new(),
                tensors,
            });
        }
        if !safetensors::sniff(&bytes) && bytes.len() >= 8 {
            return Err(ModelError::format(
                path,
                "neither a safetensors file nor a PyTorch .pth state dict",
            ));
        }
        let TensorFile { tensors, metadata } = safetensors::parse(path, &bytes)?;
        let config = match metadata.get(CONFIG_KEY) {
            Some(j) => Some(
                ModelConfig::from_json(j)
                    .map_err(|e| ModelError::format(path, format!("metadata {CONFIG_KEY}: {e}")))?,
            ),
            None => None,
        };
        Ok(Self {
            config,
            metadata,
            tensors,
        })
    }
}

/// Writes every variable of `vs` with the architecture and `extra`
/// metadata (atomically: see [`to_bytes`] for publishing by other means).
pub fn save(
    path: &Path,
    vs: &VarStore,
    config: &ModelConfig,
    extra: &BTreeMap<String, String>,
) -> Result<(), ModelError> {
    Ok(rcic_cli::publish::write_atomic(
        path,
        &to_bytes(vs, config, extra),
    )?)
}

/// The checkpoint file's bytes: every variable of `vs`, the architecture
/// and `extra` metadata.
pub fn to_bytes(vs: &VarStore, config: &ModelConfig, extra: &BTreeMap<String, String>) -> Vec<u8> {
    let tensors: BTreeMap<String, RawTensor> = vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, RawTensor::from_tch(&v)))
        .collect();
    let mut meta = extra.clone();
    meta.insert(FORMAT_KEY.into(), "pt".into());
    meta.insert(CONFIG_KEY.into(), config.to_json());
    safetensors::to_bytes(&tensors, &meta)
}

/// How [`load_into`] treats names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Every model variable and nothing else.
    Exact,
    /// Every model variable; extra tensors in the file are ignored.
    IgnoreExtra,
}

/// Copies `tensors` into the variables of `vs` (converted to each variable's
/// kind); fails listing every missing, unexpected or wrongly shaped name.
pub fn load_into(
    vs: &VarStore,
    tensors: &BTreeMap<String, RawTensor>,
    path: &Path,
    strict: Strictness,
) -> Result<(), ModelError> {
    let vars = vs.variables();
    let (mut missing, mut shape) = (Vec::new(), Vec::new());
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in &names {
        let v = &vars[*name];
        match tensors.get(*name) {
            None => missing.push(format!("{name}: missing (model expects {:?})", v.size())),
            Some(t) if t.shape != v.size() => shape.push(format!(
                "{name}: file has shape {:?}, model expects {:?}",
                t.shape,
                v.size()
            )),
            Some(_) => {}
        }
    }
    let unexpected: Vec<String> = match strict {
        Strictness::Exact => tensors
            .keys()
            .filter(|k| !vars.contains_key(*k))
            .map(|k| format!("{k}: not a variable of this model"))
            .collect(),
        Strictness::IgnoreExtra => Vec::new(),
    };
    if !(missing.is_empty() && shape.is_empty() && unexpected.is_empty()) {
        return Err(mismatch(path, shape, missing, unexpected));
    }
    tch::no_grad(|| {
        for name in names {
            let mut v = vars[name].shallow_clone();
            let src = tensors[name]
                .to_tch()
                .to_kind(v.kind())
                .to_device(v.device());
            v.copy_(&src);
        }
    });
    Ok(())
}

/// A mismatch error: counts, then up to 12 examples of each kind.
pub(crate) fn mismatch(
    path: &Path,
    shape: Vec<String>,
    missing: Vec<String>,
    unexpected: Vec<String>,
) -> ModelError {
    const SHOW: usize = 12;
    let mut lines = Vec::new();
    for group in [&shape, &missing, &unexpected] {
        lines.extend(group.iter().take(SHOW).cloned());
        if group.len() > SHOW {
            lines.push(format!("... and {} more of this kind", group.len() - SHOW));
        }
    }
    ModelError::Mismatch {
        path: path.to_path_buf(),
        summary: format!(
            "{} with another shape, {} missing, {} unexpected; is it another backbone or --classes?",
            shape.len(),
            missing.len(),
            unexpected.len()
        ),
        details: lines.join("\n  "),
    }
}
