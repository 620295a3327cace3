//! docs/method.md section 9 end to end: the dataset, every prediction file
//! read, checked against it ([`crate::table`]) and added into the ensemble
//! in file order ([`crate::combine`]), then per split the plate groups
//! ([`crate::groups`]) and the per-plate assignment ([`crate::assign`]),
//! every step scored, the submission rows and the report. Logs the
//! reference's lines (with timestamps) and the seconds of each phase.
//! Writes nothing: the caller publishes the outcome.

use std::collections::HashMap;
use std::time::Instant;

use polars::prelude::DataFrame;
use rcic_cli::log::Log;
use rcic_core::ensemble_report::{
    EnsembleOptions, EnsembleReport, FileReport, GroupAssignment, LsaReport, Score, Step,
};
use rcic_core::{DatasetIndex, IndexOptions, LabelSource, Split, WellType};

use crate::assign::{plates, solve_plates, PlateTime};
use crate::combine::{Ensemble, FileSums, Part};
use crate::error::{EnsembleError, Result};
use crate::groups::{assign_groups, group_classes, restricted_argmax};
use crate::options::{check_options, Options};
use crate::read::{PredFile, PredSplit};
use crate::scores::{pooled, score, text};
use crate::table::{check_rows, dataset_frame};

pub struct Outcome {
    pub report: EnsembleReport,
    /// `(id_code, sirna)` sorted by id_code.
    pub submission: Vec<(String, u32)>,
}

/// Wall time of each phase, logged at the end: where the time goes.
struct Phases {
    last: Instant,
    done: Vec<String>,
}

impl Phases {
    /// Ends the phase `name` (started at the previous mark).
    fn mark(&mut self, name: &str) {
        let now = Instant::now();
        let s = now.duration_since(self.last).as_secs_f64();
        self.done.push(format!("{name} {s:.3}"));
        self.last = now;
    }
}

/// The dataset, its wells as a polars table, and the truth file's labels.
struct Dataset {
    index: DatasetIndex,
    ids: Vec<String>,
    frame: DataFrame,
    truth: Option<HashMap<String, u32>>,
}

impl Dataset {
    fn load(opts: &Options) -> Result<Self> {
        let aliases = opts.aliases.clone();
        let index = DatasetIndex::load(
            &opts.data,
            &IndexOptions {
                aliases,
                ..Default::default()
            },
        )?;
        let ids: Vec<String> = index.wells.iter().map(|w| index.id_code(w)).collect();
        let frame = dataset_frame(&index, &ids)?;
        let mut ds = Dataset {
            index,
            ids,
            frame,
            truth: None,
        };
        if let Some(p) = &opts.truth {
            // A test_truth.csv or the public release's metadata.csv.
            let t = rcic_core::truth::read_truth(p)?;
            let missing: Vec<&str> = (0..ds.ids.len())
                .filter(|&w| ds.is_test_treatment(w) && !t.contains_key(&ds.ids[w]))
                .map(|w| ds.ids[w].as_str())
                .collect();
            if let Some(first) = missing.first() {
                let m = format!("{} test well(s) have no truth, e.g. {first}", missing.len());
                return Err(EnsembleError::input(p, m));
            }
            ds.truth = Some(t);
        }
        Ok(ds)
    }

    fn is_test_treatment(&self, w: usize) -> bool {
        let r = &self.index.wells[w];
        self.index.experiments[r.experiment].split == Split::Test
            && r.well_type == WellType::Treatment
    }

    fn val_label(&self, w: usize) -> Option<u32> {
        self.index.wells[w].label
    }

    fn truth_label(&self, w: usize) -> Option<u32> {
        self.truth
            .as_ref()
            .and_then(|t| t.get(&self.ids[w]).copied())
    }

    /// Validation wells scored against their labels, test wells against the
    /// truth file (when given).
    fn scores(&self, wells: [&[usize]; 2], pred: [&[u32]; 2]) -> Result<(Score, Option<Score>)> {
        let val = score(&self.index, wells[0], pred[0], &|w| self.val_label(w))?;
        let test = self
            .truth
            .as_ref()
            .map(|_| score(&self.index, wells[1], pred[1], &|w| self.truth_label(w)))
            .transpose()?;
        Ok((val, test))
    }
}

/// Reads one file and checks it against the dataset: enough classes, rows
/// that match, the classes of the first file (`first`).
fn read_checked(
    ds: &Dataset,
    path: &std::path::Path,
    first: Option<&FileReport>,
) -> Result<(PredFile, crate::table::FileRows)> {
    let f = PredFile::read(path)?;
    let treatments = ds.index.treatments as usize;
    if f.classes < treatments {
        let m = format!(
            "{} classes; the dataset has {treatments} treatment classes",
            f.classes
        );
        return Err(EnsembleError::input(&f.path, m));
    }
    let rows = check_rows(&ds.frame, &f)?;
    match first {
        Some(first) if f.classes != first.classes => Err(EnsembleError::input(
            &f.path,
            format!(
                "{} classes, but {} has {}; expected every file to have the same classes",
                f.classes, first.path, first.classes
            ),
        )),
        _ => Ok((f, rows)),
    }
}

/// Steps 1 and 2: every file read, checked and added into the ensemble in
/// command-line order (the first error in that order is reported). Returns
/// each file's facts (scores still empty) and argmaxes, and the ensemble.
fn read_files(
    ds: &Dataset,
    opts: &Options,
    weights: &[f64],
) -> Result<(Vec<FileReport>, Vec<FileSums>, [Part; 2])> {
    let mut ens = Ensemble::new(ds.ids.len(), ds.index.treatments as usize)?;
    let (mut reports, mut sums) = (Vec::new(), Vec::new());
    for (path, &w) in opts.files.iter().zip(weights) {
        let (f, rows) = read_checked(ds, path, reports.first())?;
        let s = ens.add_file(&f, &rows, w as f32, opts.temperature)?;
        reports.push(FileReport {
            path: f.path.display().to_string(),
            weight: w,
            classes: f.classes,
            rows: f.rows(),
            control_rows: rows.control_rows,
            val_wells: s[0].wells.len(),
            test_wells: s[1].wells.len(),
            val: Score::default(),
            test: None,
        });
        sums.push(s);
    }
    Ok((reports, sums, ens.finish(&ds.ids)))
}

/// What the wells allow: at most one plate per group in an experiment
/// (when there are groups), at most one well per class on a plate.
fn check_plates(ds: &Dataset, parts: &[Part; 2], ngroups: usize) -> Result<()> {
    let treatments = ds.index.treatments as usize;
    for part in parts {
        let pl = plates(&ds.index, &part.wells);
        let mut plates_of: std::collections::BTreeMap<&str, usize> = Default::default();
        for (e, _) in pl.keys() {
            *plates_of.entry(e.as_str()).or_default() += 1;
        }
        if let Some((e, n)) = plates_of.iter().find(|(_, &n)| ngroups > 0 && n > ngroups) {
            return Err(EnsembleError::Usage(format!(
                "experiment {e} has {n} plates but the dataset has {ngroups} plate groups"
            )));
        }
        if let Some(((e, p), pos)) = pl.iter().find(|(_, pos)| pos.len() > treatments) {
            return Err(EnsembleError::Usage(format!(
                "experiment {e} plate {p} has {} treatment wells but there are only {treatments} treatment classes; expected at most one well per class",
                pos.len()
            )));
        }
    }
    Ok(())
}

/// The dataset's plate groups as the steps use them.
struct Groups {
    count: usize,
    /// Group of every treatment class.
    class_group: Vec<Option<usize>>,
    /// Classes of every group, ascending, and as a mask.
    members: Vec<Vec<usize>>,
    masks: Vec<Vec<bool>>,
}

impl Groups {
    fn of(index: &DatasetIndex) -> Self {
        let count = index.groups.groups.len();
        let mut class_group = vec![None; index.treatments as usize];
        for (g, set) in index.groups.groups.iter().enumerate() {
            for &c in set {
                if let Some(x) = class_group.get_mut(c as usize) {
                    *x = Some(g);
                }
            }
        }
        let members = group_classes(&class_group, count);
        let masks = (0..count)
            .map(|g| class_group.iter().map(|&x| x == Some(g)).collect())
            .collect();
        Groups {
            count,
            class_group,
            members,
            masks,
        }
    }
}

/// Steps 3 and 4 on one split of the ensemble.
struct SplitResult {
    choices: Vec<GroupAssignment>,
    /// Per well: the argmax within its group, and the class assigned.
    restricted: Vec<u32>,
    pred: Vec<u32>,
    times: Vec<PlateTime>,
    lsa_wall: f64,
}

fn groups_and_assignment(
    ds: &Dataset,
    g: &Groups,
    part: &Part,
    split: PredSplit,
    sinkhorn: Option<usize>,
) -> SplitResult {
    let truth_group = |w: usize| {
        ds.truth_label(w)
            .or(ds.val_label(w))
            .and_then(|s| g.class_group.get(s as usize).copied().flatten())
    };
    let (choices, well_group) = if g.count > 0 {
        assign_groups(
            &ds.index,
            split.as_str(),
            &part.wells,
            &part.argmax,
            &g.class_group,
            g.count,
            &truth_group,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let restricted: Vec<u32> = match g.count {
        0 => part.argmax.clone(),
        _ => (0..part.wells.len())
            .map(|k| {
                let allowed = g.members.get(well_group[k]).map_or(&[][..], Vec::as_slice);
                restricted_argmax(part.row(k), allowed) as u32
            })
            .collect(),
    };
    let t = Instant::now();
    let plates: Vec<((String, u8), Vec<usize>)> =
        plates(&ds.index, &part.wells).into_iter().collect();
    let no_class = vec![false; g.class_group.len()];
    let mask = |i: usize| -> Option<&[bool]> {
        (g.count > 0).then(|| {
            g.masks
                .get(well_group[plates[i].1[0]])
                .map_or(no_class.as_slice(), Vec::as_slice)
        })
    };
    let mut pred = vec![0u32; part.wells.len()];
    let mut times = Vec::with_capacity(plates.len());
    let solved = solve_plates(&plates, &|k| part.row(k), &mask, sinkhorn);
    for ((_, ks), (cols, time)) in plates.iter().zip(solved) {
        for (&k, c) in ks.iter().zip(cols) {
            pred[k] = c as u32;
        }
        times.push(time);
    }
    SplitResult {
        choices,
        restricted,
        pred,
        times,
        lsa_wall: t.elapsed().as_secs_f64(),
    }
}

/// The steps as they are scored: logged in the reference's words and kept.
struct Steps<'a> {
    log: &'a Log,
    list: Vec<Step>,
}

impl Steps<'_> {
    fn push(&mut self, name: &str, label: &str, (val, test): (Score, Option<Score>)) {
        let t = test.as_ref().map(|t| format!("  test: {}", text(t)));
        let l = format!("{label}:");
        self.log
            .info(format!("{l:<37}{}{}", text(&val), t.unwrap_or_default()));
        self.list.push(Step {
            name: name.into(),
            label: label.into(),
            val,
            test,
        });
    }
}

/// Each file's own score, and the pooled "average score" of step 2.
fn file_scores(
    ds: &Dataset,
    files: &mut [FileReport],
    sums: &[FileSums],
    log: &Log,
) -> Result<(Score, Option<Score>)> {
    for (f, s) in files.iter_mut().zip(sums) {
        (f.val, f.test) = ds.scores([&s[0].wells, &s[1].wells], [&s[0].argmax, &s[1].argmax])?;
        let t = f.test.as_ref().map(|t| format!("  test: {}", text(t)));
        let (p, v) = (&f.path, text(&f.val));
        log.info(format!("File {p} -> score: {v}{}", t.unwrap_or_default()));
    }
    let pool = |i: usize| -> Vec<(&[usize], &[u32])> {
        sums.iter()
            .map(|s| (s[i].wells.as_slice(), s[i].weighted_argmax.as_slice()))
            .collect()
    };
    let val = pooled(&ds.index, &pool(0), &|w| ds.val_label(w))?;
    let test = ds
        .truth
        .as_ref()
        .map(|_| pooled(&ds.index, &pool(1), &|w| ds.truth_label(w)))
        .transpose()?;
    Ok((val, test))
}

/// Beyond the reference: test wells of a layout-alias target get their
/// known label. Returns how many changed.
fn use_alias_labels(ds: &Dataset, wells: &[usize], pred: &mut [u32]) -> usize {
    let mut changed = 0;
    for (p, &w) in pred.iter_mut().zip(wells) {
        let r = &ds.index.wells[w];
        if let Some(l) = r.label.filter(|_| r.label_source == LabelSource::Alias) {
            changed += usize::from(*p != l);
            *p = l;
        }
    }
    changed
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

/// Runs section 9.
pub fn run(opts: &Options, log: &Log) -> Result<Outcome> {
    let t0 = Instant::now();
    let mut ph = Phases {
        last: t0,
        done: Vec::new(),
    };
    check_options(opts)?;
    let weights = opts
        .weights
        .clone()
        .unwrap_or_else(|| vec![1.0; opts.files.len()]);
    log.info("Loading dataset");
    let ds = Dataset::load(opts)?;
    ph.mark("dataset");
    log.info("Loading predictions");
    let (mut files, sums, parts) = read_files(&ds, opts, &weights)?;
    let (treatments, classes) = (ds.index.treatments as usize, files[0].classes);
    if classes != ds.index.classes as usize {
        let n = ds.index.classes;
        log.info(format!(
            "note: files have {classes} classes, the dataset {n} (treatments {treatments} are used)"
        ));
    }
    let groups = Groups::of(&ds.index);
    check_plates(&ds, &parts, groups.count)?;
    ph.mark("read+sum");
    let [val, test] = [PredSplit::Val, PredSplit::Test]
        .map(|sp| groups_and_assignment(&ds, &groups, &parts[sp.index()], sp, opts.sinkhorn));
    ph.mark("groups+lsa");

    let average = file_scores(&ds, &mut files, &sums, log)?;
    let wells = [parts[0].wells.as_slice(), parts[1].wells.as_slice()];
    let mut steps = Steps {
        log,
        list: Vec::new(),
    };
    log.info("Evaluating...");
    steps.push("average", "Average score", average);
    let s = ds.scores(wells, [&parts[0].argmax, &parts[1].argmax])?;
    steps.push("ensemble", "Score after ensemble", s);
    let group_assignment: Vec<GroupAssignment> =
        val.choices.into_iter().chain(test.choices).collect();
    if groups.count == 0 {
        log.info("no plate groups in the dataset (no labelled plates): skipping the group step");
    }
    for c in &group_assignment {
        let truth = c.truth_status.map(|s| format!(" (truth: {})", s.as_str()));
        log.info(format!(
            "groups: {:8} -> {:?} ( score: {:.5}  conf: {:.5} ) {}{}  size: {}",
            c.experiment,
            c.permutation,
            c.score,
            c.margin,
            c.status.as_str(),
            truth.unwrap_or_default(),
            c.wells
        ));
    }
    let s = ds.scores(wells, [&val.restricted, &test.restricted])?;
    steps.push("plate_groups", "Score after retaining plate classes", s);
    let mut times = val.times;
    times.extend(test.times);
    let lsa = lsa_report(&times, val.lsa_wall + test.lsa_wall);
    let mut test_pred = test.pred;
    let s = ds.scores(wells, [&val.pred, &test_pred])?;
    let assigned_val = s.0.clone();
    steps.push("assignment", "Score after linear sum assignment", s);
    log.info(format!(
        "linear sum assignment: {} plates in {:.3} s ({} threads; slowest plate {:.4} s)",
        lsa.plates, lsa.wall_seconds, lsa.threads, lsa.max_plate_seconds
    ));
    ph.mark("scores");

    if opts.use_alias_labels {
        let changed = use_alias_labels(&ds, wells[1], &mut test_pred);
        log.info(format!(
            "alias labels: {changed} test well(s) changed to their known layout-alias label"
        ));
        let t = ds.scores(wells, [&val.pred, &test_pred])?.1;
        steps.push(
            "alias_labels",
            "Score after alias labels",
            (assigned_val, t),
        );
    }

    // Step 5: the submission.
    let mut submission: Vec<(String, u32)> = wells[1]
        .iter()
        .zip(&test_pred)
        .map(|(&w, &p)| (ds.ids[w].clone(), p))
        .collect();
    submission.sort();
    ph.mark("submission");
    log.info(format!("phase seconds: {}", ph.done.join(", ")));
    let report = EnsembleReport {
        tool: format!("rcic-ensemble {}", env!("CARGO_PKG_VERSION")),
        data: opts.data.display().to_string(),
        treatments,
        classes,
        plate_groups: groups.count,
        options: EnsembleOptions {
            weights,
            temperature: opts.temperature,
            sinkhorn: opts.sinkhorn,
            use_alias_labels: opts.use_alias_labels,
            truth: opts.truth.as_ref().map(|p| p.display().to_string()),
        },
        files,
        steps: steps.list,
        group_assignment,
        lsa,
        submission_rows: submission.len(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    Ok(Outcome { report, submission })
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
