//! docs/method.md section 9 end to end: read and check every prediction file's
//! keys (polars joins, [`crate::table`]), stream their logits experiment by
//! experiment, weighted and summed ([`crate::combine`]), choose each
//! experiment's plate groups and assign its plates' classes as soon as its
//! sums are complete, then score every step and produce the submission rows
//! and the report. Logs the reference's lines (with timestamps), and the
//! seconds of each phase. Writes nothing: the caller publishes the outcome.

use std::path::PathBuf;
use std::time::Instant;

use rcic_cli::log::Log;
use rcic_core::{AliasConfig, DatasetIndex, IndexOptions, LabelSource};

use polars::prelude::DataFrame;

use crate::assign::{solve_plates, PlateTime};
use crate::combine::{stream, BlockView, Ensemble, StreamError};
use crate::error::{EnsembleError, Result};
use crate::groups::{assign_groups, group_classes, restricted_argmax, GroupChoice};
use crate::read::{PredFile, PredSplit};
use crate::scores::{pooled, score, Score};
use crate::table::{check_rows, dataset_frame, FileRows};

/// What the ensemble is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub data: PathBuf,
    pub files: Vec<PathBuf>,
    /// One per file; None: all 1.
    pub weights: Option<Vec<f64>>,
    pub truth: Option<PathBuf>,
    pub aliases: AliasConfig,
    /// Beyond the reference: per-site `log_softmax(logits / T)` before summing.
    pub temperature: Option<f64>,
    /// Beyond the reference: Sinkhorn iterations per plate before assignment.
    pub sinkhorn: Option<usize>,
    /// Beyond the reference: test wells with a layout-alias label get it.
    pub use_alias_labels: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    pub path: String,
    pub weight: f64,
    pub classes: usize,
    pub rows: usize,
    pub control_rows: usize,
    pub val_wells: usize,
    pub test_wells: usize,
    pub val: Score,
    pub test: Option<Score>,
}

/// One step of section 9 with its scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub name: String,
    /// The reference's log label.
    pub label: String,
    pub val: Score,
    /// Against the truth file, when given.
    pub test: Option<Score>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LsaReport {
    pub plates: usize,
    /// Wall time of all plates (parallel).
    pub wall_seconds: f64,
    /// Sum of the per-plate times.
    pub plate_seconds: f64,
    pub max_plate_seconds: f64,
    pub threads: usize,
}

/// Every score the ensemble logs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub tool: String,
    pub data: String,
    pub treatments: usize,
    pub classes: usize,
    pub plate_groups: usize,
    pub options: serde_json::Value,
    pub files: Vec<FileReport>,
    pub steps: Vec<Step>,
    pub group_assignment: Vec<GroupChoice>,
    pub lsa: LsaReport,
    pub submission_rows: usize,
    pub seconds: f64,
}

pub struct Outcome {
    pub report: Report,
    /// `(id_code, sirna)` sorted by id_code.
    pub submission: Vec<(String, u32)>,
}

/// Wall time of each phase, logged at the end: where the time goes.
struct Phases {
    last: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new() -> Self {
        Phases {
            last: Instant::now(),
            done: Vec::new(),
        }
    }

    /// Ends the phase `name` (started at the previous mark).
    fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.done
            .push((name, now.duration_since(self.last).as_secs_f64()));
        self.last = now;
    }

    fn line(&self) -> String {
        let parts: Vec<String> = self
            .done
            .iter()
            .map(|(n, s)| format!("{n} {s:.3}"))
            .collect();
        format!("phase seconds: {}", parts.join(", "))
    }
}

/// What each experiment block gives while streaming (steps 3 and 4).
#[derive(Default)]
struct BlockResults {
    /// (split index, its group choice).
    choices: Vec<(usize, GroupChoice)>,
    /// Per split, per ensemble well: the argmax within its group, and the
    /// class assigned.
    restricted: [Vec<u32>; 2],
    pred: [Vec<u32>; 2],
    times: Vec<PlateTime>,
    /// Seconds spent solving plates.
    lsa_wall: f64,
}

/// A read file checked against the dataset: enough classes, rows that match.
fn checked(f: PredFile, ds: &DataFrame, treatments: usize) -> Result<(PredFile, FileRows)> {
    if f.classes < treatments {
        return Err(EnsembleError::input(
            &f.path,
            format!(
                "{} classes; the dataset has {treatments} treatment classes",
                f.classes
            ),
        ));
    }
    let rows = check_rows(ds, &f)?;
    Ok((f, rows))
}

/// Every file must have the classes of the first.
fn same_classes(files: &[(PredFile, FileRows)], f: &PredFile) -> Result<()> {
    match files.first() {
        Some((first, _)) if f.classes != first.classes => Err(EnsembleError::input(
            &f.path,
            format!(
                "{} classes, but {} has {}; expected every file to have the same classes",
                f.classes,
                first.path.display(),
                first.classes
            ),
        )),
        _ => Ok(()),
    }
}

/// The most Sinkhorn iterations `--sinkhorn` accepts: balancing converges
/// in tens to hundreds of rounds, and each round of a real plate (277 wells
/// x 1108 classes) costs about a millisecond, so this bounds a plate to
/// about ten seconds.
pub const MAX_SINKHORN: usize = 10_000;

/// Checks the options that need no file read: one or more files, none
/// given twice (same file by any path), one finite positive weight per
/// file, a positive temperature, at most [`MAX_SINKHORN`] iterations.
pub fn check_options(opts: &Options) -> Result<()> {
    if opts.files.is_empty() {
        return Err(EnsembleError::Usage(
            "no prediction files given; expected one or more PRED".into(),
        ));
    }
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
    for f in &opts.files {
        let r = rcic_cli::paths::resolve(f);
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == r) {
            return Err(EnsembleError::Usage(format!(
                "prediction file {} is given twice (also as {}); give each file once and weight it with -w",
                f.display(),
                first.display()
            )));
        }
        seen.push((r, f));
    }
    if let Some(w) = &opts.weights {
        if w.len() != opts.files.len() {
            return Err(EnsembleError::Usage(format!(
                "-w gives {} weight(s) for {} prediction file(s); expected one weight per file",
                w.len(),
                opts.files.len()
            )));
        }
        if let Some(x) = w.iter().find(|x| !(x.is_finite() && **x > 0.0)) {
            return Err(EnsembleError::Usage(format!(
                "-w/--weights: weight {x}; expected a finite number > 0 per file"
            )));
        }
    }
    if let Some(t) = opts.temperature.filter(|t| !(t.is_finite() && *t > 0.0)) {
        return Err(EnsembleError::Usage(format!(
            "--temperature {t}: expected a positive number"
        )));
    }
    if let Some(n) = opts.sinkhorn.filter(|&n| n > MAX_SINKHORN) {
        return Err(EnsembleError::Usage(format!(
            "--sinkhorn {n}: expected at most {MAX_SINKHORN} iterations"
        )));
    }
    Ok(())
}

/// Runs section 9.
pub fn run(opts: &Options, log: &Log) -> Result<Outcome> {
    let t0 = Instant::now();
    let mut ph = Phases::new();
    check_options(opts)?;
    let weights = opts
        .weights
        .clone()
        .unwrap_or_else(|| vec![1.0; opts.files.len()]);

    // The dataset index, and meanwhile (with threads to spare) the keys of
    // every prediction file.
    log.info("Loading dataset");
    use rayon::prelude::*;
    let (index, keys) = rayon::join(
        || {
            DatasetIndex::load(
                &opts.data,
                &IndexOptions {
                    aliases: opts.aliases.clone(),
                    ..Default::default()
                },
            )
        },
        || {
            opts.files
                .par_iter()
                .map(|path| PredFile::read_keys(path))
                .collect::<Vec<_>>()
        },
    );
    let index = index?;
    ph.mark("index+keys");
    let ids: Vec<String> = index.wells.iter().map(|w| index.id_code(w)).collect();
    let treatments = index.treatments as usize;
    let ds = dataset_frame(&index, &ids)?;
    let truth = match &opts.truth {
        None => None,
        Some(p) => {
            let t = crate::truth::read_truth(p)?;
            let missing: Vec<&str> = index
                .wells
                .iter()
                .enumerate()
                .filter(|(_, w)| {
                    index.experiments[w.experiment].split == rcic_core::Split::Test
                        && w.well_type == rcic_core::WellType::Treatment
                })
                .map(|(i, _)| ids[i].as_str())
                .filter(|id| !t.contains_key(*id))
                .collect();
            if !missing.is_empty() {
                return Err(EnsembleError::input(
                    p,
                    format!(
                        "{} test well(s) have no truth, e.g. {}",
                        missing.len(),
                        missing[0]
                    ),
                ));
            }
            Some(t)
        }
    };
    ph.mark("dataset");
    let val_label = |w: usize| index.wells[w].label;
    let truth_label = |w: usize| truth.as_ref().and_then(|t| t.get(&ids[w]).copied());

    // Read and check every file's keys before any arithmetic, in parallel;
    // errors are reported for the first failing file in command-line order,
    // worded as reading the whole file would (its logits checked first).
    log.info("Loading predictions");
    let keys: Vec<Result<(PredFile, FileRows)>> = keys
        .into_par_iter()
        .map(|k| checked(k?, &ds, treatments))
        .collect();
    let mut files: Vec<(PredFile, FileRows)> = Vec::with_capacity(keys.len());
    for (k, r) in keys.into_iter().enumerate() {
        let e = match r.and_then(|(f, rows)| same_classes(&files, &f).map(|_| (f, rows))) {
            Ok(x) => {
                files.push(x);
                continue;
            }
            Err(e) => e,
        };
        // The logits of this file or of an earlier one may hold the first
        // error.
        for path in &opts.files[..=k] {
            checked(PredFile::read(path)?, &ds, treatments)?;
        }
        return Err(e);
    }
    let classes = files[0].0.classes;
    if classes != index.classes as usize {
        log.info(format!(
            "note: files have {classes} classes, the dataset {} (treatments {treatments} are used)",
            index.classes
        ));
    }
    ph.mark("check");

    // Plate groups: the group of every treatment class, and each group's
    // classes (ascending, and as a mask).
    let ngroups = index.groups.groups.len();
    let mut class_group: Vec<Option<usize>> = vec![None; treatments];
    for (g, set) in index.groups.groups.iter().enumerate() {
        for &c in set {
            if let Some(x) = class_group.get_mut(c as usize) {
                *x = Some(g);
            }
        }
    }
    let members = group_classes(&class_group, ngroups);
    let masks: Vec<Vec<bool>> = (0..ngroups)
        .map(|g| class_group.iter().map(|&x| x == Some(g)).collect())
        .collect();
    let no_class = vec![false; treatments];
    let truth_group = |w: usize| {
        truth_label(w)
            .or(val_label(w))
            .and_then(|s| class_group.get(s as usize).copied().flatten())
    };

    // What the wells allow: at most one plate per group in an experiment
    // (when there are groups), at most one well per class on a plate.
    let layout = |files: &[(PredFile, FileRows)]| {
        let rows: Vec<&FileRows> = files.iter().map(|(_, r)| r).collect();
        Ensemble::new(&index, &rows, &ids, treatments)
    };
    let ens0 = layout(&files);
    let split_plates = [
        crate::assign::plates(&index, &ens0.val.wells),
        crate::assign::plates(&index, &ens0.test.wells),
    ];
    if ngroups > 0 {
        for pl in &split_plates {
            let mut plates_of: std::collections::BTreeMap<&str, usize> =
                std::collections::BTreeMap::new();
            for (e, _) in pl.keys() {
                *plates_of.entry(e.as_str()).or_default() += 1;
            }
            if let Some((e, n)) = plates_of.iter().find(|(_, &n)| n > ngroups) {
                return Err(EnsembleError::Usage(format!(
                    "experiment {e} has {n} plates but the dataset has {ngroups} plate groups"
                )));
            }
        }
    }
    for pl in &split_plates {
        if let Some(((e, p), pos)) = pl.iter().find(|(_, pos)| pos.len() > treatments) {
            return Err(EnsembleError::Usage(format!(
                "experiment {e} plate {p} has {} treatment wells but there are only {treatments} treatment classes; expected at most one well per class",
                pos.len()
            )));
        }
    }
    drop(split_plates);

    // Steps 1 to 4, streamed: every file's logits summed per well, weighted
    // and added into the ensemble, one experiment at a time; each complete
    // experiment gets its plate groups and its per-plate assignment. A file
    // the direct decoder does not read is read whole (which also words an
    // invalid file's error), and everything starts again.
    let weights32: Vec<f32> = weights.iter().map(|&w| w as f32).collect();
    let mut ens = ens0;
    let (sums, out) = loop {
        let mut out = BlockResults {
            restricted: [vec![0; ens.val.wells.len()], vec![0; ens.test.wells.len()]],
            pred: [vec![0; ens.val.wells.len()], vec![0; ens.test.wells.len()]],
            ..Default::default()
        };
        let on_block = |b: BlockView| -> Result<()> {
            let (si, name) = match b.split {
                PredSplit::Val => (0, "val"),
                PredSplit::Test => (1, "test"),
            };
            // Step 3: the experiment's plate groups.
            let mut well_group = Vec::new();
            if ngroups > 0 {
                let (choices, wg) = assign_groups(
                    &index,
                    name,
                    &b.wells,
                    &b.argmax,
                    &class_group,
                    ngroups,
                    &truth_group,
                );
                for (k, &g) in wg.iter().enumerate() {
                    out.restricted[si][b.positions[k]] =
                        restricted_argmax(b.row(k), members.get(g).map_or(&[], Vec::as_slice))
                            as u32;
                }
                out.choices.extend(choices.into_iter().map(|c| (si, c)));
                well_group = wg;
            } else {
                for (k, &a) in b.argmax.iter().enumerate() {
                    out.restricted[si][b.positions[k]] = a;
                }
            }
            // Step 4: its plates' assignments.
            let t = Instant::now();
            let plates: Vec<((String, u8), Vec<usize>)> = crate::assign::plates(&index, &b.wells)
                .into_iter()
                .collect();
            let experiment = plates
                .first()
                .map(|((e, _), _)| e.clone())
                .unwrap_or_default();
            let plates: Vec<(u8, Vec<usize>)> =
                plates.into_iter().map(|((_, p), ks)| (p, ks)).collect();
            let mask = |k: usize| -> Option<&[bool]> {
                (ngroups > 0).then(|| {
                    masks
                        .get(well_group[plates[k].1[0]])
                        .map_or(no_class.as_slice(), Vec::as_slice)
                })
            };
            let solved = solve_plates(&experiment, &plates, &|k| b.row(k), &mask, opts.sinkhorn);
            for ((_, ks), (cols, time)) in plates.iter().zip(solved) {
                for (&k, c) in ks.iter().zip(cols) {
                    out.pred[si][b.positions[k]] = c as u32;
                }
                out.times.push(time);
            }
            out.lsa_wall += t.elapsed().as_secs_f64();
            Ok(())
        };
        let pf: Vec<&PredFile> = files.iter().map(|(f, _)| f).collect();
        let pr: Vec<&FileRows> = files.iter().map(|(_, r)| r).collect();
        let err = match stream(
            &mut ens,
            &pf,
            &pr,
            &weights32,
            opts.temperature,
            &ids,
            rayon::current_num_threads() > 1,
            on_block,
        ) {
            Ok(sums) => break (sums, out),
            Err(e) => e,
        };
        // The first error in file order, as reading the files whole words it.
        let (fi, e) = match err {
            StreamError::Row(fi, e) => (fi, e),
            StreamError::Fallback(fi, why) if files[fi].0.whole => (
                fi,
                EnsembleError::input(&opts.files[fi], format!("cannot decode: {why}")),
            ),
            StreamError::Fallback(fi, why) => match PredFile::read(&opts.files[fi]) {
                Ok(whole) => {
                    log.info(format!(
                        "note: {} read with the Arrow reader ({why})",
                        whole.path.display()
                    ));
                    files[fi].0 = whole;
                    ens = layout(&files);
                    continue;
                }
                Err(e) => (fi, e),
            },
        };
        for path in &opts.files[..fi] {
            checked(PredFile::read(path)?, &ds, treatments)?;
        }
        return Err(e);
    };
    let BlockResults {
        mut choices,
        restricted: [val_restricted, test_restricted],
        pred: [val_pred, mut test_pred],
        times,
        lsa_wall,
    } = out;
    ph.mark("stream+groups+lsa");

    let mut file_reports = Vec::new();
    for (((f, rows), s), &w) in files.iter().zip(&sums).zip(&weights) {
        let vs = score(&index, &s.val.wells, &s.val.argmax, &val_label)?;
        let ts = truth
            .as_ref()
            .map(|_| score(&index, &s.test.wells, &s.test.argmax, &truth_label))
            .transpose()?;
        log.info(format!(
            "File {} -> score: {vs}{}",
            f.path.display(),
            ts.as_ref()
                .map(|t| format!("  test: {t}"))
                .unwrap_or_default()
        ));
        file_reports.push(FileReport {
            path: f.path.display().to_string(),
            weight: w,
            classes: f.classes,
            rows: f.rows(),
            control_rows: rows.control_rows,
            val_wells: s.val.wells.len(),
            test_wells: s.test.wells.len(),
            val: vs,
            test: ts,
        });
    }
    drop(files);

    // Step 2: average (every file's weighted argmaxes pooled) and ensemble
    // accuracy.
    let pool = |sp: PredSplit| -> Vec<(&[usize], &[u32])> {
        sums.iter()
            .map(|s| {
                let f = s.split(sp);
                (f.wells.as_slice(), f.weighted_argmax.as_slice())
            })
            .collect()
    };
    let avg_val = pooled(&index, &pool(PredSplit::Val), &val_label)?;
    let avg_test = truth
        .as_ref()
        .map(|_| pooled(&index, &pool(PredSplit::Test), &truth_label))
        .transpose()?;
    let mut steps = Vec::new();
    let mut step = |log: &Log, name: &str, label: &str, val: Score, test: Option<Score>| {
        log.info(format!(
            "{:<37}{val}{}",
            format!("{label}:"),
            test.as_ref()
                .map(|t| format!("  test: {t}"))
                .unwrap_or_default()
        ));
        steps.push(Step {
            name: name.into(),
            label: label.into(),
            val,
            test,
        });
    };
    log.info("Evaluating...");
    step(log, "average", "Average score", avg_val, avg_test);
    let (val, test) = (&ens.val, &ens.test);
    let score_both = |val: &[u32], test: &[u32]| -> Result<(Score, Option<Score>)> {
        Ok((
            score(&index, &ens.val.wells, val, &val_label)?,
            truth
                .as_ref()
                .map(|_| score(&index, &ens.test.wells, test, &truth_label))
                .transpose()?,
        ))
    };
    let (v, t) = score_both(&val.argmax, &test.argmax)?;
    step(log, "ensemble", "Score after ensemble", v, t);

    // Step 3: plate groups (chosen per experiment while streaming).
    let mut group_assignment = Vec::new();
    if ngroups == 0 {
        log.info("no plate groups in the dataset (no labelled plates): skipping the group step");
    } else {
        choices.sort_by(|a, b| (a.0, &a.1.experiment).cmp(&(b.0, &b.1.experiment)));
        for (_, c) in choices {
            log.info(format!(
                "groups: {:8} -> {:?} ( score: {:.5}  conf: {:.5} ) {}{}  size: {}",
                c.experiment,
                c.permutation,
                c.score,
                c.margin,
                c.status.as_str(),
                c.truth_status
                    .map(|s| format!(" (truth: {})", s.as_str()))
                    .unwrap_or_default(),
                c.wells
            ));
            group_assignment.push(c);
        }
    }
    let (v, t) = score_both(&val_restricted, &test_restricted)?;
    step(
        log,
        "plate_groups",
        "Score after retaining plate classes",
        v,
        t,
    );

    // Step 4: per-plate assignment (solved per experiment while streaming).
    let lsa = lsa_report(&times, lsa_wall);
    let (val, test) = (&ens.val, &ens.test);
    let v = score(&index, &val.wells, &val_pred, &val_label)?;
    let t = truth
        .as_ref()
        .map(|_| score(&index, &test.wells, &test_pred, &truth_label))
        .transpose()?;
    step(
        log,
        "assignment",
        "Score after linear sum assignment",
        v.clone(),
        t,
    );
    log.info(format!(
        "linear sum assignment: {} plates in {:.3} s ({} threads; slowest plate {:.4} s)",
        lsa.plates, lsa.wall_seconds, lsa.threads, lsa.max_plate_seconds
    ));
    ph.mark("scores");

    if opts.use_alias_labels {
        let mut changed = 0;
        for (i, &w) in test.wells.iter().enumerate() {
            let r = &index.wells[w];
            if r.label_source == LabelSource::Alias {
                if let Some(l) = r.label {
                    changed += usize::from(test_pred[i] != l);
                    test_pred[i] = l;
                }
            }
        }
        log.info(format!(
            "alias labels: {changed} test well(s) changed to their known layout-alias label"
        ));
        let t = truth
            .as_ref()
            .map(|_| score(&index, &test.wells, &test_pred, &truth_label))
            .transpose()?;
        step(log, "alias_labels", "Score after alias labels", v, t);
    }

    // Step 5: the submission.
    let mut submission: Vec<(String, u32)> = test
        .wells
        .iter()
        .zip(&test_pred)
        .map(|(&w, &p)| (ids[w].clone(), p))
        .collect();
    submission.sort();
    ph.mark("submission");
    log.info(ph.line());
    let report = Report {
        tool: format!("rcic-ensemble {}", env!("CARGO_PKG_VERSION")),
        data: opts.data.display().to_string(),
        treatments,
        classes,
        plate_groups: ngroups,
        options: serde_json::json!({
            "weights": weights,
            "temperature": opts.temperature,
            "sinkhorn": opts.sinkhorn,
            "use_alias_labels": opts.use_alias_labels,
            "truth": opts.truth.as_ref().map(|p| p.display().to_string()),
        }),
        files: file_reports,
        steps,
        group_assignment,
        lsa,
        submission_rows: submission.len(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    Ok(Outcome { report, submission })
}

fn lsa_report(times: &[PlateTime], wall: f64) -> LsaReport {
    LsaReport {
        plates: times.len(),
        wall_seconds: wall,
        plate_seconds: times.iter().map(|t| t.seconds).sum(),
        max_plate_seconds: times.iter().map(|t| t.seconds).fold(0.0, f64::max),
        threads: rayon::current_num_threads(),
    }
}

/// The submission CSV text.
pub fn submission_csv(rows: &[(String, u32)]) -> String {
    let mut s = String::with_capacity(rows.len() * 24 + 16);
    s.push_str("id_code,sirna\n");
    for (id, c) in rows {
        s.push_str(id);
        s.push(',');
        s.push_str(&c.to_string());
        s.push('\n');
    }
    s
}
