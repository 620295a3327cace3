//! The generator end to end: layouts, tables, images (in parallel, one
//! random stream per site), pixel statistics, truth, then atomic
//! publication of both folders.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use rcic_cli::paths::{blocking_ancestor, resolve};
use rcic_cli::progress::Progress;

use crate::acquire::{acquire, Acquisition};
use crate::batch::{ExperimentEffects, PlateEffects, SiteEffects};
use crate::csvout::{write_pixel_stats, write_tables, write_test_truth, SiteRef};
use crate::error::{io, Result, SynthError};
use crate::folder::FolderLayout;
use crate::layout::{self, ExperimentLayout};
use crate::metadata::write_metadata;
use crate::output::{check_empty, default_truth_dir, stage};
use crate::phenotype::{class_delta, CellType};
use crate::pixelstats::ImageStats;
use crate::preset::{Preset, Spec, CHANNELS, SITES};
use crate::render::{render, SiteModel};
use crate::seeds::Key;
use crate::truth::{write_truth_json, TruthInfo};
use crate::wells::Well;

/// The most worker threads `--threads` accepts (more only exhausts the
/// system's threads without any gain): every stage's bound.
pub use rcic_cli::args::MAX_THREADS;

#[derive(Debug, Clone)]
pub struct Options {
    pub preset: Preset,
    pub out: PathBuf,
    pub seed: u64,
    pub image_size: Option<u32>,
    pub experiments: Option<Vec<String>>,
    pub difficulty: f32,
    pub truth_out: Option<PathBuf>,
    pub images: bool,
    /// 0 = all cores; at most [`MAX_THREADS`].
    pub threads: usize,
    pub force: bool,
    pub progress: bool,
    /// The folder layout written (competition or public release).
    pub layout: FolderLayout,
}

impl Options {
    pub fn new(preset: Preset, out: impl Into<PathBuf>, seed: u64) -> Self {
        Options {
            preset,
            out: out.into(),
            seed,
            image_size: None,
            experiments: None,
            difficulty: 1.0,
            truth_out: None,
            images: true,
            threads: 0,
            force: false,
            progress: false,
            layout: FolderLayout::Competition,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub out: PathBuf,
    pub truth: PathBuf,
    pub experiments: usize,
    pub sites: usize,
    pub seconds: f64,
    pub image_size: u32,
}

/// Everything shared by the site workers of one experiment.
struct ExperimentCtx<'a> {
    layout: &'a ExperimentLayout,
    cell_type: CellType,
    effects: &'a ExperimentEffects,
    plates: Vec<PlateEffects>,
}

struct Task {
    exp: usize,
    plate: u8,
    well: Well,
    sirna: u32,
    site: u8,
}

pub fn generate(opts: &Options) -> Result<Summary> {
    let spec = Spec::of(opts.preset);
    if !(opts.difficulty.is_finite() && opts.difficulty > 0.0) {
        return Err(SynthError::InvalidOption {
            option: "--difficulty",
            message: format!("expected a number > 0, got {}", opts.difficulty),
        });
    }
    let size = opts.image_size.unwrap_or(spec.image_size);
    if !(16..=4096).contains(&size) {
        return Err(SynthError::InvalidOption {
            option: "--image-size",
            message: format!("expected 16..=4096 pixels, got {size}"),
        });
    }
    let chosen = spec.select(opts.experiments.as_deref())?;
    if opts.threads > MAX_THREADS {
        return Err(SynthError::InvalidOption {
            option: "--threads",
            message: format!(
                "expected 0 (all cores) to {MAX_THREADS} worker threads, got {}",
                opts.threads
            ),
        });
    }
    let truth_dir = opts
        .truth_out
        .clone()
        .unwrap_or_else(|| default_truth_dir(&opts.out));
    check_destinations(&opts.out, &truth_dir, opts.force)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| SynthError::Threads {
            threads: opts.threads,
            message: e.to_string(),
        })?;

    let started = Instant::now();
    let groups = layout::groups(opts.seed, spec.treatments);
    let layouts = layout::build(&spec, opts.seed, &groups, &chosen);
    let effects: Vec<ExperimentEffects> = chosen
        .iter()
        .map(|e| ExperimentEffects::draw(opts.seed, &e.name))
        .collect();

    // Dropped on an error, a staged folder is removed.
    let data = stage(&opts.out, opts.force)?;
    let truth = stage(&truth_dir, opts.force)?;
    match opts.layout {
        FolderLayout::Competition => write_tables(&spec, &layouts, data.path())?,
        FolderLayout::Public => write_metadata(&spec, &layouts, &data.path().join("metadata.csv"))?,
    }
    write_test_truth(&spec, &layouts, truth.path())?;
    let sites = if opts.images {
        write_images(opts, &spec, size, &layouts, &effects, data.path(), &pool)?
    } else {
        0
    };
    write_truth_json(
        &truth.path().join("truth.json"),
        &TruthInfo {
            spec: &spec,
            seed: opts.seed,
            difficulty: opts.difficulty,
            image_size: size,
            images: opts.images,
            groups: &groups,
            layouts: &layouts,
            alias: layout::visible_alias(&spec, &chosen),
            effects: &effects,
        },
    )?;
    // Truth first: a dataset folder never appears without its truth.
    truth.publish()?;
    data.publish()?;
    Ok(Summary {
        out: opts.out.clone(),
        truth: truth_dir,
        experiments: chosen.len(),
        sites,
        seconds: started.elapsed().as_secs_f64(),
        image_size: size,
    })
}

/// Refuses, before anything is created, output folders that cannot work:
/// the truth folder equal to, inside or around the dataset folder (one
/// publication would replace or hide the other), a path below a file, and
/// a non-empty folder without `force`.
fn check_destinations(out: &Path, truth: &Path, force: bool) -> Result<()> {
    let (o, t) = (resolve(out), resolve(truth));
    if t.starts_with(&o) {
        return Err(SynthError::InvalidOption {
            option: "--truth-out",
            message: format!(
                "{} is --out {} or inside it; the truth folder must lie outside the dataset folder",
                truth.display(),
                out.display()
            ),
        });
    }
    if o.starts_with(&t) {
        return Err(SynthError::InvalidOption {
            option: "--truth-out",
            message: format!(
                "{} contains --out {}; the dataset folder must lie outside the truth folder",
                truth.display(),
                out.display()
            ),
        });
    }
    for (option, dest) in [("--out", out), ("--truth-out", truth)] {
        if let Some(parent) = blocking_ancestor(dest) {
            return Err(SynthError::ParentNotDir {
                option,
                path: dest.to_path_buf(),
                parent,
            });
        }
        check_empty(dest, force)?;
    }
    Ok(())
}

fn write_images(
    opts: &Options,
    spec: &Spec,
    size: u32,
    layouts: &[ExperimentLayout],
    effects: &[ExperimentEffects],
    root: &Path,
    pool: &rayon::ThreadPool,
) -> Result<usize> {
    let ctxs: Vec<ExperimentCtx> = layouts
        .iter()
        .zip(effects)
        .map(|(l, fx)| ExperimentCtx {
            layout: l,
            cell_type: CellType::of(&l.cell_type),
            effects: fx,
            plates: (1..=l.plates.len() as u8)
                .map(|p| PlateEffects::draw(opts.seed, &l.experiment.name, p))
                .collect(),
        })
        .collect();
    let mut tasks = Vec::new();
    for (ei, l) in layouts.iter().enumerate() {
        for (pi, p) in l.plates.iter().enumerate() {
            let dir = plate_dir(opts.layout, root, l, pi as u8 + 1);
            fs::create_dir_all(&dir).map_err(io(&dir))?;
            for &(well, sirna) in &p.wells {
                for site in 1..=SITES {
                    tasks.push(Task {
                        exp: ei,
                        plate: pi as u8 + 1,
                        well,
                        sirna,
                        site,
                    });
                }
            }
        }
    }
    let bar = Progress::new("synth", tasks.len() as u64, "sites", opts.progress);
    let stats: Vec<[ImageStats; CHANNELS]> = pool.install(|| {
        tasks
            .par_iter()
            .map(|t| {
                let r = site_images(opts, spec, size, &ctxs[t.exp], t, root);
                bar.inc(1);
                r
            })
            .collect::<Result<Vec<_>>>()
    })?;
    bar.finish();
    let refs: Vec<SiteRef> = tasks
        .iter()
        .map(|t| SiteRef {
            split: ctxs[t.exp].layout.experiment.split,
            experiment: ctxs[t.exp].layout.experiment.name.clone(),
            plate: t.plate,
            well: t.well.to_string(),
            site: t.site,
        })
        .collect();
    // The public release has no pixel statistics.
    if opts.layout == FolderLayout::Competition {
        write_pixel_stats(&root.join("pixel_stats.csv"), &refs, &stats)?;
    }
    Ok(tasks.len())
}

fn plate_dir(layout: FolderLayout, root: &Path, l: &ExperimentLayout, plate: u8) -> PathBuf {
    layout.plate_dir(root, l.experiment.split, &l.experiment.name, plate)
}

fn site_images(
    opts: &Options,
    spec: &Spec,
    size: u32,
    ctx: &ExperimentCtx,
    t: &Task,
    root: &Path,
) -> Result<[ImageStats; CHANNELS]> {
    let name = &ctx.layout.experiment.name;
    let well = t.well.to_string();
    let plate = &ctx.plates[(t.plate - 1) as usize];
    // Well-level: how well the siRNA worked in this well (shared by both sites).
    let mut wrng = Key::new(opts.seed, "well")
        .s(name)
        .n(t.plate as u64)
        .s(&well)
        .rng();
    let efficiency = (1.0 + 0.15 * wrng.sample::<f32, _>(StandardNormal)).clamp(0.5, 1.5);
    let mut delta = class_delta(spec, opts.seed, t.sirna, &ctx.layout.cell_type);
    for v in delta.iter_mut() {
        *v *= efficiency / opts.difficulty;
    }
    let mut rng = Key::new(opts.seed, "site")
        .s(name)
        .n(t.plate as u64)
        .s(&well)
        .n(t.site as u64)
        .rng();
    let site = SiteEffects::draw(&mut rng);
    let edge = t.well.is_edge();
    let model = SiteModel {
        cell_type: &ctx.cell_type,
        delta,
        density: ctx.effects.density * site.density * if edge { plate.edge_density } else { 1.0 },
        size_factor: ctx.effects.size,
    };
    let planes = render(size as usize, &model, &mut rng);
    let images = acquire(
        planes,
        &Acquisition {
            experiment: ctx.effects,
            plate,
            site: &site,
            edge_well: edge,
        },
        &mut rng,
    );
    let dir = plate_dir(opts.layout, root, ctx.layout, t.plate);
    let mut out = [ImageStats {
        mean: 0.0,
        std: 0.0,
        median: 0.0,
        min: 0,
        max: 0,
    }; CHANNELS];
    for (c, px) in images.iter().enumerate() {
        let path = dir.join(format!("{well}_s{}_w{}.png", t.site, c + 1));
        write_png(&path, px, size)?;
        out[c] = ImageStats::of(px);
    }
    Ok(out)
}

/// Writes an 8-bit grayscale PNG.
pub fn write_png(path: &Path, pixels: &[u8], size: u32) -> Result<()> {
    let f = File::create(path).map_err(io(path))?;
    let w = BufWriter::new(f);
    PngEncoder::new_with_quality(w, CompressionType::Fast, FilterType::Sub)
        .write_image(pixels, size, size, ExtendedColorType::L8)
        .map_err(|cause| SynthError::Png {
            path: path.to_path_buf(),
            cause,
        })
}
