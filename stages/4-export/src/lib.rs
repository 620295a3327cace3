//! rcic-export: a checkpoint and its architecture description -> an ONNX
//! model (opset 17): inputs `image` [batch, 6, H, W] float32 and
//! `cell_type` [batch, cell types] float32, output `logits` [batch, classes]
//! float32; fp16 weights and compute with `--fp16`; the reference's TTA
//! inside the graph with `--tta N` (the index maps of `rcic_core::tta`).

pub mod error;
pub mod graph;

use std::collections::BTreeMap;
use std::path::Path;

use rcic_core::tta;
use rcic_model::checkpoint::{load_into, Strictness};
use rcic_model::{ModelConfig, Network, RawTensor};
use rcic_onnx::{DataType, GraphBuilder, Model};

pub use error::ExportError;

/// Bumped when the same inputs would give a different graph.
pub const EXPORT_VERSION: &str = "2";

#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    pub fp16: bool,
    /// TTA variants inside the graph (0: none).
    pub tta: usize,
    /// Crop fraction of the TTA variants.
    pub tta_size: f64,
    /// Fixed input side; None: dynamic height and width.
    pub image_size: Option<i64>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            fp16: false,
            tta: 0,
            tta_size: 1.0,
            image_size: None,
        }
    }
}

impl ExportOptions {
    /// Checks the options (before any work): the TTA count and crop
    /// fraction, and a fixed image size with TTA.
    pub fn check(&self) -> Result<(), ExportError> {
        tta::check_count(self.tta, true).map_err(|e| ExportError::Options(e.to_string()))?;
        if self.tta > 0 && self.image_size.is_none() {
            return Err(ExportError::Options(
                "--tta inside the graph needs --image-size (the crops are fixed index maps)".into(),
            ));
        }
        if !(self.tta_size > 0.0 && self.tta_size <= 1.0) {
            return Err(ExportError::Options(format!(
                "--tta-size {}: expected a crop fraction in (0, 1]",
                self.tta_size
            )));
        }
        if let Some(s) = self.image_size {
            if s < 32 {
                return Err(ExportError::Options(format!(
                    "--image-size {s}: expected at least 32 (the backbones downsample by 32)"
                )));
            }
        }
        Ok(())
    }
}

/// Checks the checkpoint's tensors against the architecture by building the
/// tch model and loading them strictly; returns the tensors as the model
/// holds them (float32), so the graph is written from verified data.
pub fn verified_tensors(
    config: &ModelConfig,
    tensors: &BTreeMap<String, RawTensor>,
    path: &Path,
) -> Result<BTreeMap<String, RawTensor>, ExportError> {
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let _net = Network::new(&vs, config)?;
    load_into(&vs, tensors, path, Strictness::Exact)?;
    Ok(tensors_of(&vs))
}

/// Every variable of a var store as bytes.
pub fn tensors_of(vs: &tch::nn::VarStore) -> BTreeMap<String, RawTensor> {
    vs.variables()
        .into_iter()
        .map(|(k, v)| (k, RawTensor::from_tch(&v)))
        .collect()
}

/// The ONNX model of `config` with `tensors` as weights.
pub fn build_onnx(
    config: &ModelConfig,
    tensors: &BTreeMap<String, RawTensor>,
    opts: &ExportOptions,
) -> Result<Model, ExportError> {
    opts.check()?;
    let mut b = GraphBuilder::new("rcic");
    let dim = |s: Option<i64>, name: &str| s.map_or_else(|| Err(name.to_string()), Ok);
    let image = b.input(
        "image",
        DataType::Float,
        vec![
            Err("batch".into()),
            Ok(rcic_model::config::IN_CHANNELS),
            dim(opts.image_size, "height"),
            dim(opts.image_size, "width"),
        ],
    );
    let cell = b.input(
        "cell_type",
        DataType::Float,
        vec![Err("batch".into()), Ok(config.cell_types)],
    );
    let (mut x, mut s) = (image.clone(), cell.clone());
    if opts.fp16 {
        x = b.cast(&x, DataType::Float16);
        s = b.cast(&s, DataType::Float16);
    }
    let variants = match opts.image_size {
        Some(size) if opts.tta > 0 => tta::variants(opts.tta, opts.tta_size, size, size),
        _ => Vec::new(),
    };
    if !variants.is_empty() {
        let mut xs = Vec::new();
        for v in &variants {
            let mut y = x.clone();
            if !v.cols_identity() {
                y = b.gather(&y, &v.cols, 3);
            }
            if !v.rows_identity() {
                y = b.gather(&y, &v.rows, 2);
            }
            if v.transpose {
                y = b.transpose(&y, &[0, 1, 3, 2]);
            }
            xs.push(y);
        }
        let refs: Vec<&str> = xs.iter().map(String::as_str).collect();
        x = b.concat(&refs, 0);
        let cells = vec![s.as_str(); variants.len()];
        s = b.concat(&cells, 0);
    }
    let mut logits = graph::NetWriter::new(&mut b, tensors, opts.fp16).network(config, &x, &s)?;
    if opts.fp16 {
        logits = b.cast(&logits, DataType::Float);
    }
    if !variants.is_empty() {
        let r = b.reshape(&logits, &[variants.len() as i64, -1, config.classes]);
        logits = b.reduce_mean(&r, &[0], false);
    }
    b.output(
        &logits,
        "logits",
        DataType::Float,
        vec![Err("batch".into()), Ok(config.classes)],
    );
    let mut model = Model::new(b.finish());
    model.metadata = metadata(config, opts);
    Ok(model)
}

/// The metadata_props every export carries (data-schemas/onnx.md).
pub fn metadata(config: &ModelConfig, opts: &ExportOptions) -> Vec<(String, String)> {
    vec![
        ("rcic.model".into(), config.to_json()),
        ("rcic.backbone".into(), config.backbone.clone()),
        ("rcic.classes".into(), config.classes.to_string()),
        ("rcic.cell_types".into(), config.cell_types.to_string()),
        (
            "rcic.image_size".into(),
            opts.image_size.map_or("dynamic".into(), |s| s.to_string()),
        ),
        ("rcic.tta".into(), opts.tta.to_string()),
        ("rcic.tta_size".into(), opts.tta_size.to_string()),
        (
            "rcic.precision".into(),
            if opts.fp16 { "fp16" } else { "fp32" }.into(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// data-schemas/onnx.md lists exactly the keys written (plus the
    /// checkpoint key and training options the binary adds).
    #[test]
    fn metadata_keys_match_the_schema_document() {
        let doc = std::fs::read_to_string(format!(
            "{}/../../data-schemas/onnx.md",
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map_or_else(
                    || std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
                        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
                        std::path::PathBuf::from
                    ),
                    std::path::PathBuf::from
                )
                .display()
        ))
        .unwrap();
        let block = doc
            .split("```metadata-props\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let documented: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
        let config = ModelConfig::from_backbone("densenet-tiny").unwrap();
        let mut written: Vec<String> = metadata(&config, &ExportOptions::default())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        written.push("rcic.checkpoint_key".into());
        written.push("rcic.train".into());
        assert_eq!(documented, written);
    }
}
