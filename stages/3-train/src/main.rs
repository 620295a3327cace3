//! `rcic-train`: trains the network on a preprocess artifact with the
//! reference's options and defaults (`--save NAME`), or scores a loaded
//! checkpoint (`-m val`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rcic_cli::args::{parse_bool, AliasArg, DataArg, LogArgs, TensorsArgs, ThreadsArg};
use rcic_cli::log::Log;
use rcic_core::normalize::Normalization;
use rcic_core::splits::Splits;
use rcic_core::stats_table::StatsTable;
use rcic_core::tensors::SiteTensors;
use rcic_core::{AliasConfig, DatasetIndex, Folds, IndexOptions};
use rcic_model::{select_device, Checkpoint, ConfigOverrides, DeviceChoice, ModelConfig};
use rcic_train::augment::AugmentOptions;
use rcic_train::flags;
use rcic_train::schedule::LrSchedule;
use rcic_train::sizefunc::SizeFunc;
use rcic_train::trainer::{self, Data, TrainOptions};

fn parse_pair(s: &str) -> Result<(f64, f64), String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{s:?}: expected two numbers A,B"))?;
    match v.as_slice() {
        [a, b] if a.is_finite() && b.is_finite() && *a >= 0.0 && *b >= 0.0 => Ok((*a, *b)),
        _ => Err(format!(
            "{s:?}: expected two finite non-negative numbers A,B"
        )),
    }
}

fn parse_ints(s: &str) -> Result<Vec<i64>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<i64>()
                .map_err(|_| format!("{s:?}: expected comma-separated integers"))
        })
        .collect()
}

#[derive(Parser, Debug)]
#[command(
    name = "rcic-train",
    version,
    about = "Train the RxRx1 network (the reference method) on a preprocess artifact"
)]
struct Args {
    /// train: train and save checkpoints; val: score the --load checkpoint on the validation fold.
    #[arg(short = 'm', long, default_value = "train", value_parser = ["train", "val"])]
    mode: String,
    /// Checkpoint path of the best epoch; each epoch also writes NAME.<epoch> (+ .state), NAME.log and NAME.metrics.parquet.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Checkpoint to start from (weights; with --start-epoch > 0 also its .state: optimizer, pseudo-labels).
    #[arg(long)]
    load: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    start_epoch: u32,
    // --data: the Kaggle-layout root (its CSVs; its preprocess artifact is
    // looked up in --store).
    #[command(flatten)]
    data: DataArg,
    // --tensors / --store: the preprocess artifact to train on.
    #[command(flatten)]
    tensors: TensorsArgs,
    // --alias: layout aliases.
    #[command(flatten)]
    alias: AliasArg,
    // --threads: libtorch's and the data loader's (0: all cores).
    #[command(flatten)]
    threads: ThreadsArg,
    /// auto (CUDA when libtorch sees one), cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: String,
    #[arg(short = 'e', long, default_value_t = 90)]
    epochs: u32,
    #[arg(
        short = 'b',
        long = "batch_size",
        alias = "batch-size",
        default_value_t = 24
    )]
    batch_size: usize,
    /// Batches whose gradients are summed before one optimizer step.
    #[arg(long, default_value_t = 2)]
    gradient_accumulation: usize,
    /// SCHEDULE,v1,e1,v2,...,vn with SCHEDULE cosine or const.
    #[arg(short = 'l', long, default_value = "cosine,1.5e-4")]
    lr: String,
    /// L2 weight decay added to the gradient.
    #[arg(long, alias = "weight-decay", default_value_t = 1e-5)]
    wd: f64,
    #[arg(long = "label-smoothing", alias = "ls", default_value_t = 0.0)]
    label_smoothing: f64,
    /// Mixup's beta parameter (0: no mixup).
    #[arg(long, default_value_t = 0.0)]
    mixup: f64,
    /// CutMix's beta parameter (0: no CutMix).
    #[arg(long, default_value_t = 1.0)]
    cutmix: f64,
    /// Pixel-wise augmentation: std of the scale a ~ N(1, .) and of the bias b ~ N(0, .), per channel.
    #[arg(long, default_value = "0.1,0.1", value_parser = parse_pair)]
    pw_aug: (f64, f64),
    /// Zoom: crop side uniform in [scale*S, S], resized back (1: no zoom).
    #[arg(long, default_value_t = 0.5)]
    scale_aug: f64,
    /// sample, experiment, global or plate.
    #[arg(long, default_value = "sample")]
    data_normalization: String,
    /// Train on the control wells of every experiment (test ones too).
    #[arg(long, default_value = "true", value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    all_controls_train: bool,
    /// Validation fold 0..5, -1: none.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    cv_number: i32,
    #[arg(long, default_value_t = 0)]
    data_split_seed: u64,
    /// Global seed (random and logged when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Backbone [default: mem-densenet161, or the --load checkpoint's].
    #[arg(long)]
    backbone: Option<String>,
    /// Hidden layer sizes of the head, comma list [default: none, or the checkpoint's].
    #[arg(long)]
    head_hidden: Option<String>,
    /// Concatenate the one-hot cell type to the pooled features [default: true, or the checkpoint's].
    #[arg(long, value_parser = parse_bool)]
    concat_cell_type: Option<bool>,
    #[arg(long, default_value_t = 0.2)]
    metric_loss_coeff: f64,
    /// [default: 1024, or the checkpoint's]
    #[arg(long)]
    embedding_size: Option<i64>,
    /// Batch-norm momentum [default: 0.05, or the checkpoint's]
    #[arg(long)]
    bn_mom: Option<f64>,
    /// Classes the network predicts [default: 1139, or the checkpoint's]
    #[arg(long)]
    classes: Option<i64>,
    /// densenet-tiny's growth rate (default 8).
    #[arg(long)]
    growth_rate: Option<i64>,
    /// densenet-tiny's layers per block (default 2,2,2,2).
    #[arg(long)]
    block_config: Option<String>,
    /// densenet-tiny's initial width (default 16).
    #[arg(long)]
    init_features: Option<i64>,
    /// First epoch of pseudo-labelling (none: no pseudo-labelling).
    #[arg(long)]
    pl_epoch: Option<u32>,
    /// Fraction of validation+test wells pseudo-labelled by progress x in (0, 1].
    #[arg(long, default_value = "x")]
    pl_size_func: String,
    #[arg(long, default_value_t = 50)]
    disp_batches: usize,
    /// Mixed precision on CUDA (ignored with a warning on the CPU); `--fp16 false` trains in float32.
    #[arg(long, default_value = "true", value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    fp16: bool,
    /// Mixed precision in bfloat16 instead of float16 (no loss scaling; CUDA only, like --fp16).
    #[arg(long)]
    bf16: bool,
    /// ImageNet weights for the backbone: `imagenet` (torchvision's file for
    /// the backbone from the weights cache, placed there by `make weights`
    /// or rcic-weights; RCIC_WEIGHTS_DIR, else ~/.cache/rcic/weights, or
    /// torch.hub's cache), or a FILE (torchvision .pth or safetensors).
    #[arg(long, value_name = "imagenet|FILE")]
    pretrained: Option<PathBuf>,
    /// Continue the --save run from its last complete epoch (the newest
    /// NAME.<k> with its NAME.<k>.state), as --load NAME.<k> --start-epoch
    /// k+1 would; start from epoch 0 when there is none. The caller makes
    /// sure the folder holds a run of the same parameters (make does).
    #[arg(long, conflicts_with_all = ["load", "start_epoch"], requires = "save")]
    resume: bool,
    /// Epoch checkpoints kept on disk: `all` (the reference's), or the last N
    /// epochs' (with only the last epoch's .state, what resuming needs);
    /// the best NAME and --keep-epochs are kept either way.
    #[arg(long, default_value = "all", value_parser = rcic_train::retention::parse_keep, value_name = "N|all")]
    keep_checkpoints: rcic_train::retention::Keep,
    /// Epochs whose checkpoints are always kept (comma list; the reference
    /// predicts with NAME.129).
    #[arg(long, value_delimiter = ',')]
    keep_epochs: Vec<u32>,
    /// Plate groups of the unlabelled plates for pseudo-labelling: `auto`
    /// (the RxRx1 table of the reference when it fits the data's labelled
    /// plates, else inferred), `infer` (from the predictions, every round),
    /// or a table FILE (data-schemas/plate-groups.md) that must fit.
    #[arg(long, default_value = "auto", value_name = "auto|infer|FILE")]
    plate_groups: String,
    /// Measure the data path alone (one epoch of reading + augmentation, no model), print samples/s and exit.
    #[arg(long)]
    bench_data_path: bool,
    // -q/-v: how much of the log reaches stderr (NAME.log has it all).
    #[command(flatten)]
    log: LogArgs,
}

fn main() {
    rcic_cli::report::main(run);
}

/// The flags' values once parsed and checked.
struct Checked {
    lr: LrSchedule,
    size: SizeFunc,
    normalization: Normalization,
    head_hidden: Option<Vec<i64>>,
    block_config: Option<Vec<i64>>,
    device_choice: DeviceChoice,
    aliases: AliasConfig,
}

/// Every check that needs the flags alone, before anything is read or
/// written.
fn validate(a: &Args) -> Result<Checked> {
    let lr: LrSchedule = a.lr.parse()?;
    let size: SizeFunc = a.pl_size_func.parse()?;
    let normalization: Normalization = a.data_normalization.parse()?;
    let head_hidden = a
        .head_hidden
        .as_deref()
        .map(parse_ints)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--head-hidden {e}"))?;
    let block_config = a
        .block_config
        .as_deref()
        .map(parse_ints)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--block-config {e}"))?;
    let device_choice: DeviceChoice = a.device.parse()?;
    let aliases: AliasConfig = a
        .alias
        .alias
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--alias {e}"))?;
    if a.mode == "train" && a.save.is_none() && !a.bench_data_path {
        bail!("--save NAME is required to train (checkpoints go to NAME and NAME.<epoch>)");
    }
    if a.mode == "val" && a.save.is_some() {
        bail!("-m val scores a checkpoint and saves nothing: drop --save");
    }
    if a.mode == "val" && a.load.is_none() {
        bail!("-m val scores a checkpoint: give it with --load");
    }
    if a.batch_size == 0 || a.gradient_accumulation == 0 || a.epochs == 0 {
        bail!("-b/--batch_size, --gradient-accumulation and -e/--epochs must be at least 1");
    }
    flags::fraction("--label-smoothing", a.label_smoothing, false)?;
    flags::non_negative("--mixup", a.mixup)?;
    flags::non_negative("--cutmix", a.cutmix)?;
    flags::non_negative("--wd", a.wd)?;
    flags::fraction("--metric-loss-coeff", a.metric_loss_coeff, true)?;
    if !(a.scale_aug > 0.0 && a.scale_aug <= 1.0) {
        bail!("--scale-aug {}: expected a value in (0, 1]", a.scale_aug);
    }
    flags::classes(a.classes)?;
    if a.mode == "train" && !a.bench_data_path {
        flags::start_epoch(a.start_epoch, a.epochs, a.load.is_some())?;
    }
    if let Some(pl) = a.pl_epoch {
        if pl >= a.epochs {
            bail!(
                "--pl-epoch {pl}: expected an epoch below -e/--epochs ({})",
                a.epochs
            );
        }
        flags::pl_size_fractions(&size, pl, a.start_epoch, a.epochs)?;
    }
    if !(-1..=5).contains(&a.cv_number) {
        bail!(
            "--cv-number {}: expected -1 (no validation) or a fold 0..5",
            a.cv_number
        );
    }
    Ok(Checked {
        lr,
        size,
        normalization,
        head_hidden,
        block_config,
        device_choice,
        aliases,
    })
}

/// Sets the threads of libtorch and of the data loader (`--threads`, 0:
/// all cores) and returns their number.
fn set_threads(requested: usize) -> usize {
    let threads = if requested == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        requested
    };
    tch::set_num_threads(threads as i32);
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    threads
}

/// A seed for a run without `--seed`: from the clock.
fn clock_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (t % 1_000_000_000) as u64
}

/// The dataset index of `--data`, the site tensors and pixel statistics of
/// its preprocess artifact, and the artifact's folder.
fn read_data(a: &Args, aliases: AliasConfig, log: &Log) -> Result<(Data, PathBuf)> {
    let index = DatasetIndex::load(
        &a.data.data,
        &IndexOptions {
            aliases,
            classes: a.classes.map(|c| c as u32),
            ..Default::default()
        },
    )
    .with_context(|| format!("reading the dataset index of {}", a.data.data.display()))?;
    let dir = rcic_core::locate::find_tensors(
        a.tensors.tensors.as_deref(),
        &a.data.data,
        &a.tensors.store,
    )?;
    log.info(format!("Site tensors: {}", dir.display()));
    let tensors = SiteTensors::open(&dir)?;
    if tensors.len() != index.site_count() {
        bail!(
            "{}: {} sites, but the dataset index of {} has {}; expected the preprocess artifact of that data",
            dir.display(),
            tensors.len(),
            a.data.data.display(),
            index.site_count()
        );
    }
    let stats_path = dir.join("pixel_stats.parquet");
    let stats = if stats_path.is_file() {
        Some(StatsTable::read(&stats_path)?)
    } else {
        None
    };
    let data = Data {
        index,
        tensors,
        stats,
    };
    Ok((data, dir))
}

/// The architecture to train: the `--load` checkpoint's (when it records
/// one) with the flags over it, checked against the data's classes and
/// the images of the artifact `dir`.
/// `--resume`: sets --load and --start-epoch from the last complete epoch
/// of `--save`; Some(save) when every epoch is complete already.
fn resume_point(a: &mut Args) -> Result<Option<PathBuf>> {
    let save = a.save.clone().expect("--resume requires --save");
    let dir = save
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = save
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let last = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| {
            f.strip_prefix(&format!("{name}."))?
                .strip_suffix(".state")?
                .parse::<u32>()
                .ok()
        })
        .filter(|k| dir.join(format!("{name}.{k}")).is_file())
        .max();
    let Some(k) = last else {
        return Ok(None);
    };
    if k + 1 >= a.epochs && !save.is_file() {
        Log::new(a.log.level()).info(format!(
            "{}: every epoch is there but not the best checkpoint; training again from epoch 0",
            save.display()
        ));
        return Ok(None);
    }
    if k + 1 >= a.epochs {
        Log::new(a.log.level()).info(format!(
            "{}: all {} epochs are complete; nothing to resume",
            save.display(),
            a.epochs
        ));
        return Ok(Some(save));
    }
    Log::new(a.log.level()).info(format!(
        "{}: resuming after epoch {k} (--load {}.{k} --start-epoch {})",
        save.display(),
        save.display(),
        k + 1
    ));
    a.load = Some(dir.join(format!("{name}.{k}")));
    a.start_epoch = k + 1;
    Ok(None)
}

/// `--plate-groups`: the table of plate groups pseudo-labelling uses for
/// unlabelled plates, in the data's group numbering, or None to infer
/// them. A table is used only when it fits the labelled plates
/// (rcic_core::plate_table); a FILE that does not fit is an error.
fn plate_table(
    a: &Args,
    derived: &rcic_core::groups::PlateGroups,
    log: &Log,
) -> Result<Option<std::collections::BTreeMap<String, Vec<usize>>>> {
    use rcic_core::plate_table::PlateTable;
    let say = |m: String| {
        if a.pl_epoch.is_some() {
            log.info(format!("Plate groups of unlabelled plates: {m}"));
        }
    };
    match a.plate_groups.as_str() {
        "infer" => {
            say("inferred from the predictions (--plate-groups infer)".into());
            Ok(None)
        }
        "auto" => {
            match PlateTable::rxrx1().fit(derived) {
                Ok(t) => {
                    say(format!(
                        "from the RxRx1 table (it fits the {} labelled experiments)",
                        derived.assignment.len()
                    ));
                    Ok(Some(t))
                }
                Err(why) => {
                    say(format!("inferred from the predictions (the RxRx1 table does not fit this data: {why})"));
                    Ok(None)
                }
            }
        }
        file => {
            let t = PlateTable::read(Path::new(file)).context("--plate-groups")?;
            let fit = t.fit(derived).map_err(|why| {
                anyhow::anyhow!("--plate-groups {file}: does not fit the data: {why}")
            })?;
            say(format!(
                "from {file} (it fits the {} labelled experiments)",
                derived.assignment.len()
            ));
            Ok(Some(fit))
        }
    }
}

/// `--pretrained`: `imagenet` is the backbone's torchvision file from the
/// weights cache, verified; a FILE must exist, and when it bears one of
/// torchvision's published names it must be this backbone's and match its
/// hash. Checked before any training work.
fn resolve_pretrained(given: Option<&Path>, backbone: &str) -> Result<Option<PathBuf>> {
    let Some(p) = given else {
        return Ok(None);
    };
    if p.as_os_str() == "imagenet" {
        let dirs = rcic_pretrained::CacheDirs::from_env();
        return Ok(Some(
            rcic_pretrained::find(backbone, &dirs).context("--pretrained imagenet")?,
        ));
    }
    if !p.is_file() {
        anyhow::bail!(
            "--pretrained {}: no such file; expected torchvision's ImageNet weights of {backbone} (.pth or safetensors), or `imagenet` for the weights cache",
            p.display()
        );
    }
    rcic_pretrained::check_name(p, backbone).context("--pretrained")?;
    Ok(Some(p.to_path_buf()))
}

fn model_config(
    a: &Args,
    data: &Data,
    dir: &Path,
    base: Option<ModelConfig>,
    head_hidden: Option<Vec<i64>>,
    block_config: Option<Vec<i64>>,
) -> Result<ModelConfig> {
    let overrides = ConfigOverrides {
        backbone: a
            .backbone
            .clone()
            .or_else(|| base.is_none().then(|| "mem-densenet161".to_string())),
        classes: a.classes,
        embedding_size: a.embedding_size,
        head_hidden,
        concat_cell_type: a.concat_cell_type,
        cell_types: Some(data.index.cell_types.len() as i64),
        bn_momentum: a.bn_mom,
        growth_rate: a.growth_rate,
        block_config,
        init_features: a.init_features,
    };
    let config = overrides.apply(base.as_ref())?;
    if (data.index.classes as i64) > config.classes {
        bail!(
            "--classes {}: the data has {} classes",
            config.classes,
            data.index.classes
        );
    }
    let image = data.tensors.image_size() as i64;
    config.check_image_size(image).with_context(|| {
        format!(
            "the network does not fit the images of {} (fewer --block-config blocks, another --backbone, or rcic-preprocess at a larger --image-size)",
            dir.display()
        )
    })?;
    Ok(config)
}

/// The fold's sets, once checked: statistics for `--data-normalization`
/// exist for every well, and in train mode the first epoch holds a batch.
fn checked_splits(a: &Args, data: &Data, normalization: Normalization) -> Result<Splits> {
    let folds = Folds::new(&data.index, a.data_split_seed);
    let splits = rcic_core::splits::build(&data.index, &folds, a.cv_number, a.all_controls_train)?;
    // Statistics for --data-normalization exist for every well.
    trainer::site_infos(data, normalization)?;
    // Pseudo-labels can only grow the first epoch's training set when a
    // round runs before it.
    let pl_before_first = a.pl_epoch.is_some_and(|e| e <= a.start_epoch) || a.start_epoch > 0;
    if a.mode == "train" && !pl_before_first && splits.train.len() < a.batch_size {
        bail!(
            "-b/--batch_size {}: the training set ({} sites) holds less than one batch",
            a.batch_size,
            splits.train.len()
        );
    }
    Ok(splits)
}

/// The run's options from the flags and what was resolved of them.
fn train_options(
    a: &Args,
    lr: LrSchedule,
    size: SizeFunc,
    normalization: Normalization,
    seed: u64,
    threads: usize,
    device: tch::Device,
) -> TrainOptions {
    TrainOptions {
        save: a.save.clone(),
        epochs: a.epochs,
        batch_size: a.batch_size,
        gradient_accumulation: a.gradient_accumulation,
        lr,
        wd: a.wd,
        label_smoothing: a.label_smoothing,
        mixup: a.mixup,
        cutmix: a.cutmix,
        augment: AugmentOptions {
            scale_aug: a.scale_aug,
            pw_aug: a.pw_aug,
        },
        normalization,
        all_controls_train: a.all_controls_train,
        cv_number: a.cv_number,
        data_split_seed: a.data_split_seed,
        seed,
        metric_loss_coeff: a.metric_loss_coeff,
        pl_epoch: a.pl_epoch,
        pl_size_func: size,
        plate_table: None,
        retention: rcic_train::retention::Retention {
            keep_last: a.keep_checkpoints.0,
            keep_epochs: a.keep_epochs.iter().copied().collect(),
        },
        disp_batches: a.disp_batches,
        start_epoch: a.start_epoch,
        fp16: a.fp16 || a.bf16,
        bf16: a.bf16,
        threads,
        device,
    }
}

/// `-m val`: the --load checkpoint's validation accuracy, logged and printed.
fn score(
    a: &Args,
    data: &Data,
    config: &ModelConfig,
    load: Option<(&Path, &Checkpoint)>,
    splits: &Splits,
    opts: &TrainOptions,
    log: &Log,
) -> Result<()> {
    let (_vs, net) = trainer::build_network(config, opts.device, load, None, log)?;
    if splits.val.is_empty() {
        bail!("--cv-number {}: no validation sites to score", a.cv_number);
    }
    let infos = Arc::new(trainer::site_infos(data, opts.normalization)?);
    let (acc, by) = trainer::validate(&net, data, splits, &infos, opts)?;
    log.info(format!(
        "Val acc: {acc:.6} {}",
        by.iter()
            .map(|(k, v)| format!("{k}: {v:.6}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    println!("{acc}");
    Ok(())
}

fn run() -> Result<()> {
    let mut a: Args = rcic_cli::config::parse("train");
    if a.resume {
        if let Some(done) = resume_point(&mut a)? {
            println!("{}", done.display());
            return Ok(());
        }
    }
    // Every check comes before anything is written: the --save folder and
    // NAME.log appear only once training starts.
    let Checked {
        lr,
        size,
        normalization,
        head_hidden,
        block_config,
        device_choice,
        aliases,
    } = validate(&a)?;
    let threads = set_threads(a.threads.threads);
    rcic_core::tensors::tune_allocator();
    let device = select_device(device_choice)?;
    let seed = a.seed.unwrap_or_else(clock_seed);

    // Lines logged before the log file exists are written to it once it does.
    let log = Log::new(a.log.level()).keeping_lines();
    log.debug(format!("Args: {a:?}"));
    log.info(format!("Seed: {seed}"));
    // --bf16 is asked for; --fp16 is the default (the original's), so its
    // notice is a progress line, silent under -q.
    if a.bf16 && !device.is_cuda() {
        log.warn("--bf16 is ignored on the CPU (training in float32)");
    } else if a.fp16 && !device.is_cuda() {
        log.info("--fp16 is ignored on the CPU (training in float32)");
    }
    let (data, dir) = read_data(&a, aliases, &log)?;

    // The --load checkpoint is read once: its architecture is the base of
    // the flags, its tensors go into the network.
    let loaded = match &a.load {
        Some(p) => Some(Checkpoint::read(p).context("--load")?),
        None => None,
    };
    let load = a.load.as_deref().zip(loaded.as_ref());
    let base = loaded.as_ref().and_then(|c| c.config.clone());
    let config = model_config(&a, &data, &dir, base, head_hidden, block_config)?;
    let pretrained = resolve_pretrained(a.pretrained.as_deref(), &config.backbone)?;
    let plate_table = plate_table(&a, &data.index.groups, &log)?;
    if let Some((p, ck)) = load {
        trainer::check_architecture(p, ck, &config)?;
    }
    let splits = checked_splits(&a, &data, normalization)?;
    let mut opts = train_options(&a, lr, size, normalization, seed, threads, device);
    opts.plate_table = plate_table;
    let options_json = serde_json::json!({
        "backbone": config.backbone, "epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr, "seed": seed,
        "cv_number": a.cv_number, "data_split_seed": a.data_split_seed, "pl_epoch": a.pl_epoch, "pl_size_func": a.pl_size_func,
        "data_normalization": a.data_normalization, "cutmix": a.cutmix, "mixup": a.mixup, "label_smoothing": a.label_smoothing,
        "tensors": dir.file_name().map(|n| n.to_string_lossy().into_owned()),
    })
    .to_string();

    if a.bench_data_path {
        let b = trainer::bench_data_path(&data, &opts)?;
        println!(
            "data path: {:.1} samples/s (threads {threads})",
            b.samples_per_s
        );
        println!(
            "per sample, one thread: decompress {:.3} ms, augment and normalise {:.3} ms, batch assembly {:.3} ms",
            b.decompress_ms, b.augment_ms, b.assembly_ms
        );
        return Ok(());
    }
    if a.mode == "val" {
        return score(&a, &data, &config, load, &splits, &opts, &log);
    }
    let net = trainer::prepare_network(&config, &opts, load, pretrained.as_deref(), &log)?;

    // All checked: from here on the run writes.
    let save = a.save.as_ref().expect("checked");
    if let Some(parent) = save.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("--save: cannot create {}", parent.display()))?;
    }
    let log_path = PathBuf::from(format!("{}.log", save.display()));
    log.attach(&log_path)
        .with_context(|| format!("--save: cannot open the log file {}", log_path.display()))?;
    let out = trainer::train(&data, &config, net, &opts, load, &options_json, &log)?;
    log.info(format!(
        "Done: best validation accuracy {}",
        out.best_accuracy
            .map_or("n/a".into(), |v| format!("{v:.6}"))
    ));
    println!("{}", save.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from([&["rcic-train"], extra].concat())
    }

    #[test]
    fn boolean_flags_take_the_reference_values() {
        let a = parse(&[]).unwrap();
        assert!(a.fp16 && a.all_controls_train);
        let a = parse(&["--fp16", "false", "--all-controls-train", "0"]).unwrap();
        assert!(!a.fp16 && !a.all_controls_train);
        let a = parse(&["--fp16", "--all-controls-train", "True"]).unwrap();
        assert!(a.fp16 && a.all_controls_train);
        let e = parse(&["--fp16", "maybe"]).unwrap_err().to_string();
        assert!(e.contains("--fp16") && e.contains("maybe"), "{e}");
    }

    #[test]
    fn flag_checks_need_nothing_but_the_flags() {
        let check = |extra: &[&str]| {
            let a = parse(&[&["--save", "x/m"], extra].concat()).unwrap();
            validate(&a).err().map(|e| e.to_string())
        };
        assert_eq!(check(&[]), None);
        assert_eq!(
            check(&["--start-epoch", "2", "--load", "x/m.1", "-e", "4"]),
            None
        );
        for (extra, want) in [
            (&["--mixup", "NaN"][..], "--mixup NaN"),
            (&["--cutmix", "inf"], "--cutmix inf"),
            (&["--wd", "NaN"], "--wd NaN"),
            (&["--label-smoothing", "1"], "--label-smoothing 1"),
            (&["--metric-loss-coeff", "NaN"], "--metric-loss-coeff NaN"),
            (&["--classes", "0"], "--classes 0"),
            (&["--start-epoch", "3"], "--start-epoch 3"),
            (
                &["--pl-epoch", "0", "-e", "2", "--pl-size-func", "x+0.6"],
                "--pl-size-func",
            ),
        ] {
            let e = check(extra).unwrap_or_default();
            assert!(e.starts_with(want), "{extra:?}: {e}");
        }
        let e = parse(&["--pw-aug", "inf,0.1"]).unwrap_err().to_string();
        assert!(e.contains("--pw-aug") && e.contains("finite"), "{e}");
        // --threads is the shared flag, capped by clap.
        let e = parse(&["--threads", "2000"]).unwrap_err().to_string();
        assert!(e.contains("--threads") && e.contains("2000"), "{e}");
    }

    #[test]
    fn presets_fill_the_flags_the_command_line_does_not_give() {
        let d = tempfile::tempdir().unwrap();
        let preset = d.path().join("p.toml");
        std::fs::write(
            &preset,
            "[common]\ncv-number = 2\nalias = \"none\"\n[train]\nbackbone = \"densenet-tiny\"\nepochs = 45\nthreads = 3\nquiet = true\n",
        )
        .unwrap();
        let p = preset.to_str().unwrap();
        let a: Args =
            rcic_cli::config::parse_from("train", ["rcic-train", "--config", p, "-e", "7"])
                .unwrap()
                .unwrap();
        assert_eq!(a.backbone.as_deref(), Some("densenet-tiny"));
        assert_eq!((a.epochs, a.cv_number, a.threads.threads), (7, 2, 3));
        assert_eq!(a.alias.alias, "none");
        assert!(a.log.quiet && a.data.data == Path::new("../data"));
    }
}
