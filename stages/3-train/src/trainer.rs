//! The training run (docs/method.md sections 5-7): epochs of augmented, mixed
//! batches through the network with the combined loss, Adam with gradient
//! accumulation and a per-batch learning rate; pseudo-labelling rounds at
//! the start of epochs from `--pl-epoch`; validation after every epoch;
//! checkpoints `NAME.<epoch>` (+ optimizer state) and the best `NAME`.
//! A diverging run stops with an error and publishes no checkpoint of the
//! epoch it diverged in (see `divergence`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rcic_cli::log::{Level, Log};
use rcic_cli::progress::{duration_text, Progress};
use rcic_cli::publish::write_atomic;
use rcic_core::groupinfer::{choose_assignment, count_groups};
use rcic_core::metrics_table::{self as metrics, MetricRow};
use rcic_core::normalize::{norm_of, Normalization};
use rcic_core::splits::{build, row_of, Pool, Splits};
use rcic_core::stats_table::StatsTable;
use rcic_core::tensors::SiteTensors;
use rcic_core::{argmax, DatasetIndex, Folds, SITES};
use rcic_model::checkpoint::{self, Strictness};
use rcic_model::{Checkpoint, ModelConfig, Network, RawTensor};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::augment::AugmentOptions;
use crate::divergence::{first_non_finite, LossGuard};
use crate::error::TrainError;
use crate::loader::{load, LoaderOptions, SiteInfo};
use crate::precision::{LossScaler, Precision, StepOutcome};
use crate::pseudo::{progress, select, Candidate};
use crate::schedule::LrSchedule;
use crate::sizefunc::SizeFunc;

/// Every option of a run (the CLI's, resolved).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub save: Option<PathBuf>,
    pub epochs: u32,
    pub batch_size: usize,
    pub gradient_accumulation: usize,
    pub lr: LrSchedule,
    pub wd: f64,
    pub label_smoothing: f64,
    pub mixup: f64,
    pub cutmix: f64,
    pub augment: AugmentOptions,
    pub normalization: Normalization,
    pub all_controls_train: bool,
    pub cv_number: i32,
    pub data_split_seed: u64,
    pub seed: u64,
    pub metric_loss_coeff: f64,
    pub pl_epoch: Option<u32>,
    pub pl_size_func: SizeFunc,
    pub disp_batches: usize,
    pub start_epoch: u32,
    /// Mixed precision on CUDA (autocast), float16 with dynamic loss scaling.
    pub fp16: bool,
    /// With `fp16`: autocast in bfloat16 instead, without loss scaling.
    pub bf16: bool,
    pub threads: usize,
    pub device: Device,
    /// Plate groups of unlabelled experiments known in advance (a table
    /// that fits the data, in its group numbering); the others are
    /// inferred from predictions.
    pub plate_table: Option<BTreeMap<String, Vec<usize>>>,
    /// Which epoch checkpoints stay on disk.
    pub retention: crate::retention::Retention,
}

/// Data the run works on.
pub struct Data {
    pub index: DatasetIndex,
    pub tensors: SiteTensors,
    pub stats: Option<StatsTable>,
}

/// Per-row sample information for every site of the dataset (label -1 where unknown).
pub fn site_infos(data: &Data, how: Normalization) -> Result<HashMap<u32, SiteInfo>, TrainError> {
    let mut m = HashMap::with_capacity(data.index.site_count());
    for (i, w) in data.index.wells.iter().enumerate() {
        let stats = norm_of(&data.index, data.stats.as_ref(), how, i)?;
        for s in 1..=SITES {
            m.insert(
                row_of(i, s),
                SiteInfo {
                    label: w.label.map_or(-1, |l| l as i64),
                    cell_type: data.index.cell_type_index(w),
                    stats,
                },
            );
        }
    }
    Ok(m)
}

/// Logits (all classes) of `rows`, in eval mode, in row order.
pub fn predict_rows(
    net: &Network,
    data: &Data,
    rows: &[u32],
    infos: &Arc<HashMap<u32, SiteInfo>>,
    o: &TrainOptions,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let lo = LoaderOptions {
        batch_size: o.batch_size.max(1),
        shuffle: false,
        drop_last: false,
        seed: o.seed,
        epoch: 0,
        augment: None,
        threads: o.threads,
        cell_types: data.index.cell_types.len(),
    };
    let mut out = vec![Vec::new(); rows.len()];
    let pos: HashMap<u32, usize> = rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    let precision = Precision::resolve(o.fp16, o.bf16, o.device);
    precision.activate();
    for b in load(&data.tensors, rows, infos.clone(), &lo) {
        let b = b?;
        let n = b.rows.len() as i64;
        let x = Tensor::from_slice(&b.x)
            .view([n, 6, b.size as i64, b.size as i64])
            .to_device(o.device);
        let s = Tensor::from_slice(&b.cell)
            .view([n, -1])
            .to_device(o.device);
        let logits = tch::no_grad(|| {
            tch::autocast(precision.autocast(), || net.forward_t(&x, &s, false).logits)
        })
        .to_kind(Kind::Float)
        .to_device(Device::Cpu);
        let classes = logits.size()[1] as usize;
        let flat =
            Vec::<f32>::try_from(logits.flatten(0, -1)).map_err(rcic_model::ModelError::from)?;
        for (k, r) in b.rows.iter().enumerate() {
            out[pos[r]] = flat[k * classes..(k + 1) * classes].to_vec();
        }
    }
    Ok(out)
}

/// Validation accuracy (argmax over treatment classes, per site) overall
/// and per cell type.
pub fn validate(
    net: &Network,
    data: &Data,
    splits: &Splits,
    infos: &Arc<HashMap<u32, SiteInfo>>,
    o: &TrainOptions,
) -> Result<(f64, BTreeMap<String, f64>), TrainError> {
    let rows: Vec<u32> = splits.val.iter().map(|s| row_of(s.well, s.site)).collect();
    let logits = predict_rows(net, data, &rows, infos, o)?;
    let t = data.index.treatments as usize;
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut all = (0usize, 0usize);
    for (s, l) in splits.val.iter().zip(&logits) {
        let arg = argmax(&l[..t.min(l.len())]);
        let ok = usize::from(arg == s.label as usize);
        let ct = data.index.experiments[data.index.wells[s.well].experiment]
            .cell_type
            .clone();
        let e = by.entry(ct).or_default();
        e.0 += ok;
        e.1 += 1;
        all.0 += ok;
        all.1 += 1;
    }
    let frac = |(a, b): (usize, usize)| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok((
        frac(all),
        by.into_iter().map(|(k, v)| (k, frac(v))).collect(),
    ))
}

/// Pseudo-label state carried across epochs and checkpoints.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlState {
    /// well -> label
    pub added: BTreeMap<usize, u32>,
}

/// One pseudo-labelling round; returns the metrics row's count and logs.
fn pseudo_label_round(
    net: &Network,
    data: &Data,
    splits: &Splits,
    train_labels: &BTreeMap<u32, u32>,
    pl: &mut PlState,
    infos: &Arc<HashMap<u32, SiteInfo>>,
    epoch: u32,
    o: &TrainOptions,
    log: &Log,
) -> Result<usize, TrainError> {
    let pl_epoch = o.pl_epoch.expect("called with --pl-epoch");
    let ix = &data.index;
    let t = ix.treatments as usize;
    let pending: Vec<(Pool, usize)> = splits
        .pl_pool
        .iter()
        .copied()
        .filter(|(_, w)| !pl.added.contains_key(w))
        .collect();
    let rows: Vec<u32> = pending
        .iter()
        .flat_map(|&(_, w)| (1..=SITES).map(move |s| row_of(w, s)))
        .collect();
    let logits = predict_rows(net, data, &rows, infos, o)?;
    let mut cands = Vec::with_capacity(pending.len());
    for (k, &(pool, w)) in pending.iter().enumerate() {
        let mut sum = vec![0f32; t];
        for s in 0..SITES as usize {
            for (a, b) in sum.iter_mut().zip(&logits[k * SITES as usize + s][..t]) {
                *a += b;
            }
        }
        let well = &ix.wells[w];
        cands.push(Candidate {
            pool,
            well: w,
            experiment: well.experiment,
            plate: well.plate,
            logits: sum,
            truth: well.label,
        });
    }
    // Plate groups: known for labelled experiments, inferred from the
    // current predictions (and earlier pseudo-labels) for the others.
    let groups = &ix.groups;
    let mut assignment: HashMap<usize, Vec<usize>> = HashMap::new();
    // Plates whose group the table gives, and how many of them inference
    // gets right (logged: how much the table matters).
    let (mut from_table, mut agree) = (0usize, 0usize);
    let exps: BTreeSet<usize> = cands.iter().map(|c| c.experiment).collect();
    for e in exps {
        let name = &ix.experiments[e].name;
        if let Some(a) = groups.assignment.get(name) {
            assignment.insert(e, a.clone());
            continue;
        }
        let mut wells: Vec<(u8, u32)> = cands
            .iter()
            .filter(|c| c.experiment == e)
            .map(|c| (c.plate, argmax(&c.logits) as u32))
            .collect();
        wells.extend(
            pl.added
                .iter()
                .filter(|(w, _)| ix.wells[**w].experiment == e)
                .map(|(w, l)| (ix.wells[*w].plate, *l)),
        );
        let counts = count_groups(
            wells,
            ix.plates_per_experiment as usize,
            |c| groups.group_of(c),
            groups.groups.len(),
        );
        let inferred = choose_assignment(&counts).assignment;
        match o.plate_table.as_ref().and_then(|t| t.get(name)) {
            Some(known) => {
                from_table += known.len();
                agree += known.iter().zip(&inferred).filter(|(a, b)| a == b).count();
                assignment.insert(e, known.clone());
            }
            None => {
                assignment.insert(e, inferred);
            }
        }
    }
    if from_table > 0 {
        log.info(format!(
            "Plate groups: {from_table} unlabelled plate(s) from the table; inference from the predictions gets {agree} of them right"
        ));
    }
    let group_classes = |e: usize, p: u8| -> Option<BTreeSet<u32>> {
        let g = *assignment.get(&e)?.get(p as usize - 1)?;
        groups.groups.get(g).cloned()
    };
    let mut plate_classes: HashMap<(usize, u8), BTreeSet<u32>> = HashMap::new();
    for (&row, &label) in train_labels {
        let w = &ix.wells[row as usize / SITES as usize];
        plate_classes
            .entry((w.experiment, w.plate))
            .or_default()
            .insert(label);
    }
    let already: BTreeSet<usize> = pl.added.keys().copied().collect();
    let x = progress(epoch, pl_epoch, o.epochs);
    let r = select(
        &cands,
        x,
        &o.pl_size_func,
        splits.pl_pool.len(),
        &already,
        &group_classes,
        &plate_classes,
    );
    for &(w, l) in &r.added {
        pl.added.insert(w, l);
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    log.info(format!(
        "Pseudo-labeling: Added {} ({} val, {} test), {} ({:.3}%) val misclassified, {} ({:.3}%) not added, pl_data size {}, train size {}, threshold {}",
        r.target,
        r.added_val,
        r.added_test,
        r.val_wrong,
        pct(r.val_wrong, r.added_val),
        r.not_added,
        pct(r.not_added, r.not_added + r.target),
        pl.added.len() * SITES as usize,
        train_labels.len() + r.added.len() * SITES as usize,
        r.threshold.map_or("None".to_string(), |v| format!("{v}"))
    ));
    Ok(r.added.len())
}

/// A trained network with the run's summary.
pub struct Outcome {
    pub best_accuracy: Option<f64>,
    pub last_epoch: u32,
}

/// Builds the network for `config`, loading `load` (a checkpoint read once
/// by the caller, with its path; strictly) and/or `pretrained` weights.
pub fn build_network(
    config: &ModelConfig,
    device: Device,
    load: Option<(&Path, &Checkpoint)>,
    pretrained: Option<&Path>,
    log: &Log,
) -> Result<(VarStore, Network), TrainError> {
    let vs = VarStore::new(device);
    let net = Network::new(&vs, config)?;
    if let Some(p) = pretrained {
        let rep = rcic_model::load_pretrained(&vs, config, p)?;
        log.info(format!(
            "Loaded pretrained backbone weights from {}: {rep:?}",
            p.display()
        ));
    }
    if let Some((p, ck)) = load {
        check_architecture(p, ck, config)?;
        checkpoint::load_into(&vs, &ck.tensors, p, Strictness::Exact)?;
        log.info(format!("Loaded checkpoint {}", p.display()));
    }
    Ok((vs, net))
}

/// The flag that sets a field of [`rcic_model::ConfigDifference`].
fn flag_of(field: &str) -> &'static str {
    match field {
        "backbone" | "backbone family" => " (--backbone)",
        "growth rate" => " (--growth-rate)",
        "block config" => " (--block-config)",
        "initial features" => " (--init-features)",
        "classes" => " (--classes)",
        "embedding size" => " (--embedding-size)",
        "head hidden sizes" => " (--head-hidden)",
        "concat cell type" => " (--concat-cell-type)",
        "cell types" => " (the data's cell types)",
        "batch-norm momentum" => " (--bn-mom)",
        _ => "",
    }
}

/// Fails when the `--load` checkpoint's architecture (when it records one)
/// is not `config`, naming every field that differs with both values.
pub fn check_architecture(
    path: &Path,
    ck: &Checkpoint,
    config: &ModelConfig,
) -> Result<(), TrainError> {
    let Some(c) = &ck.config else { return Ok(()) };
    let diffs = c.differences(config);
    if diffs.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = diffs
        .iter()
        .map(|d| {
            format!(
                "{} {} in the checkpoint, {} requested{}",
                d.field,
                d.left,
                d.right,
                flag_of(d.field)
            )
        })
        .collect();
    Err(TrainError::Data(format!(
        "--load {}: the checkpoint's architecture differs from the requested one: {}",
        path.display(),
        list.join("; ")
    )))
}

/// The network a run trains: seeded by `seed`, then built and loaded as
/// [`build_network`] does.
pub fn prepare_network(
    config: &ModelConfig,
    o: &TrainOptions,
    load: Option<(&Path, &Checkpoint)>,
    pretrained: Option<&Path>,
    log: &Log,
) -> Result<(VarStore, Network), TrainError> {
    tch::manual_seed(o.seed as i64);
    build_network(config, o.device, load, pretrained, log)
}

fn named_trainable(vs: &VarStore) -> BTreeMap<String, Tensor> {
    vs.variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect()
}

fn save_checkpoint(
    path: &Path,
    vs: &VarStore,
    config: &ModelConfig,
    meta: &BTreeMap<String, String>,
) -> Result<(), TrainError> {
    Ok(write_atomic(path, &checkpoint::to_bytes(vs, config, meta))?)
}

fn state_path(ckpt: &Path) -> PathBuf {
    PathBuf::from(format!("{}.state", ckpt.display()))
}

/// The run's state carried from epoch to epoch (and across a resume).
struct RunState {
    /// Training row -> label: the training set and the pseudo-labels so far.
    train_labels: BTreeMap<u32, u32>,
    pl: PlState,
    best: Option<f64>,
    /// The metrics table so far.
    rows: Vec<MetricRow>,
}

impl RunState {
    /// Trains the pseudo-labelled wells' sites with their labels.
    fn add_pseudo_labels(&mut self) {
        for (&w, &l) in &self.pl.added {
            for s in 1..=SITES {
                self.train_labels.insert(row_of(w, s), l);
            }
        }
    }
}

/// What the batches of an epoch update: the optimizer, the loss scale and
/// the divergence guard, at the run's precision.
struct Stepper {
    opt: crate::optimizer::Adam,
    scaler: LossScaler,
    guard: LossGuard,
    precision: Precision,
}

/// What a `.state` file next to the `--load` checkpoint restores.
#[derive(Default)]
struct Resumed {
    pl: PlState,
    best: Option<f64>,
    loss_scale: Option<(f64, u32)>,
}

/// With `--start-epoch` > 0, the optimizer state (into `opt`), the
/// pseudo-labels, the best score and the loss scale of the `--load`
/// checkpoint's `.state` file; nothing when there is none.
fn resume(
    load_ckpt: Option<(&Path, &Checkpoint)>,
    opt: &mut crate::optimizer::Adam,
    o: &TrainOptions,
    log: &Log,
) -> Result<Resumed, TrainError> {
    let mut r = Resumed::default();
    let (Some((l, _)), true) = (load_ckpt, o.start_epoch > 0) else {
        return Ok(r);
    };
    let sp = state_path(l);
    if !sp.is_file() {
        log.info(format!(
            "No optimizer state {}: Adam restarts from zero moments",
            sp.display()
        ));
        return Ok(r);
    }
    let bytes = std::fs::read(&sp).map_err(|e| rcic_model::ModelError::io(&sp, e))?;
    let tf = rcic_model::safetensors::parse(&sp, &bytes)?;
    let tensors: BTreeMap<String, Tensor> = tf
        .tensors
        .iter()
        .map(|(k, v)| (k.clone(), v.to_tch().to_device(o.device)))
        .collect();
    let step: i64 = tf
        .metadata
        .get("step")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    opt.load_state(&tensors, step)
        .map_err(|e| TrainError::Data(format!("{}: {e}", sp.display())))?;
    if let Some(j) = tf.metadata.get("pl") {
        r.pl = serde_json::from_str(j)
            .map_err(|e| TrainError::Data(format!("{}: pl metadata: {e}", sp.display())))?;
    }
    r.best = tf.metadata.get("best").and_then(|s| s.parse().ok());
    r.loss_scale = tf.metadata.get("loss_scale").and_then(|v| {
        let (a, b) = v.split_once(',')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    });
    log.info(format!(
        "Resumed optimizer state (step {step}) and {} pseudo-labelled wells from {}",
        r.pl.added.len(),
        sp.display()
    ));
    Ok(r)
}

/// An epoch's training sums, for its metrics row and log lines.
struct EpochSums {
    loss: f64,
    acc: f64,
    batches: usize,
    /// The learning rate of the last batch.
    lr: f64,
    /// Seconds from the first batch to the end of the epoch.
    elapsed: f64,
    /// Seconds of model steps, and waiting for data.
    step_time: f64,
    wait: f64,
}

/// One epoch of augmented, mixed batches over the training rows of
/// `state`, labelled by `infos`: forward, loss, backward, and an optimizer
/// step every `--gradient-accumulation` batches; fails when the loss
/// diverges.
fn train_epoch(
    net: &Network,
    data: &Data,
    classes: i64,
    state: &RunState,
    infos: Arc<HashMap<u32, SiteInfo>>,
    epoch: u32,
    st: &mut Stepper,
    o: &TrainOptions,
    log: &Log,
) -> Result<EpochSums, TrainError> {
    let n_ct = data.index.cell_types.len();
    let rows: Vec<u32> = state.train_labels.keys().copied().collect();
    let lo = LoaderOptions {
        batch_size: o.batch_size,
        shuffle: true,
        drop_last: true,
        seed: o.seed,
        epoch,
        augment: Some(o.augment),
        threads: o.threads,
        cell_types: n_ct,
    };
    let loader = load(&data.tensors, &rows, infos, &lo);
    let total = loader.total.max(1);
    if loader.total == 0 {
        return Err(TrainError::Data(format!(
            "the training set ({} sites) holds less than one batch of {}",
            rows.len(),
            o.batch_size
        )));
    }
    st.opt.zero_grad();
    let (mut cum_loss, mut cum_acc, mut cum_n) = (0.0, 0.0, 0usize);
    let (mut ep_loss, mut ep_acc, mut ep_n) = (0.0, 0.0, 0usize);
    let mut lr = 0.0;
    let mut tic = Instant::now();
    let epoch_tic = Instant::now();
    let (mut wait, mut step_time) = (0.0f64, 0.0f64);
    let bar = Progress::new(
        format!("epoch {}/{}", epoch + 1, o.epochs),
        total as u64,
        "batches",
        log.shows(Level::Info),
    );
    let mut loader = loader.enumerate();
    loop {
        let t0 = Instant::now();
        let Some((i, b)) = loader.next() else { break };
        let b = b?;
        let t1 = Instant::now();
        wait += (t1 - t0).as_secs_f64();
        lr = o.lr.at(epoch as f64 + i as f64 / total as f64, o.epochs);
        let n = b.rows.len() as i64;
        let mut x = Tensor::from_slice(&b.x)
            .view([n, 6, b.size as i64, b.size as i64])
            .to_device(o.device);
        let mut s = Tensor::from_slice(&b.cell)
            .view([n, n_ct as i64])
            .to_device(o.device);
        let labels = Tensor::from_slice(&b.labels).to_device(o.device);
        let mut y = crate::mixing::smooth_labels(&labels, classes, o.label_smoothing);
        // The batch's mixing draws: seeded by (seed, epoch, batch), apart from the samples' streams.
        let mut rng = crate::augment::sample_rng(o.seed ^ 0x6d69_7869_6e67, epoch, i as u64);
        tch::no_grad(|| crate::mixing::mix(&mut x, &mut s, &mut y, o.mixup, o.cutmix, &mut rng));
        let out = tch::autocast(st.precision.autocast(), || net.forward_t(&x, &s, true));
        let loss = crate::loss::total_loss(&out.logits, &out.cosines, &y, o.metric_loss_coeff);
        (&loss * st.scaler.scale()).backward();
        let acc = crate::loss::accuracy(&out.logits, &y);
        let lv = loss.double_value(&[]);
        if let Err(run) = st.guard.check(lv) {
            let what = if run == 1 {
                format!("the training loss is {lv}")
            } else {
                format!(
                    "the training loss has not been finite for {run} batches in a row ({})",
                    st.precision.name()
                )
            };
            return Err(TrainError::Data(format!(
                "epoch {epoch}, batch {} of {total}: {what}: training diverged; no checkpoint of epoch {epoch} is published (a lower --lr may help)",
                i + 1
            )));
        }
        if (i + 1) % o.gradient_accumulation.max(1) == 0 {
            if let StepOutcome::Skipped { scale } = st.scaler.step(&mut st.opt, lr) {
                log.info(format!(
                    "mixed precision: non-finite gradients, step skipped, loss scale -> {scale}"
                ));
            }
            st.opt.zero_grad();
        }
        step_time += t1.elapsed().as_secs_f64();
        cum_loss += lv;
        cum_acc += acc;
        cum_n += 1;
        ep_loss += lv;
        ep_acc += acc;
        ep_n += 1;
        bar.set_message(progress_message(
            &epoch_tic,
            i + 1,
            total,
            epoch,
            o,
            lv,
            acc,
        ));
        bar.inc(1);
        if (i + 1) % o.disp_batches.max(1) == 0 {
            log.info(format!(
                "Epoch: {epoch:3} Iter: {:4}  ->  speed: {:6.1}   lr: {lr:.9}   loss: {:.6}   acc: {:.6}",
                i + 1,
                (cum_n * o.batch_size) as f64 / tic.elapsed().as_secs_f64(),
                cum_loss / cum_n as f64,
                cum_acc / cum_n as f64
            ));
            (cum_loss, cum_acc, cum_n) = (0.0, 0.0, 0);
            tic = Instant::now();
        }
    }
    bar.finish();
    Ok(EpochSums {
        loss: ep_loss,
        acc: ep_acc,
        batches: ep_n,
        lr,
        elapsed: epoch_tic.elapsed().as_secs_f64(),
        step_time,
        wait,
    })
}

/// The epoch's training metrics row and its log lines.
fn record_training(
    epoch: u32,
    sums: &EpochSums,
    pl_added: Option<u32>,
    state: &mut RunState,
    o: &TrainOptions,
    log: &Log,
) {
    let EpochSums {
        loss: ep_loss,
        acc: ep_acc,
        batches: ep_n,
        lr,
        elapsed,
        step_time,
        wait,
    } = *sums;
    let samples = (ep_n * o.batch_size) as u64;
    let speed = samples as f64 / elapsed;
    state.rows.push(MetricRow {
        epoch,
        scope: "train".into(),
        loss: Some(ep_loss / ep_n.max(1) as f64),
        accuracy: Some(ep_acc / ep_n.max(1) as f64),
        samples,
        lr: Some(lr),
        pseudo_labels: pl_added,
    });
    log.info(format!(
        "Train: epoch {epoch} loss {:.6} acc {:.6} speed {speed:.1} samples/s",
        ep_loss / ep_n.max(1) as f64,
        ep_acc / ep_n.max(1) as f64
    ));
    log.info(format!(
        "Timing: epoch {epoch} model step {:.1} samples/s ({step_time:.2} s), waiting for data {wait:.2} s",
        samples as f64 / step_time.max(1e-9)
    ));
}

/// The training progress line's message after `done` of `total` batches
/// of `epoch`: samples/s, the batch's loss and accuracy, and the time left
/// for the run's training batches (validation not counted).
fn progress_message(
    epoch_tic: &Instant,
    done: usize,
    total: usize,
    epoch: u32,
    o: &TrainOptions,
    loss: f64,
    acc: f64,
) -> String {
    let per_batch = epoch_tic.elapsed().as_secs_f64() / done.max(1) as f64;
    let left = total - done.min(total) + total * (o.epochs.saturating_sub(epoch + 1)) as usize;
    format!(
        "{:.1} samples/s, loss {loss:.4}, acc {acc:.4}, run eta {}",
        o.batch_size as f64 / per_batch.max(1e-9),
        duration_text(left as f64 * per_batch)
    )
}

/// The epoch's validation accuracy (overall and per cell type) into the
/// metrics rows and the log; None without validation sites.
fn validate_epoch(
    net: &Network,
    data: &Data,
    splits: &Splits,
    infos: &Arc<HashMap<u32, SiteInfo>>,
    epoch: u32,
    state: &mut RunState,
    o: &TrainOptions,
    log: &Log,
) -> Result<Option<f64>, TrainError> {
    if splits.val.is_empty() {
        return Ok(None);
    }
    let (acc, by) = validate(net, data, splits, infos, o)?;
    log.info(format!(
        "Epoch {epoch} val acc: {acc:.6} {}",
        by.iter()
            .map(|(k, v)| format!("{k}: {v:.6}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    state.rows.push(MetricRow {
        epoch,
        scope: "val".into(),
        loss: None,
        accuracy: Some(acc),
        samples: splits.val.len() as u64,
        lr: None,
        pseudo_labels: None,
    });
    for (k, v) in &by {
        state.rows.push(MetricRow {
            epoch,
            scope: format!("val:{k}"),
            loss: None,
            accuracy: Some(*v),
            samples: 0,
            lr: None,
            pseudo_labels: None,
        });
    }
    Ok(Some(acc))
}

/// Where and from what every epoch's checkpoints are written.
struct Saver<'a> {
    /// `--save NAME`.
    save: &'a Path,
    vs: &'a VarStore,
    config: &'a ModelConfig,
    options_json: &'a str,
}

impl Saver<'_> {
    /// The epoch's checkpoint `NAME.<epoch>`, the best `NAME` when the
    /// epoch's score is the best so far, the metrics table, and last the
    /// `.state` (optimizer, loss scale, pseudo-labels, best score), whose
    /// presence marks the epoch complete; nothing when a variable is not
    /// finite.
    fn save_epoch(
        &self,
        epoch: u32,
        acc: Option<f64>,
        state: &mut RunState,
        st: &Stepper,
        o: &TrainOptions,
        log: &Log,
    ) -> Result<(), TrainError> {
        let (save, vs, config) = (self.save, self.vs, self.config);
        let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
        if let Some(name) = first_non_finite(&vars) {
            return Err(TrainError::Data(format!(
                "epoch {epoch}: variable {name} is not finite after training: training diverged; no checkpoint of epoch {epoch} is published (a lower --lr may help)"
            )));
        }
        let mut meta = BTreeMap::new();
        meta.insert("rcic.train".to_string(), self.options_json.to_string());
        meta.insert("epoch".to_string(), epoch.to_string());
        meta.insert("seed".to_string(), o.seed.to_string());
        if let Some(a) = acc {
            meta.insert("accuracy".to_string(), a.to_string());
        }
        let path = PathBuf::from(format!("{}.{epoch}", save.display()));
        save_checkpoint(&path, vs, config, &meta)?;
        let mut tensors: BTreeMap<String, RawTensor> = BTreeMap::new();
        for (k, t) in st.opt.state() {
            tensors.insert(k, RawTensor::from_tch(&t.to_device(Device::Cpu)));
        }
        let is_best = match (acc, state.best) {
            (Some(a), Some(b)) => a >= b,
            _ => true,
        };
        if is_best {
            state.best = acc.or(state.best);
        }
        let mut smeta = BTreeMap::new();
        smeta.insert("step".to_string(), st.opt.step.to_string());
        let (scale, good) = st.scaler.state();
        smeta.insert("loss_scale".to_string(), format!("{scale},{good}"));
        smeta.insert(
            "pl".to_string(),
            serde_json::to_string(&state.pl).expect("json"),
        );
        if let Some(b) = state.best {
            smeta.insert("best".to_string(), b.to_string());
        }
        if is_best {
            log.info(format!(
                "Saving best to {} with score {}",
                save.display(),
                acc.map_or("n/a (no validation)".into(), |a| format!("{a}"))
            ));
            save_checkpoint(save, vs, config, &meta)?;
        }
        let mp = PathBuf::from(format!("{}.metrics.parquet", save.display()));
        metrics::write(&mp, &state.rows, o.seed, o.cv_number)?;
        // The .state last: its presence says the epoch is complete (what
        // --resume looks for).
        let bytes = rcic_model::safetensors::to_bytes(&tensors, &smeta);
        write_atomic(&state_path(&path), &bytes)?;
        for problem in o.retention.apply(save, epoch) {
            log.warn(problem);
        }
        Ok(())
    }
}

/// The training loop on the network of [`prepare_network`].
pub fn train(
    data: &Data,
    config: &ModelConfig,
    (vs, net): (VarStore, Network),
    o: &TrainOptions,
    load_ckpt: Option<(&Path, &Checkpoint)>,
    options_json: &str,
    log: &Log,
) -> Result<Outcome, TrainError> {
    // The sets, the sites' statistics, the optimizer and what a resume restores.
    let folds = Folds::new(&data.index, o.data_split_seed);
    let splits = build(&data.index, &folds, o.cv_number, o.all_controls_train)?;
    log.info(format!("Train dataset: {:?}", splits.train_experiments));
    log.info(format!("Val dataset: {:?}", splits.val_experiments));
    log.info(format!(
        "train dataset size: data: {}, val: {}",
        splits.train.len(),
        splits.val.len()
    ));
    let infos = Arc::new(site_infos(data, o.normalization)?);
    let train_labels: BTreeMap<u32, u32> = splits
        .train
        .iter()
        .map(|s| (row_of(s.well, s.site), s.label))
        .collect();
    let mut opt = crate::optimizer::Adam::new(named_trainable(&vs), o.wd);
    let resumed = resume(load_ckpt, &mut opt, o, log)?;
    let mut state = RunState {
        train_labels,
        pl: resumed.pl,
        best: resumed.best,
        rows: Vec::new(),
    };
    state.add_pseudo_labels();
    let precision = Precision::resolve(o.fp16, o.bf16, o.device);
    precision.activate();
    if precision.autocast() {
        log.info(format!("mixed precision: autocast in {}", precision.name()));
    }
    let mut scaler = LossScaler::new(precision);
    if let Some((scale, good)) = resumed.loss_scale {
        scaler.restore(scale, good);
    }
    let mut stepper = Stepper {
        opt,
        scaler,
        guard: LossGuard::new(precision),
        precision,
    };
    let saver = o.save.as_deref().map(|save| Saver {
        save,
        vs: &vs,
        config,
        options_json,
    });
    for epoch in o.start_epoch..o.epochs {
        // A pseudo-labelling round from --pl-epoch on.
        let mut pl_added = None;
        if o.pl_epoch.is_some_and(|e| epoch >= e) {
            log.info("Starting pseudo-labeling");
            let n = pseudo_label_round(
                &net,
                data,
                &splits,
                &state.train_labels,
                &mut state.pl,
                &infos,
                epoch,
                o,
                log,
            )?;
            state.add_pseudo_labels();
            pl_added = Some(n as u32);
        }
        // The epoch's training, with the pseudo-labels as labels.
        let epoch_infos: Arc<HashMap<u32, SiteInfo>> = Arc::new({
            let mut m = (*infos).clone();
            for (&r, &l) in &state.train_labels {
                if let Some(i) = m.get_mut(&r) {
                    i.label = l as i64;
                }
            }
            m
        });
        let sums = train_epoch(
            &net,
            data,
            config.classes,
            &state,
            epoch_infos,
            epoch,
            &mut stepper,
            o,
            log,
        )?;
        record_training(epoch, &sums, pl_added, &mut state, o, log);
        // Validation, then the epoch's checkpoints.
        let acc = validate_epoch(&net, data, &splits, &infos, epoch, &mut state, o, log)?;
        if let Some(s) = &saver {
            s.save_epoch(epoch, acc, &mut state, &stepper, o, log)?;
        }
    }
    Ok(Outcome {
        best_accuracy: state.best,
        last_epoch: o.epochs.saturating_sub(1),
    })
}

/// Data-path throughput alone: one epoch of the training loader (read,
/// augment, normalise) without the model, and the per-sample split of its
/// time (see [`crate::databench`]).
pub fn bench_data_path(
    data: &Data,
    o: &TrainOptions,
) -> Result<crate::databench::DataPathBench, TrainError> {
    let folds = Folds::new(&data.index, o.data_split_seed);
    let splits = build(&data.index, &folds, o.cv_number, o.all_controls_train)?;
    let infos = Arc::new(site_infos(data, o.normalization)?);
    let rows: Vec<u32> = splits
        .train
        .iter()
        .map(|s| row_of(s.well, s.site))
        .collect();
    let lo = LoaderOptions {
        batch_size: o.batch_size,
        shuffle: true,
        drop_last: true,
        seed: o.seed,
        epoch: 0,
        augment: Some(o.augment),
        threads: o.threads,
        cell_types: data.index.cell_types.len(),
    };
    crate::databench::run(&data.tensors, &rows, infos, &lo)
}
