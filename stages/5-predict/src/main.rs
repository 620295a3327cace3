//! `rcic-predict`: logits of every test site and every validation site of
//! the model's fold, averaged over TTA variants (docs/method.md section 8), into
//! the predictions Parquet (data-schemas/predictions.md). Output: `-o FILE`;
//! with `--load CKPT` (and no -o) `CKPT.output<--pred-suffix>` and
//! `CKPT.output.log` as the reference names them; otherwise the artifact
//! `STORE/predict/<key>/predictions.parquet`, reused when present.
//! `--merge SHARD...` joins `--shard I/N` outputs into the single run's file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rcic_cli::args::{AliasArg, DataArg, LogArgs, TensorsArgs, ThreadsArg};
use rcic_cli::log::Log;
use rcic_cli::output::{check_output as check_path, Input, Output};
use rcic_cli::publish::write_atomic;
use rcic_core::locate::find_tensors;
use rcic_core::normalize::Normalization;
use rcic_core::stats_table::StatsTable;
use rcic_core::tensors::SiteTensors;
use rcic_core::tta;
use rcic_core::{AliasConfig, Artifact, DatasetIndex, IndexOptions, StageSpec, Store, Verify};
use rcic_predict::engine::Engine;
use rcic_predict::model_info::TrainedWith;
use rcic_predict::ort_engine::{OrtDevice, OrtEngine};
use rcic_predict::output::Predictions;
use rcic_predict::pipeline::{predict, RunOptions};
use rcic_predict::sites::{self, Shard};
use rcic_predict::tch_engine::TchEngine;
use rcic_predict::PREDICT_VERSION;

#[derive(Parser, Debug)]
#[command(
    name = "rcic-predict",
    version,
    about = "Predicts every test site and every validation site of the model's fold (logits averaged over TTA variants) into predictions Parquet"
)]
struct Args {
    /// ONNX model written by rcic-export (inputs image, cell_type; output logits). Required with --engine ort.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Checkpoint: the network run by --engine tch; without -o the output is CKPT.output<--pred-suffix> (+ CKPT.output.log).
    #[arg(long)]
    load: Option<PathBuf>,
    /// ort (ONNX Runtime, --model) or tch (libtorch, --load).
    #[arg(long, default_value = "ort", value_parser = ["ort", "tch"])]
    engine: String,
    #[command(flatten)]
    data: DataArg,
    /// (--store: also where predict/<key>/ is written without -o/--load.)
    #[command(flatten)]
    src: TensorsArgs,
    /// Output file (instead of the store artifact).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Suffix of CKPT.output<suffix> with --load.
    #[arg(long, default_value = "")]
    pred_suffix: String,
    /// TTA variants, 1 to 64 (1: none; 8 with --tta-size 1: the square's symmetries). Ignored when the graph has TTA inside.
    #[arg(long, default_value_t = 1)]
    tta: usize,
    /// TTA crop fraction r in (0, 1].
    #[arg(long, default_value_t = 1.0)]
    tta_size: f64,
    /// cpu or cuda (ort: the CUDA execution provider; tch: libtorch CUDA). Never falls back silently.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    device: String,
    /// Check that --device can run here (with cuda: libtorch sees a GPU and
    /// the loaded ONNX Runtime has the CUDA execution provider), print what
    /// was found and exit; what `make` runs before any work.
    #[arg(long)]
    check_device: bool,
    /// Half precision: an fp16 ONNX model (rcic-export --fp16) with ort;
    /// autocast on CUDA with tch; `--fp16 false` (the default): float32.
    #[arg(long, default_value = "false", value_parser = rcic_cli::args::parse_bool, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    fp16: bool,
    /// Sites per batch (at least 16 on CUDA).
    #[arg(
        short = 'b',
        long = "batch_size",
        alias = "batch-size",
        default_value_t = 24
    )]
    batch_size: usize,
    /// Validation fold 0..5, -1: none [default: the model's, else 0].
    #[arg(long, allow_hyphen_values = true)]
    cv_number: Option<i32>,
    /// [default: the model's, else 0]
    #[arg(long)]
    data_split_seed: Option<u64>,
    /// sample, experiment, global or plate [default: the model's, else sample].
    #[arg(long)]
    data_normalization: Option<String>,
    #[command(flatten)]
    alias: AliasArg,
    /// Predict only (experiment, plate) groups g with g mod N = I.
    #[arg(long)]
    shard: Option<String>,
    /// Merge shard outputs (files or predict artifact folders) into -o FILE or the single run's store artifact.
    #[arg(long, num_args = 1..)]
    merge: Vec<PathBuf>,
    #[command(flatten)]
    threads: ThreadsArg,
    #[command(flatten)]
    log: LogArgs,
}

fn main() {
    rcic_cli::report::main(run)
}

/// Writes the log's lines to `path` (atomically).
fn write_log(log: &Log, path: &Path) -> Result<()> {
    Ok(write_atomic(path, log.text().as_bytes())?)
}

fn key_of(path: &Path) -> Result<String> {
    let (_, h) = rcic_core::store::hash_file(path)
        .with_context(|| format!("cannot hash {}", path.display()))?;
    Ok(h[..rcic_core::store::KEY_LEN].to_string())
}

/// The files a run writes, when not a store artifact: `-o FILE` and
/// `FILE.log`, or with `--load CKPT` (no -o, no --merge)
/// `CKPT.output<--pred-suffix>` and `CKPT.output.log`; each with how
/// messages name it.
fn file_outputs(a: &Args) -> Option<(String, PathBuf, PathBuf)> {
    match (&a.output, &a.load) {
        (Some(o), _) => Some((
            "-o".to_string(),
            o.clone(),
            PathBuf::from(format!("{}.log", o.display())),
        )),
        (None, Some(ckpt)) if a.merge.is_empty() => Some((
            format!("--load {}: its output", ckpt.display()),
            PathBuf::from(format!("{}.output{}", ckpt.display(), a.pred_suffix)),
            PathBuf::from(format!("{}.output.log", ckpt.display())),
        )),
        _ => None,
    }
}

/// Checks the output files (the predictions and their log) against
/// `inputs` and the file system.
fn check_not_inputs(a: &Args, inputs: &[Input]) -> Result<()> {
    let Some((what, o, l)) = file_outputs(a) else {
        return Ok(());
    };
    let log_name = l
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let siblings = [log_name.as_str()];
    let out = Output {
        siblings: &siblings,
        ..Output::new(&what, &o)
    };
    check_path(&out, inputs)?;
    Ok(())
}

/// The output files, before any work: each output a file path whose
/// folder exists or can be made (no file on the way), none of them an
/// input: the model, the checkpoint, a merged part, a file of --data or
/// anything inside the --tensors artifact (the artifact found in --store is
/// checked once it is known).
fn check_output(a: &Args) -> Result<()> {
    let mut inputs = Vec::new();
    if let Some(m) = &a.model {
        inputs.push(Input::File("--model", m));
    }
    if let Some(l) = &a.load {
        inputs.push(Input::File("--load", l));
    }
    for m in &a.merge {
        inputs.push(if m.is_dir() {
            Input::Sealed("--merge", m)
        } else {
            Input::File("--merge", m)
        });
    }
    if a.merge.is_empty() {
        inputs.push(Input::Files("--data", &a.data.data));
        if let Some(t) = &a.src.tensors {
            inputs.push(Input::Sealed("--tensors", t));
        }
    }
    check_not_inputs(a, &inputs)
}

/// The flags `run` checks before any work (beyond [`check_output`]):
/// the TTA count and crop, the batch size, `--shard` and `--alias`.
fn check_flags(a: &Args) -> Result<(Option<Shard>, AliasConfig)> {
    tta::check_count(a.tta, false)?;
    if !(a.tta_size > 0.0 && a.tta_size <= 1.0) {
        bail!(
            "--tta-size {}: expected a crop fraction in (0, 1]",
            a.tta_size
        );
    }
    if a.batch_size == 0 {
        bail!("-b/--batch_size must be at least 1");
    }
    let shard: Option<Shard> = a.shard.as_deref().map(str::parse).transpose()?;
    let aliases: AliasConfig = a
        .alias
        .alias
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--alias {e}"))?;
    Ok((shard, aliases))
}

/// The engine a run uses, with what its model says about its training.
struct Opened {
    engine: Box<dyn Engine>,
    trained: TrainedWith,
    /// TTA variants inside the graph (0: none).
    tta_inside: usize,
    model_key: String,
    model_file: PathBuf,
}

/// Opens `--engine tch` on the `--load` checkpoint or `--engine ort` on
/// the `--model` ONNX file.
fn open_engine(a: &Args, cuda: bool, threads: usize) -> Result<Opened> {
    if a.engine == "tch" {
        let ckpt = a
            .load
            .as_ref()
            .context("--engine tch runs a checkpoint: give it with --load")?;
        let device = if cuda {
            rcic_model::select_device(rcic_model::DeviceChoice::Cuda)?
        } else {
            tch::Device::Cpu
        };
        let e = TchEngine::open(ckpt, device, a.fp16, threads)
            .with_context(|| format!("--load {}", ckpt.display()))?;
        let trained = e.trained_with.clone();
        return Ok(Opened {
            engine: Box::new(e),
            trained,
            tta_inside: 0,
            model_key: key_of(ckpt)?,
            model_file: ckpt.clone(),
        });
    }
    let model = a.model.as_ref().context(
        "--engine ort runs an ONNX model: give it with --model (rcic-export writes one)",
    )?;
    let e = OrtEngine::open(
        model,
        if cuda {
            OrtDevice::Cuda
        } else {
            OrtDevice::Cpu
        },
        threads,
    )
    .with_context(|| format!("--model {}", model.display()))?;
    if a.fp16 && !e.meta.fp16() {
        bail!(
            "--fp16: {} is a float32 model; export it with rcic-export --fp16",
            model.display()
        );
    }
    let (trained, tta_inside) = (e.meta.trained_with(), e.meta.tta_inside());
    Ok(Opened {
        engine: Box::new(e),
        trained,
        tta_inside,
        model_key: key_of(model)?,
        model_file: model.clone(),
    })
}

/// The fold and normalisation of the run: the flags', else the model's,
/// else the defaults.
struct Fold {
    cv_number: i32,
    split_seed: u64,
    norm_name: String,
    normalization: Normalization,
}

fn fold_of(a: &Args, trained: &TrainedWith) -> Result<Fold> {
    let cv_number = a.cv_number.or(trained.cv_number).unwrap_or(0);
    if !(-1..=5).contains(&cv_number) {
        bail!("--cv-number {cv_number}: expected -1 (no validation) or a fold 0..5");
    }
    let split_seed = a.data_split_seed.or(trained.data_split_seed).unwrap_or(0);
    let norm_name = a
        .data_normalization
        .clone()
        .or(trained.data_normalization.clone())
        .unwrap_or_else(|| "sample".into());
    let normalization: Normalization = norm_name.parse()?;
    Ok(Fold {
        cv_number,
        split_seed,
        norm_name,
        normalization,
    })
}

/// The data a run predicts: the preprocess artifact's folder, key and
/// site tensors, the dataset index, and the sites of the run (its shard).
struct Data {
    dir: PathBuf,
    tensors_key: String,
    tensors: SiteTensors,
    index: DatasetIndex,
    targets: Vec<sites::Target>,
}

/// Reads the dataset index and the preprocess artifact (checked against
/// the outputs, the index and the engine's shapes) and lists the sites.
fn read_data(
    a: &Args,
    aliases: AliasConfig,
    engine: &Opened,
    fold: &Fold,
    shard: Option<Shard>,
) -> Result<Data> {
    let index = DatasetIndex::load(
        &a.data.data,
        &IndexOptions {
            aliases,
            ..Default::default()
        },
    )
    .with_context(|| format!("reading the dataset index of {}", a.data.data.display()))?;
    let dir = find_tensors(a.src.tensors.as_deref(), &a.data.data, &a.src.store)?;
    if a.src.tensors.is_none() {
        check_not_inputs(a, &[Input::Sealed("--store", &dir)])?;
    }
    let tensors = SiteTensors::open(&dir)?;
    if tensors.len() != index.site_count() {
        bail!("{}: {} sites, but the dataset index of {} has {}; expected the preprocess artifact of that data", dir.display(), tensors.len(), a.data.data.display(), index.site_count());
    }
    engine
        .engine
        .shape()
        .check(tensors.image_size(), index.cell_types.len(), index.classes)
        .with_context(|| format!("{} vs {}", engine.model_file.display(), dir.display()))?;
    let tensors_key = Artifact::open(&dir)
        .map(|x| x.key().to_string())
        .unwrap_or_else(|_| tensors.dataset_key().to_string());
    let stats_path = dir.join("pixel_stats.parquet");
    let stats = if stats_path.is_file() {
        Some(StatsTable::read(&stats_path)?)
    } else {
        None
    };
    let all = sites::targets(
        &index,
        stats.as_ref(),
        fold.normalization,
        fold.cv_number,
        fold.split_seed,
    )?;
    let targets = sites::shard(all, shard);
    Ok(Data {
        dir,
        tensors_key,
        tensors,
        index,
        targets,
    })
}

/// Where a run's predictions go.
enum Destination {
    /// The output file and its log.
    Files(PathBuf, PathBuf),
    Store(Store),
}

/// Where the predictions go: the files of [`file_outputs`] (their folder
/// made), else the store; None when the store already holds the artifact
/// of `spec` (its folder printed).
fn destination(a: &Args, spec: &StageSpec, log: &Log) -> Result<Option<Destination>> {
    let Some((_, o, l)) = file_outputs(a) else {
        let st = Store::open(&a.src.store).context("opening the artifact store")?;
        if let Some(art) = st.lookup(spec, Verify::Full)? {
            log.info(format!("reusing {}", art.dir.display()));
            println!("{}", art.dir.display());
            return Ok(None);
        }
        return Ok(Some(Destination::Store(st)));
    };
    if let Some(p) = o.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    Ok(Some(Destination::Files(o, l)))
}

/// Writes the predictions (and the run's log) to the output files, or
/// publishes them as the store artifact of `spec`; prints where.
fn write_output(preds: &Predictions, dest: Destination, spec: &StageSpec, log: &Log) -> Result<()> {
    match dest {
        Destination::Files(o, l) => {
            preds.write(&o)?;
            log.info(format!("wrote {} and {}", o.display(), l.display()));
            write_log(&log, &l)?;
            println!("{}", o.display());
        }
        Destination::Store(st) => {
            let w = st.begin(spec)?;
            preds.write(&w.dir().join("predictions.parquet"))?;
            log.info(format!("publishing {}", w.final_dir().display()));
            write_log(&log, &w.dir().join("predict.log"))?;
            let art = w.commit()?;
            println!("{}", art.dir.display());
        }
    }
    Ok(())
}

/// `--check-device`: both engines' CUDA, without a model or data.
fn check_device(a: &Args) -> Result<()> {
    if a.device != "cuda" {
        println!("{}: nothing to check", a.device);
        return Ok(());
    }
    rcic_model::select_device(rcic_model::DeviceChoice::Cuda).map_err(|e| {
        anyhow::anyhow!("{e}; the venv's torch must be a CUDA build that this machine's NVIDIA driver serves (README: GPU machines)")
    })?;
    let ort = rcic_predict::ort_engine::check_cuda()?;
    println!(
        "cuda: libtorch sees {} GPU(s); ONNX Runtime {} has the CUDA execution provider",
        tch::Cuda::device_count(),
        ort.display()
    );
    Ok(())
}

fn run() -> Result<()> {
    let a: Args = rcic_cli::config::parse("predict");
    let log = Log::new(a.log.level()).keeping_lines();
    if a.check_device {
        return check_device(&a);
    }
    check_output(&a)?;
    if !a.merge.is_empty() {
        return merge(&a, &log);
    }
    // Every flag checked before any work.
    let (shard, aliases) = check_flags(&a)?;
    let threads = if a.threads.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        a.threads.threads
    };
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    let cuda = a.device == "cuda";
    let batch = if cuda && a.batch_size < 16 {
        log.info(format!(
            "-b {}: raised to 16 on CUDA (small batches run 2-3x slower there)",
            a.batch_size
        ));
        16
    } else {
        a.batch_size
    };
    rcic_core::tensors::tune_allocator();
    log.debug(format!("Args: {a:?}"));

    // The engine, its shapes and what the model says about its training.
    let mut opened = open_engine(&a, cuda, threads)?;
    log.info(format!(
        "Engine: {} ({}, key {})",
        opened.engine.describe(),
        opened.model_file.display(),
        opened.model_key
    ));
    let fold = fold_of(&a, &opened.trained)?;
    log.info(format!(
        "Fold: cv-number {}, data-split-seed {}; normalisation {}",
        fold.cv_number, fold.split_seed, fold.norm_name
    ));

    // The data.
    let data = read_data(&a, aliases, &opened, &fold, shard)?;
    let (tensors, targets) = (&data.tensors, &data.targets);
    let tta_inside = opened.tta_inside;
    let (host_tta, tta_total) = if tta_inside > 0 {
        if a.tta > 1 {
            log.info(format!(
                "--tta {}: the model has {tta_inside} TTA variants inside; not applied again",
                a.tta
            ));
        }
        (0, tta_inside)
    } else {
        (a.tta, a.tta)
    };
    let spec = StageSpec::new(
        "predict",
        PREDICT_VERSION,
        serde_json::json!({
            "engine": a.engine, "tta": tta_total, "tta_size": if tta_inside > 0 { 1.0 } else { a.tta_size }, "tta_inside": tta_inside,
            "cv_number": fold.cv_number, "data_split_seed": fold.split_seed, "data_normalization": fold.norm_name, "alias": a.alias.alias,
            "device": a.device, "fp16": a.fp16, "shard": a.shard,
        }),
    )
    .input("model", &opened.model_key)
    .input("tensors", &data.tensors_key);

    // Where the output goes.
    let Some(dest) = destination(&a, &spec, &log)? else {
        return Ok(());
    };

    // The predictions.
    let n_test = targets.iter().filter(|t| t.split == "test").count();
    log.info(format!(
        "Sites: {} ({n_test} test, {} val){}; tensors {} ({} px); TTA {} on the host, {tta_inside} in the graph; batch {batch}, threads {threads}",
        targets.len(),
        targets.len() - n_test,
        shard.map_or(String::new(), |s| format!(" in shard {}/{}", s.index, s.count)),
        data.dir.display(),
        tensors.image_size(),
        host_tta,
    ));
    let s = tensors.image_size() as i64;
    let variants = if host_tta > 1 || (host_tta == 1 && a.tta_size < 1.0) {
        tta::variants(host_tta, a.tta_size, s, s)
    } else {
        Vec::new()
    };
    let plan = sites::plan(targets, batch);
    let t0 = Instant::now();
    let logits = predict(
        opened.engine.as_mut(),
        tensors,
        targets,
        &plan,
        &RunOptions {
            variants,
            cell_types: data.index.cell_types.len(),
            progress: log.shows(rcic_cli::log::Level::Info),
        },
    )?;
    let secs = t0.elapsed().as_secs_f64();
    log.info(format!(
        "Predicted {} sites in {secs:.2}s ({:.1} sites/s)",
        targets.len(),
        targets.len() as f64 / secs.max(1e-9)
    ));
    let preds = Predictions {
        classes: opened.engine.shape().classes as usize,
        tta: tta_total.to_string(),
        model_key: opened.model_key.clone(),
        shard,
        split: targets.iter().map(|t| t.split.to_string()).collect(),
        id_code: targets.iter().map(|t| t.id_code.clone()).collect(),
        site: targets.iter().map(|t| t.site).collect(),
        logits,
    };
    write_output(&preds, dest, &spec, &log)
}

/// `--merge`: shards (files, or predict artifact folders) -> -o FILE, or the
/// store artifact of the single run (the shards' common spec without `shard`).
fn merge(a: &Args, log: &Log) -> Result<()> {
    let mut parts = Vec::new();
    let mut specs = Vec::new();
    for p in &a.merge {
        let file = if p.is_dir() {
            p.join("predictions.parquet")
        } else {
            p.clone()
        };
        let mut part =
            Predictions::read(&file).with_context(|| format!("--merge {}", p.display()))?;
        if p.is_dir() {
            let art = Artifact::open(p)
                .with_context(|| format!("--merge {}: not a predict artifact", p.display()))?;
            // A shard artifact published before shard outputs named
            // themselves in their metadata: its manifest says which shard.
            if part.shard.is_none() {
                part.shard = art.manifest.params["shard"]
                    .as_str()
                    .and_then(|s| s.parse().ok());
            }
            specs.push(art.manifest);
        }
        parts.push((p.display().to_string(), part));
    }
    let merged = Predictions::merge(parts)?;
    log.info(format!(
        "merged {} shards: {} sites",
        a.merge.len(),
        merged.len()
    ));
    if let Some(o) = &a.output {
        merged.write(o)?;
        write_log(&log, &PathBuf::from(format!("{}.log", o.display())))?;
        println!("{}", o.display());
        return Ok(());
    }
    if specs.len() != a.merge.len() {
        bail!("--merge without -o writes the single run's store artifact: give predict artifact folders (or use -o FILE)");
    }
    let mut params = specs[0].params.clone();
    if let Some(m) = params.as_object_mut() {
        m.insert("shard".into(), serde_json::Value::Null);
    }
    let mut counts = std::collections::BTreeSet::new();
    for m in &specs {
        let mut p = m.params.clone();
        let sh = p
            .as_object_mut()
            .and_then(|o| o.insert("shard".into(), serde_json::Value::Null));
        counts.insert(
            sh.and_then(|v| {
                v.as_str()
                    .and_then(|s| s.split_once('/').map(|(_, n)| n.to_string()))
            })
            .unwrap_or_default(),
        );
        if p != params || m.inputs != specs[0].inputs || m.stage != "predict" {
            bail!(
                "--merge: {} is not a shard of the same run as {}",
                m.key,
                specs[0].key
            );
        }
    }
    let n: usize = counts
        .iter()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if counts.len() != 1 || n != a.merge.len() {
        bail!(
            "--merge: expected all {n} shards of one --shard I/N run, got {}",
            a.merge.len()
        );
    }
    let mut spec = StageSpec::new("predict", &specs[0].version, params);
    for i in &specs[0].inputs {
        spec = spec.input(&i.role, &i.key);
    }
    let st = Store::open(&a.src.store)?;
    if let Some(art) = st.lookup(&spec, Verify::Full)? {
        println!("{}", art.dir.display());
        return Ok(());
    }
    let w = st.begin(&spec)?;
    merged.write(&w.dir().join("predictions.parquet"))?;
    write_log(&log, &w.dir().join("predict.log"))?;
    let art = w.commit()?;
    println!("{}", art.dir.display());
    Ok(())
}
