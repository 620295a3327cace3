//! The dataset index: an RxRx1 root in the Kaggle competition layout
//! (train.csv, test.csv, train_controls.csv, test_controls.csv, optional
//! pixel_stats.csv) or the public release's (metadata.csv) read into
//! typed tables, one row per well and per site, with everything the method
//! derives from them: cell types, class ranges, layout-alias labels, plate
//! groups. Every stage that needs to know what a site is goes through here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::alias::{AliasConfig, LayoutAlias};
use crate::competition;
use crate::data_layout::{image_name, DataLayout, METADATA_CSV, PIXEL_STATS_CSV};
use crate::error::{Collector, CoreError, Result};
use crate::groups::{LabelledPlate, PlateGroups};
use crate::metadata;
use crate::pixelstats::PixelStats;
use crate::wells::{cell_type, id_code, Well};

/// Sites per well (RxRx1 images each well twice).
pub const SITES: u8 = 2;
/// Fluorescence channels per site.
pub const CHANNELS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WellType {
    Treatment,
    NegativeControl,
    PositiveControl,
}

impl WellType {
    pub fn as_str(self) -> &'static str {
        match self {
            WellType::Treatment => "treatment",
            WellType::NegativeControl => "negative_control",
            WellType::PositiveControl => "positive_control",
        }
    }
}

/// Where a well's known label comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSource {
    /// The sirna column of a CSV (train wells, controls everywhere).
    Csv,
    /// A layout alias (e.g. HUVEC-18's treatments from RPE-03).
    Alias,
    /// Not known (test treatments).
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Experiment {
    pub name: String,
    pub cell_type: String,
    pub split: Split,
}

/// One well of one plate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WellRecord {
    /// Index into [`DatasetIndex::experiments`].
    pub experiment: usize,
    pub plate: u8,
    pub well: Well,
    pub well_type: WellType,
    /// The CSV's sirna column (absent for test treatments).
    pub sirna: Option<u32>,
    /// The known label: `sirna`, or the alias-derived one.
    pub label: Option<u32>,
    pub label_source: LabelSource,
}

/// One site (sample) of a well.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub well: &'a WellRecord,
    /// Index of the well in [`DatasetIndex::wells`].
    pub well_index: usize,
    /// 1 or 2.
    pub site: u8,
}

/// Options of [`DatasetIndex::load`].
#[derive(Debug, Clone)]
pub struct IndexOptions {
    pub aliases: AliasConfig,
    /// `--classes`: every sirna must be below it. None: derived from the data.
    pub classes: Option<u32>,
    /// Problems collected per file before failing.
    pub max_problems: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            aliases: AliasConfig::Default,
            classes: None,
            max_problems: 20,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DatasetIndex {
    pub root: PathBuf,
    /// Sorted by name.
    pub experiments: Vec<Experiment>,
    /// Sorted cell type names (the order of the one-hot cell-type vector).
    pub cell_types: Vec<String>,
    /// Sorted by (experiment, plate, well).
    pub wells: Vec<WellRecord>,
    /// Treatment classes are 0..treatments.
    pub treatments: u32,
    /// All classes (treatments and controls) are 0..classes.
    pub classes: u32,
    pub negative_control: Option<u32>,
    pub plates_per_experiment: u8,
    pub groups: PlateGroups,
    pub aliases: Vec<LayoutAlias>,
    pub pixel_stats: Option<PixelStats>,
    /// The folder's layout (competition or public release).
    pub layout: DataLayout,
}

/// A parsed well row before indexing (from either layout).
pub(crate) struct RawWell {
    pub file: PathBuf,
    pub line: usize,
    pub experiment: String,
    pub plate: u8,
    pub well: Well,
    pub split: Split,
    pub well_type: WellType,
    pub sirna: Option<u32>,
}

impl DatasetIndex {
    /// Reads and checks an RxRx1 root in either layout ([`DataLayout`]).
    pub fn load(root: impl AsRef<Path>, opts: &IndexOptions) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        let layout = DataLayout::detect(&root)?;
        let raw = match layout {
            DataLayout::Competition => competition::read_rows(&root, opts.max_problems)?,
            DataLayout::Public => {
                metadata::read(&root.join(METADATA_CSV), opts.max_problems)?.wells
            }
        };

        // Duplicates, experiments in both splits, class ranges, plates.
        let mut problems = Collector::new(opts.max_problems);
        let split_of = check_duplicates_and_splits(&raw, &mut problems);
        let ranges = class_ranges(&raw, opts.classes, &mut problems);
        check_last_plates(&raw, &mut problems);
        problems.finish()?;

        let Tables {
            experiments,
            cell_types,
            plates_per_experiment,
            mut wells,
        } = typed_tables(&raw, &split_of);
        let aliases = resolve_aliases(&opts.aliases, &experiments)?;
        let negative_control = ranges.negatives.first().copied();
        apply_aliases(
            &aliases,
            &experiments,
            &mut wells,
            plates_per_experiment,
            (ranges.treatments, negative_control),
            opts.max_problems,
        )?;
        let groups = plate_groups(
            &root,
            opts.max_problems,
            &experiments,
            &wells,
            &aliases,
            plates_per_experiment,
        )?;

        let pixel_stats =
            PixelStats::load_optional(&root.join(PIXEL_STATS_CSV), opts.max_problems)?;

        Ok(Self {
            root,
            experiments,
            cell_types,
            wells: wells.into_iter().map(|(w, _, _)| w).collect(),
            treatments: ranges.treatments,
            classes: ranges.classes,
            negative_control,
            plates_per_experiment,
            groups,
            aliases,
            pixel_stats,
            layout,
        })
    }

    /// Index of an experiment by name.
    pub fn experiment(&self, name: &str) -> Option<usize> {
        self.experiments
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .ok()
    }

    pub fn id_code(&self, w: &WellRecord) -> String {
        id_code(&self.experiments[w.experiment].name, w.plate, w.well)
    }

    /// Index of a cell type in the one-hot order.
    pub fn cell_type_index(&self, w: &WellRecord) -> usize {
        let ct = &self.experiments[w.experiment].cell_type;
        self.cell_types
            .iter()
            .position(|c| c == ct)
            .expect("cell types cover experiments")
    }

    pub fn is_alias_target(&self, experiment: usize) -> bool {
        self.aliases
            .iter()
            .any(|a| a.target == self.experiments[experiment].name)
    }

    /// Every site, in well order, sites 1 and 2 of each well.
    pub fn sites(&self) -> impl Iterator<Item = Site<'_>> + '_ {
        self.wells.iter().enumerate().flat_map(|(i, w)| {
            (1..=SITES).map(move |s| Site {
                well: w,
                well_index: i,
                site: s,
            })
        })
    }

    pub fn site_count(&self) -> usize {
        self.wells.len() * SITES as usize
    }

    /// Image path of a site's channel (1-based) under the root, in the
    /// folder's layout.
    pub fn image_path(&self, w: &WellRecord, site: u8, channel: usize) -> PathBuf {
        let e = &self.experiments[w.experiment];
        self.layout
            .plate_dir(&self.root, e.split, &e.name, w.plate)
            .join(image_name(&w.well.to_string(), site, channel))
    }

    /// The folders holding the images (`train/`, `test/` or `images/`).
    pub fn image_dirs(&self) -> Vec<PathBuf> {
        self.layout.image_dirs(&self.root)
    }

    /// The table files the index was read from.
    pub fn table_files(&self) -> Vec<PathBuf> {
        self.layout.table_files(&self.root)
    }
}

// The phases of `DatasetIndex::load`, in order.

/// A well with the file and line it was read from.
type Located = (WellRecord, PathBuf, usize);

/// Duplicates and experiments present in both splits; each experiment's split.
fn check_duplicates_and_splits<'a>(
    raw: &'a [RawWell],
    problems: &mut Collector,
) -> BTreeMap<&'a str, Split> {
    let mut seen: HashMap<(&str, u8, Well), (&Path, usize)> = HashMap::with_capacity(raw.len());
    let mut split_of: BTreeMap<&str, (Split, &Path, usize)> = BTreeMap::new();
    for w in raw {
        if let Some((f, l)) = seen.insert((&w.experiment, w.plate, w.well), (&w.file, w.line)) {
            problems.push(
                &w.file,
                Some(w.line),
                format!(
                    "duplicate well {}: already listed at {}:{}",
                    id_code(&w.experiment, w.plate, w.well),
                    f.display(),
                    l
                ),
            );
        }
        match split_of.get(w.experiment.as_str()) {
            Some(&(s, f, l)) if s != w.split => problems.push(
                &w.file,
                Some(w.line),
                format!(
                    "experiment {} is listed as {} here but as {} at {}:{}",
                    w.experiment,
                    w.split.as_str(),
                    s.as_str(),
                    f.display(),
                    l
                ),
            ),
            Some(_) => {}
            None => {
                split_of.insert(&w.experiment, (w.split, &w.file, w.line));
            }
        }
    }
    split_of.into_iter().map(|(e, (s, _, _))| (e, s)).collect()
}

/// The class numbering the data implies.
struct ClassRanges {
    /// Treatment classes are 0..treatments.
    treatments: u32,
    /// All classes are 0..classes.
    classes: u32,
    /// The negative controls' classes (one when the data is right).
    negatives: BTreeSet<u32>,
}

/// Class ranges (controls are numbered after the treatments), each sirna
/// checked against them, and one negative-control class.
fn class_ranges(raw: &[RawWell], classes: Option<u32>, problems: &mut Collector) -> ClassRanges {
    let control_min = raw
        .iter()
        .filter(|w| w.well_type != WellType::Treatment)
        .filter_map(|w| w.sirna)
        .min();
    let train_max = raw
        .iter()
        .filter(|w| w.well_type == WellType::Treatment)
        .filter_map(|w| w.sirna)
        .max();
    let treatments = control_min.unwrap_or_else(|| train_max.map_or(0, |m| m + 1));
    let data_max = raw.iter().filter_map(|w| w.sirna).max();
    let classes = classes.unwrap_or_else(|| data_max.map_or(treatments, |m| m + 1));
    let mut negatives = BTreeSet::new();
    for w in raw {
        let Some(s) = w.sirna else { continue };
        if s >= classes {
            problems.push(
                &w.file,
                Some(w.line),
                if classes == 0 {
                    format!("sirna {s} out of range: --classes 0 leaves no class")
                } else {
                    format!(
                        "sirna {s} out of range: expected 0..{} (--classes {classes})",
                        classes - 1
                    )
                },
            );
        } else if w.well_type == WellType::Treatment && s >= treatments {
            problems.push(
                &w.file,
                Some(w.line),
                format!("sirna {s} is a control class here (controls start at {treatments}); expected a treatment below {treatments}"),
            );
        }
        if w.well_type == WellType::NegativeControl {
            negatives.insert(s);
        }
    }
    if negatives.len() > 1 {
        let w = raw
            .iter()
            .find(|w| {
                w.well_type == WellType::NegativeControl && w.sirna != negatives.first().copied()
            })
            .unwrap();
        problems.push(
            &w.file,
            Some(w.line),
            format!("more than one negative-control class: {negatives:?}; expected one"),
        );
    }
    ClassRanges {
        treatments,
        classes,
        negatives,
    }
}

/// Every experiment has plates 1..P with one P (RxRx1: 4), the most common
/// last plate; a stray plate number above it would otherwise become P for
/// every experiment and break the plate groups elsewhere.
fn check_last_plates(raw: &[RawWell], problems: &mut Collector) {
    let mut last_plate: BTreeMap<&str, u8> = BTreeMap::new();
    for w in raw {
        let p = last_plate.entry(w.experiment.as_str()).or_default();
        *p = (*p).max(w.plate);
    }
    let mut experiments_by_last: BTreeMap<u8, usize> = BTreeMap::new();
    for &p in last_plate.values() {
        *experiments_by_last.entry(p).or_default() += 1;
    }
    if experiments_by_last.len() > 1 {
        let (&usual, _) = experiments_by_last
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .expect("non-empty");
        for w in raw.iter().filter(|w| w.plate > usual) {
            problems.push(
                &w.file,
                Some(w.line),
                format!(
                    "plate {} of experiment {}: most experiments have plates 1..{usual}; expected a plate 1..{usual}",
                    w.plate, w.experiment
                ),
            );
        }
    }
}

/// The typed tables of checked rows.
struct Tables {
    experiments: Vec<Experiment>,
    cell_types: Vec<String>,
    plates_per_experiment: u8,
    /// Sorted by (experiment, plate, well).
    wells: Vec<Located>,
}

fn experiment_index(experiments: &[Experiment]) -> HashMap<&str, usize> {
    experiments
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect()
}

fn typed_tables(raw: &[RawWell], split_of: &BTreeMap<&str, Split>) -> Tables {
    let mut experiments: Vec<Experiment> = split_of
        .iter()
        .map(|(name, split)| Experiment {
            name: name.to_string(),
            cell_type: cell_type(name).to_string(),
            split: *split,
        })
        .collect();
    experiments.sort_by(|a, b| a.name.cmp(&b.name));
    let exp_index = experiment_index(&experiments);
    let mut cell_types: Vec<String> = experiments.iter().map(|e| e.cell_type.clone()).collect();
    cell_types.sort();
    cell_types.dedup();
    let plates_per_experiment = raw.iter().map(|w| w.plate).max().unwrap_or(0);
    let mut wells: Vec<Located> = raw
        .iter()
        .map(|w| {
            (
                WellRecord {
                    experiment: exp_index[w.experiment.as_str()],
                    plate: w.plate,
                    well: w.well,
                    well_type: w.well_type,
                    sirna: w.sirna,
                    label: w.sirna,
                    label_source: if w.sirna.is_some() {
                        LabelSource::Csv
                    } else {
                        LabelSource::None
                    },
                },
                w.file.clone(),
                w.line,
            )
        })
        .collect();
    wells.sort_by_key(|(w, _, _)| (w.experiment, w.plate, w.well));
    Tables {
        experiments,
        cell_types,
        plates_per_experiment,
        wells,
    }
}

/// Layout aliases: each target treatment takes its source well's label;
/// controls must agree with the source (or be the negative control).
fn apply_aliases(
    aliases: &[LayoutAlias],
    experiments: &[Experiment],
    wells: &mut [Located],
    plates_per_experiment: u8,
    (treatments, negative): (u32, Option<u32>),
    max_problems: usize,
) -> Result<()> {
    let exp_index = experiment_index(experiments);
    let mut problems = Collector::new(max_problems);
    let position: HashMap<(usize, u8, Well), usize> = wells
        .iter()
        .enumerate()
        .map(|(i, (w, _, _))| ((w.experiment, w.plate, w.well), i))
        .collect();
    for a in aliases {
        let (t, s) = (exp_index[a.target.as_str()], exp_index[a.source.as_str()]);
        for i in 0..wells.len() {
            let (w, file, line) = &wells[i];
            if w.experiment != t {
                continue;
            }
            let sp = a.source_plate(w.plate, plates_per_experiment);
            let Some(&j) = position.get(&(s, sp, w.well)) else {
                problems.push(
                    file,
                    Some(*line),
                    format!(
                        "layout alias {a}: source well {} does not exist",
                        id_code(&a.source, sp, w.well)
                    ),
                );
                continue;
            };
            let src = wells[j].0.sirna;
            let (file, line) = (file.clone(), *line);
            let w = &mut wells[i].0;
            match (w.well_type, src) {
                (WellType::Treatment, Some(s)) if s < treatments => {
                    w.label = Some(s);
                    w.label_source = LabelSource::Alias;
                }
                (WellType::Treatment, _) => problems.push(
                    &file,
                    Some(line),
                    format!(
                        "layout alias {a}: source well {} is not a labelled treatment",
                        id_code(&a.source, sp, w.well)
                    ),
                ),
                (_, Some(s)) => {
                    let ok = Some(s) == w.sirna || Some(s) == negative || w.sirna == negative;
                    if !ok {
                        problems.push(
                            &file,
                            Some(line),
                            format!(
                                "layout alias {a}: control sirna {:?} disagrees with source well {} (sirna {s})",
                                w.sirna,
                                id_code(&a.source, sp, w.well)
                            ),
                        );
                    }
                }
                (_, None) => {}
            }
        }
    }
    problems.finish()
}

/// Plate groups from the labelled training plates; an alias target takes
/// its source's assignment, plate by plate.
fn plate_groups(
    root: &Path,
    max_problems: usize,
    experiments: &[Experiment],
    wells: &[Located],
    aliases: &[LayoutAlias],
    plates_per_experiment: u8,
) -> Result<PlateGroups> {
    let mut plate_sets: BTreeMap<(usize, u8), BTreeSet<u32>> = BTreeMap::new();
    for (w, _, _) in wells {
        if experiments[w.experiment].split == Split::Train && w.well_type == WellType::Treatment {
            plate_sets
                .entry((w.experiment, w.plate))
                .or_default()
                .extend(w.sirna);
        }
    }
    let labelled: Vec<LabelledPlate> = plate_sets
        .into_iter()
        .map(|((e, p), t)| LabelledPlate {
            experiment: experiments[e].name.clone(),
            plate: p,
            treatments: t,
        })
        .collect();
    let mut groups =
        PlateGroups::derive(&labelled, plates_per_experiment as usize).map_err(|errs| {
            let mut c = Collector::new(max_problems);
            for e in errs {
                c.push(&root.join("train.csv"), None, e);
            }
            c.finish().unwrap_err()
        })?;
    for a in aliases {
        if let Some(src) = groups.assignment.get(&a.source).cloned() {
            let tgt = (1..=plates_per_experiment)
                .map(|p| {
                    src.get(a.source_plate(p, plates_per_experiment) as usize - 1)
                        .copied()
                        .unwrap_or(usize::MAX)
                })
                .collect();
            groups.assignment.insert(a.target.clone(), tgt);
        }
    }
    Ok(groups)
}

fn resolve_aliases(cfg: &AliasConfig, experiments: &[Experiment]) -> Result<Vec<LayoutAlias>> {
    let find = |n: &str| experiments.iter().find(|e| e.name == n);
    match cfg {
        AliasConfig::None => Ok(Vec::new()),
        AliasConfig::Default => {
            let a = LayoutAlias::rxrx1();
            Ok(match (find(&a.target), find(&a.source)) {
                (Some(t), Some(s)) if t.split == Split::Test && s.split == Split::Train => vec![a],
                _ => Vec::new(),
            })
        }
        AliasConfig::List(list) => {
            for a in list {
                match (find(&a.target), find(&a.source)) {
                    (Some(t), Some(s)) if t.split == Split::Test && s.split == Split::Train => {}
                    _ => {
                        return Err(CoreError::Config(format!(
                            "layout alias {a}: expected target {} to be a test experiment and source {} a training experiment of the dataset",
                            a.target, a.source
                        )))
                    }
                }
            }
            Ok(list.clone())
        }
    }
}
