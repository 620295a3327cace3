//! REFERENCE section 9 end to end: read and check every prediction file,
//! score each, weight and sum them, choose plate groups, restrict to them,
//! assign classes per plate, and produce the submission rows and every score
//! for the report. Logs the reference's lines (with timestamps) as it goes.
//! Writes nothing: the caller publishes the outcome.

use std::path::PathBuf;
use std::time::Instant;

use rcic_core::{AliasConfig, DatasetIndex, IndexOptions, LabelSource};

use crate::assign::{assign, PlateTime};
use crate::combine::{ensemble, well_sums, WellLogits};
use crate::error::{EnsembleError, Result};
use crate::groups::{assign_groups, restrict, GroupChoice};
use crate::log::Logger;
use crate::read::{PredFile, PredSplit};
use crate::scores::{argmax, pooled, score, Score};
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

fn argmaxes(wl: &WellLogits) -> Vec<u32> {
    (0..wl.len()).map(|i| argmax(wl.row(i)) as u32).collect()
}

/// Runs section 9.
pub fn run(opts: &Options, log: &mut Logger) -> Result<Outcome> {
    let t0 = Instant::now();
    if opts.files.is_empty() {
        return Err(EnsembleError::Usage(
            "no prediction files given; expected one or more PRED".into(),
        ));
    }
    let weights = match &opts.weights {
        None => vec![1.0; opts.files.len()],
        Some(w) if w.len() != opts.files.len() => {
            return Err(EnsembleError::Usage(format!(
                "-w gives {} weight(s) for {} prediction file(s); expected one weight per file",
                w.len(),
                opts.files.len()
            )))
        }
        Some(w) => {
            if let Some(x) = w.iter().find(|x| !x.is_finite()) {
                return Err(EnsembleError::Usage(format!(
                    "-w: weight {x} is not a finite number"
                )));
            }
            w.clone()
        }
    };
    if let Some(t) = opts.temperature.filter(|t| !(t.is_finite() && *t > 0.0)) {
        return Err(EnsembleError::Usage(format!(
            "--temperature {t}: expected a positive number"
        )));
    }

    log.info("Loading dataset");
    let index = DatasetIndex::load(
        &opts.data,
        &IndexOptions {
            aliases: opts.aliases.clone(),
            ..Default::default()
        },
    )?;
    let ids: Vec<String> = index.wells.iter().map(|w| index.id_code(w)).collect();
    let treatments = index.treatments as usize;
    let ds = dataset_frame(&index)?;
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
    let val_label = |w: usize| index.wells[w].label;
    let truth_label = |w: usize| truth.as_ref().and_then(|t| t.get(&ids[w]).copied());

    // Read and check every file before any arithmetic.
    log.info("Loading predictions");
    // Files are read and checked in parallel; errors are reported for the
    // first failing file in command-line order.
    use rayon::prelude::*;
    let read: Vec<Result<(PredFile, FileRows)>> = opts
        .files
        .par_iter()
        .map(|path| {
            let f = PredFile::read(path)?;
            if f.classes < treatments {
                return Err(EnsembleError::input(
                    path,
                    format!(
                        "{} classes; the dataset has {treatments} treatment classes",
                        f.classes
                    ),
                ));
            }
            let rows = check_rows(&ds, &f)?;
            Ok((f, rows))
        })
        .collect();
    let mut files: Vec<(PredFile, FileRows)> = Vec::with_capacity(read.len());
    for r in read {
        let (f, rows) = r?;
        if let Some((first, _)) = files.first() {
            if f.classes != first.classes {
                return Err(EnsembleError::input(
                    &f.path,
                    format!(
                        "{} classes, but {} has {}; expected every file to have the same classes",
                        f.classes,
                        first.path.display(),
                        first.classes
                    ),
                ));
            }
        }
        files.push((f, rows));
    }
    let classes = files[0].0.classes;
    if classes != index.classes as usize {
        log.info(&format!(
            "note: files have {classes} classes, the dataset {} (treatments {treatments} are used)",
            index.classes
        ));
    }

    // Step 1: per-file well sums and validation accuracy.
    let mut sums: Vec<(WellLogits, WellLogits)> = Vec::new();
    let mut file_reports = Vec::new();
    for ((f, rows), &w) in std::mem::take(&mut files).into_iter().zip(&weights) {
        let val = well_sums(
            &f,
            rows.split(PredSplit::Val),
            treatments,
            opts.temperature,
            &ids,
        );
        let test = well_sums(
            &f,
            rows.split(PredSplit::Test),
            treatments,
            opts.temperature,
            &ids,
        );
        let vs = score(&index, &val.wells, &argmaxes(&val), &val_label)?;
        let ts = truth
            .as_ref()
            .map(|_| score(&index, &test.wells, &argmaxes(&test), &truth_label))
            .transpose()?;
        log.info(&format!(
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
            val_wells: val.len(),
            test_wells: test.len(),
            val: vs,
            test: ts,
        });
        sums.push((val, test));
    }

    // Step 2: weights, average and ensemble accuracy.
    let mut weighted = sums;
    for ((v, t), &w) in weighted.iter_mut().zip(&weights) {
        v.scale(w as f32);
        t.scale(w as f32);
    }
    let arg: Vec<(Vec<u32>, Vec<u32>)> = weighted
        .iter()
        .map(|(v, t)| (argmaxes(v), argmaxes(t)))
        .collect();
    let avg_val = pooled(
        &index,
        &weighted
            .iter()
            .zip(&arg)
            .map(|((v, _), (a, _))| (v.wells.as_slice(), a.as_slice()))
            .collect::<Vec<_>>(),
        &val_label,
    )?;
    let avg_test = truth
        .as_ref()
        .map(|_| {
            pooled(
                &index,
                &weighted
                    .iter()
                    .zip(&arg)
                    .map(|((_, t), (_, a))| (t.wells.as_slice(), a.as_slice()))
                    .collect::<Vec<_>>(),
                &truth_label,
            )
        })
        .transpose()?;
    let mut steps = Vec::new();
    let mut step = |log: &mut Logger, name: &str, label: &str, val: Score, test: Option<Score>| {
        log.info(&format!(
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
    let mut val = ensemble(&weighted.iter().map(|(v, _)| v).collect::<Vec<_>>(), &ids);
    let mut test = ensemble(&weighted.iter().map(|(_, t)| t).collect::<Vec<_>>(), &ids);
    drop(weighted);
    let score_both = |val: &WellLogits, test: &WellLogits| -> Result<(Score, Option<Score>)> {
        Ok((
            score(&index, &val.wells, &argmaxes(val), &val_label)?,
            truth
                .as_ref()
                .map(|_| score(&index, &test.wells, &argmaxes(test), &truth_label))
                .transpose()?,
        ))
    };
    let (v, t) = score_both(&val, &test)?;
    step(log, "ensemble", "Score after ensemble", v, t);

    // Step 3: plate groups.
    let ngroups = index.groups.groups.len();
    let mut class_group: Vec<Option<usize>> = vec![None; treatments];
    for (g, set) in index.groups.groups.iter().enumerate() {
        for &c in set {
            if let Some(x) = class_group.get_mut(c as usize) {
                *x = Some(g);
            }
        }
    }
    let mut group_assignment = Vec::new();
    if ngroups == 0 {
        log.info("no plate groups in the dataset (no labelled plates): skipping the group step");
    } else {
        let truth_group = |w: usize| {
            truth_label(w)
                .or(val_label(w))
                .and_then(|s| class_group.get(s as usize).copied().flatten())
        };
        for (name, wl) in [("val", &mut val), ("test", &mut test)] {
            let mut plates_of: std::collections::BTreeMap<String, usize> =
                std::collections::BTreeMap::new();
            for (e, _) in crate::assign::plates(&index, wl).into_keys() {
                *plates_of.entry(e).or_default() += 1;
            }
            if let Some((e, n)) = plates_of.iter().find(|(_, &n)| n > ngroups) {
                return Err(EnsembleError::Usage(format!(
                    "experiment {e} has {n} plates but the dataset has {ngroups} plate groups"
                )));
            }
            let (choices, well_group) =
                assign_groups(&index, name, wl, &class_group, ngroups, &truth_group);
            for c in &choices {
                log.info(&format!(
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
            }
            restrict(wl, &well_group, &class_group);
            group_assignment.extend(choices);
        }
    }
    let (v, t) = score_both(&val, &test)?;
    step(
        log,
        "plate_groups",
        "Score after retaining plate classes",
        v,
        t,
    );

    // Step 4: per-plate assignment.
    let t_lsa = Instant::now();
    let (val_pred, mut times) = assign(&index, &val, opts.sinkhorn)?;
    let (mut test_pred, t2) = assign(&index, &test, opts.sinkhorn)?;
    times.extend(t2);
    let lsa = lsa_report(&times, t_lsa.elapsed().as_secs_f64());
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
    log.info(&format!(
        "linear sum assignment: {} plates in {:.3} s ({} threads; slowest plate {:.4} s)",
        lsa.plates, lsa.wall_seconds, lsa.threads, lsa.max_plate_seconds
    ));

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
        log.info(&format!(
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
