//! truth.json: what a generated dataset is made of (preset, seed,
//! difficulty, the plate groups, every experiment's plate -> group
//! assignment, the alias and the batch effects), so that tests and later
//! stages can check what they recover against what was put in.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::batch::ExperimentEffects;
use crate::error::{io, Result};
use crate::layout::ExperimentLayout;
use crate::preset::{Alias, Spec};

pub struct TruthInfo<'a> {
    pub spec: &'a Spec,
    pub seed: u64,
    pub difficulty: f32,
    pub image_size: u32,
    pub images: bool,
    pub groups: &'a [Vec<u32>],
    pub layouts: &'a [ExperimentLayout],
    pub alias: Option<&'a Alias>,
    pub effects: &'a [ExperimentEffects],
}

pub fn write_truth_json(path: &Path, t: &TruthInfo) -> Result<()> {
    let experiments: Vec<_> = t
        .layouts
        .iter()
        .zip(t.effects)
        .map(|(e, fx)| {
            let plates: BTreeMap<String, u8> = e
                .plate_groups
                .iter()
                .enumerate()
                .map(|(i, g)| ((i + 1).to_string(), *g))
                .collect();
            json!({
                "name": e.experiment.name,
                "split": e.experiment.split,
                "cell_type": e.cell_type,
                "rotation": e.rotation,
                "plate_groups": plates,
                "alias_of": e.alias_of,
                "batch_effects": fx,
            })
        })
        .collect();
    let doc = json!({
        "generator": concat!("rcic-synth ", env!("CARGO_PKG_VERSION")),
        "preset": t.spec.preset,
        "seed": t.seed,
        "difficulty": t.difficulty,
        "image_size": t.image_size,
        "images": t.images,
        "treatments": t.spec.treatments,
        "controls": t.spec.controls,
        "negative_control": t.spec.negative_control(),
        "groups": t.groups,
        "experiments": experiments,
        "aliases": t.alias.map(|a| vec![a.clone()]).unwrap_or_default(),
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON of plain values");
    text.push('\n');
    std::fs::write(path, text).map_err(io(path))
}
