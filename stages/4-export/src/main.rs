//! `rcic-export`: checkpoint -> ONNX. The architecture comes from the
//! checkpoint's metadata (our checkpoints carry it) and from flags
//! otherwise; flags override. With `--store` the model is a content-addressed
//! artifact (`STORE/export/<key>/model.onnx`) reused when it already exists.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;
use rcic_cli::log::Log;
use rcic_cli::output::{check_output, Input, Output};
use rcic_cli::publish::write_atomic;
use rcic_core::{StageSpec, Store, Verify};
use rcic_export::{build_onnx, verified_tensors, ExportOptions, EXPORT_VERSION};
use rcic_model::{Checkpoint, ConfigOverrides};

#[derive(Parser, Debug)]
#[command(
    name = "rcic-export",
    version,
    about = "Writes an ONNX model (opset 17) from a checkpoint: inputs image [batch,6,H,W] and cell_type [batch,cell types], output logits [batch,classes]"
)]
struct Args {
    /// Checkpoint to export: our safetensors checkpoint, a PyTorch state dict
    /// in safetensors, or a `.pth` state dict (then --backbone is needed).
    #[arg(long)]
    load: PathBuf,
    /// Output ONNX file. Required unless --store is given (then it is a copy).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Artifact store: write STORE/export/<key>/model.onnx, reuse it if present.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Backbone (densenet121/161/169/201, densenet-tiny, resnet18/34/50,
    /// resnext50_32x4d; `mem-` prefix accepted). Default: the checkpoint's.
    #[arg(long)]
    backbone: Option<String>,
    /// Number of classes. Default: the checkpoint's, else 1139.
    #[arg(long)]
    classes: Option<i64>,
    /// Embedding size. Default: the checkpoint's, else 1024.
    #[arg(long)]
    embedding_size: Option<i64>,
    /// Head hidden sizes, comma-separated. Default: the checkpoint's, else none.
    #[arg(long, value_delimiter = ',')]
    head_hidden: Option<Vec<i64>>,
    /// Concatenate the one-hot cell type to the pooled features. Default: the checkpoint's, else true.
    #[arg(long)]
    concat_cell_type: Option<bool>,
    /// Width of the cell_type input. Default: the checkpoint's, else 4.
    #[arg(long)]
    cell_types: Option<i64>,
    /// DenseNet growth rate (for densenet-tiny). Default: the checkpoint's, else the backbone's (tiny: 8).
    #[arg(long)]
    growth_rate: Option<i64>,
    /// DenseNet layers per block, comma-separated. Default: the checkpoint's, else the backbone's (tiny: 2,2,2,2).
    #[arg(long, value_delimiter = ',')]
    block_config: Option<Vec<i64>>,
    /// DenseNet first-convolution width. Default: the checkpoint's, else the backbone's (tiny: 16).
    #[arg(long)]
    init_features: Option<i64>,
    /// Half-precision weights and compute (inputs and logits stay float32);
    /// `--fp16 false` (the default) exports float32.
    #[arg(long, default_value = "false", value_parser = rcic_cli::args::parse_bool, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    fp16: bool,
    /// Number of TTA variants inside the graph, 0 (none) or 1 to 64
    /// (docs/method.md section 8; 8 = the square's symmetries). Default: none (TTA
    /// is then the predict stage's job).
    #[arg(long, default_value_t = 0)]
    tta: usize,
    /// Crop fraction of the TTA variants.
    #[arg(long, default_value_t = 1.0)]
    tta_size: f64,
    /// Fixed input side S (images S x S). Default: dynamic height and width.
    /// Required with --tta.
    #[arg(long)]
    image_size: Option<i64>,
    #[command(flatten)]
    log: rcic_cli::args::LogArgs,
}

/// The checkpoint's key: its own content (blake3 of the file), never a
/// manifest found beside it, which may describe another file.
fn checkpoint_key(path: &Path) -> Result<String> {
    let (_, h) = rcic_core::store::hash_file(path)
        .with_context(|| format!("cannot hash {}", path.display()))?;
    Ok(h[..rcic_core::store::KEY_LEN].to_string())
}

fn main() {
    rcic_cli::report::main(run)
}

fn run() -> Result<()> {
    let a: Args = rcic_cli::config::parse("export");
    let log = Log::new(a.log.level());
    if a.output.is_none() && a.store.is_none() {
        bail!("give -o FILE, --store DIR, or both");
    }
    let opts = ExportOptions {
        fp16: a.fp16,
        tta: a.tta,
        tta_size: a.tta_size,
        image_size: a.image_size,
    };
    // Every flag checked before any work.
    opts.check()?;
    if let Some(o) = &a.output {
        let out = Output {
            create_folder: false,
            ..Output::new("-o", o)
        };
        check_output(&out, &[Input::File("--load", &a.load)])?;
    }
    let ckpt = Checkpoint::read(&a.load)
        .with_context(|| format!("reading checkpoint {}", a.load.display()))?;
    let overrides = ConfigOverrides {
        backbone: a.backbone.clone(),
        classes: a.classes,
        embedding_size: a.embedding_size,
        head_hidden: a.head_hidden.clone(),
        concat_cell_type: a.concat_cell_type,
        cell_types: a.cell_types,
        bn_momentum: None,
        growth_rate: a.growth_rate,
        block_config: a.block_config.clone(),
        init_features: a.init_features,
    };
    let config = overrides
        .apply(ckpt.config.as_ref())
        .with_context(|| format!("architecture of {}", a.load.display()))?;
    let key = checkpoint_key(&a.load)?;
    log.info(format!(
        "checkpoint {} (key {key}): {} tensors, backbone {}",
        a.load.display(),
        ckpt.tensors.len(),
        config.backbone
    ));

    let spec = StageSpec::new(
        "export",
        EXPORT_VERSION,
        serde_json::json!({
            "model": serde_json::from_str::<serde_json::Value>(&config.to_json())?,
            "fp16": opts.fp16, "tta": opts.tta, "tta_size": opts.tta_size, "image_size": opts.image_size,
        }),
    )
    .input("checkpoint", &key);
    let store = a
        .store
        .as_ref()
        .map(Store::open)
        .transpose()
        .context("opening the artifact store")?;
    if let Some(store) = &store {
        if let Some(art) = store.lookup(&spec, Verify::Full)? {
            log.info(format!("reusing {}", art.dir.display()));
            if let Some(o) = &a.output {
                let p = art.file("model.onnx");
                let bytes =
                    std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
                write_atomic(o, &bytes)?;
            }
            println!("{}", art.dir.display());
            return Ok(());
        }
    }

    let tensors = verified_tensors(&config, &ckpt.tensors, &a.load)
        .with_context(|| format!("checking {} against {}", a.load.display(), config.backbone))?;
    let mut model = build_onnx(&config, &tensors, &opts)?;
    model
        .metadata
        .push(("rcic.checkpoint_key".into(), key.clone()));
    // The training options (fold, split seed, normalisation) travel with the
    // model so that the predict stage needs no flags for them.
    if let Some(train) = ckpt.metadata.get("rcic.train") {
        model.metadata.push(("rcic.train".into(), train.clone()));
    }
    let bytes = model.to_bytes();
    log.info(format!(
        "graph: {} nodes, {} initializers, {:.1} MB",
        model.graph.nodes.len(),
        model.graph.initializers.len(),
        bytes.len() as f64 / 1e6
    ));

    if let Some(store) = &store {
        let w = store.begin(&spec)?;
        let p = w.dir().join("model.onnx");
        std::fs::write(&p, &bytes).with_context(|| format!("writing {}", p.display()))?;
        let art = w.commit()?;
        log.info(format!("published {}", art.dir.display()));
        println!("{}", art.dir.display());
    }
    if let Some(o) = &a.output {
        write_atomic(o, &bytes)?;
        log.info(format!("wrote {}", o.display()));
    }
    Ok(())
}
