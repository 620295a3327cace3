//! rcic-preprocess: packs a Kaggle-layout RxRx1 PNG tree, once, into the
//! artifact training and prediction read at memory speed: site tensors
//! (`tensors-<experiment>_<plate>.parquet`), site metadata (`sites.parquet`)
//! and pixel statistics (`pixel_stats.parquet`); see data-schemas/.
//!
//! A run validates every image before writing anything, packs with bounded
//! memory, and publishes through the content-addressed store. `--shard I/N`
//! runs pack a deterministic subset of plates; `--merge N` joins them into
//! the artifact a single run would publish.

pub mod downscale;
pub mod error;
pub mod fastpng;
pub mod merge;
pub mod ordered;
pub mod output;
pub mod pack;
pub mod plan;
pub mod png;
pub mod split;
pub mod stats;
pub mod validate;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rcic_cli::log::{Level, Log};
use rcic_cli::progress::Progress;
use rcic_core::{Artifact, DatasetIndex, IndexOptions, StageSpec};

pub use error::{FileProblem, PreprocessError, Result};
pub use output::Dest;
pub use plan::Shard;

/// Stage name of the final artifact.
pub const STAGE: &str = "preprocess";
/// Stage name of a shard run's partial artifact.
pub const SHARD_STAGE: &str = "preprocess-shard";
/// Output version: bump when the same inputs would give other outputs.
pub const VERSION: &str = "1";
/// Row groups decoded and encoded at once, at most (the memory bound's
/// factor; see data-schemas/tensors.md).
pub const MAX_IN_FLIGHT: usize = 32;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub data: PathBuf,
    pub dest: Dest,
    /// Stored side S (None: the source size).
    pub image_size: Option<usize>,
    pub shard: Option<Shard>,
    /// Merge the outputs of this many shard runs.
    pub merge: Option<usize>,
    pub zstd_level: i32,
    /// Threads of the pool the run executes in (for the in-flight bound).
    pub threads: usize,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub artifact: Artifact,
    /// True when an existing artifact was reused.
    pub reused: bool,
    pub sites: usize,
}

/// The parameters that, with the data's key, determine the output.
pub fn params(image_size: Option<usize>, zstd_level: i32) -> serde_json::Value {
    serde_json::json!({ "image_size": image_size, "zstd_level": zstd_level })
}

/// The final artifact's spec.
pub fn spec(image_size: Option<usize>, zstd_level: i32, dataset_key: &str) -> StageSpec {
    StageSpec::new(STAGE, VERSION, params(image_size, zstd_level)).input("data", dataset_key)
}

/// A shard run's spec.
pub fn shard_spec(
    image_size: Option<usize>,
    zstd_level: i32,
    dataset_key: &str,
    shard: Shard,
) -> StageSpec {
    let mut p = params(image_size, zstd_level);
    p["shard"] = shard.index.into();
    p["shards"] = shard.count.into();
    StageSpec::new(SHARD_STAGE, VERSION, p).input("data", dataset_key)
}

fn write_log(dir: &Path, log: &Log) -> Result<()> {
    let p = dir.join("preprocess.log");
    std::fs::write(&p, log.text()).map_err(|e| PreprocessError::io(&p, "cannot write", e))
}

/// Runs the stage (in the current rayon pool).
pub fn run(opts: &Options, log: &Log) -> Result<Outcome> {
    if !(1..=22).contains(&opts.zstd_level) {
        return Err(PreprocessError::Config(format!(
            "--zstd-level {}: expected a zstd level 1..=22",
            opts.zstd_level
        )));
    }
    opts.dest.check(&opts.data, opts.shard)?;
    let index = DatasetIndex::load(&opts.data, &IndexOptions::default())?;
    let plates = plan::plates(&index);
    log.info(format!(
        "dataset {}: {} experiment(s), {} plate(s), {} site(s)",
        opts.data.display(),
        index.experiments.len(),
        plates.len(),
        index.site_count()
    ));
    if opts.image_size == Some(0) {
        return Err(PreprocessError::Config(
            "--image-size 0: expected a positive size that divides the source size".into(),
        ));
    }
    let t = std::time::Instant::now();
    let cache = match &opts.dest {
        Dest::Store(root) => Some(rcic_core::store::cache_dir(root)),
        Dest::Dir(_) => None,
    };
    let k = rcic_core::store::dataset_key_cached(&opts.data, cache.as_deref())?;
    let dkey = k.key;
    log.info(format!(
        "dataset key {dkey} ({:.1} s: {} files, {} read, the others' hashes cached)",
        t.elapsed().as_secs_f64(),
        k.files,
        k.read
    ));
    let final_spec = spec(opts.image_size, opts.zstd_level, &dkey);

    if let Some(count) = opts.merge {
        return run_merge(opts, log, &index, &plates, &final_spec, &dkey, count);
    }

    let (spec, dest) = match opts.shard {
        Some(s) => (
            shard_spec(opts.image_size, opts.zstd_level, &dkey, s),
            merge::shard_dest(&opts.dest, s),
        ),
        None => (final_spec, opts.dest.clone()),
    };
    let mine: Vec<&plan::PlatePlan> = plates
        .iter()
        .filter(|p| opts.shard.is_none_or(|s| s.owns(p)))
        .collect();
    let my_sites: usize = mine.iter().map(|p| p.sites.len()).sum();
    if let Some(a) = dest.existing(&spec)? {
        return Ok(reused(log, a, my_sites));
    }
    if let Some(s) = opts.shard {
        log.info(format!(
            "shard {}/{}: {} plate(s), {} site(s)",
            s.index,
            s.count,
            mine.len(),
            my_sites
        ));
    }
    let sizes = validate_images(opts, log, &index, &plates, &mine)?;
    let work = Work {
        mine,
        sites: my_sites,
        dest,
        spec,
    };
    pack_and_publish(opts, log, &index, &work, &dkey, sizes)
}

/// The outcome of reusing an existing artifact, logged.
fn reused(log: &Log, a: Artifact, sites: usize) -> Outcome {
    log.info(format!(
        "reused existing artifact {} at {} (same data and parameters)",
        a.key(),
        a.dir.display()
    ));
    Outcome {
        artifact: a,
        reused: true,
        sites,
    }
}

/// The outcome of a newly published artifact, logged.
fn published(log: &Log, a: Artifact, sites: usize) -> Outcome {
    log.info(format!(
        "published artifact {} at {}",
        a.key(),
        a.dir.display()
    ));
    Outcome {
        artifact: a,
        reused: false,
        sites,
    }
}

/// `--merge N`: the shard runs' outputs joined into the final artifact.
fn run_merge(
    opts: &Options,
    log: &Log,
    index: &DatasetIndex,
    plates: &[plan::PlatePlan],
    final_spec: &StageSpec,
    dkey: &str,
    count: usize,
) -> Result<Outcome> {
    if count == 0 {
        return Err(PreprocessError::Config(
            "--merge 0: expected the number of shards N >= 1".into(),
        ));
    }
    if let Some(a) = opts.dest.existing(final_spec)? {
        return Ok(reused(log, a, index.site_count()));
    }
    let ss = |s: Shard| shard_spec(opts.image_size, opts.zstd_level, dkey, s);
    let a = merge::merge(index, plates, &opts.dest, final_spec, count, &ss, dkey, log)?;
    Ok(published(log, a, index.site_count()))
}

/// Validation: extra files (warning), then every image header (and, when
/// some fail, a decode of the others to report the corrupt ones too).
/// Returns the source and stored image sides.
fn validate_images(
    opts: &Options,
    log: &Log,
    index: &DatasetIndex,
    plates: &[plan::PlatePlan],
    mine: &[&plan::PlatePlan],
) -> Result<(u32, usize)> {
    let expected: HashSet<PathBuf> = plates
        .iter()
        .flat_map(|p| p.sites.iter().flat_map(|s| s.paths.iter().cloned()))
        .collect();
    let dirs = index.image_dirs();
    let extra = validate::extra_files(&dirs, &expected);
    if !extra.is_empty() {
        let names: Vec<String> = dirs
            .iter()
            .filter_map(|d| d.file_name())
            .map(|n| format!("{}/", n.to_string_lossy()))
            .collect();
        log.warn(format!(
            "{} file(s) under {} are not sites of the dataset's tables and are ignored:",
            extra.len(),
            names.join(" and ")
        ));
        for p in &extra {
            log.warn(format!("  {}", p.display()));
        }
    }
    let hc = validate::check_headers(mine);
    if !hc.problems.is_empty() {
        log.info(format!(
            "{} file(s) fail the header checks; decoding the other {} to find corrupt ones too",
            hc.problems.len(),
            hc.good.len()
        ));
        let size = hc.size.unwrap_or(0);
        let mut problems = hc.problems;
        let corrupt: Vec<FileProblem> = hc
            .good
            .par_iter()
            .filter_map(|p| {
                let mut buf = vec![0u8; size as usize * size as usize];
                png::decode_into(p, size, &mut buf)
                    .err()
                    .map(|message| FileProblem {
                        path: p.clone(),
                        message,
                    })
            })
            .collect();
        problems.extend(corrupt);
        problems.sort();
        return Err(PreprocessError::Invalid(problems));
    }
    let source_size = match hc.size {
        Some(s) => s,
        None if mine.is_empty() => opts.image_size.unwrap_or(1) as u32,
        None => return Err(PreprocessError::Config("no image could be read".into())),
    };
    let image_size = opts.image_size.unwrap_or(source_size as usize);
    if !(source_size as usize).is_multiple_of(image_size) {
        let divisors: Vec<String> = (1..source_size)
            .rev()
            .filter(|d| source_size % d == 0)
            .take(4)
            .map(|d| d.to_string())
            .collect();
        return Err(PreprocessError::Config(format!(
            "--image-size {image_size} does not divide the source size {source_size}; the area downscale needs an integer factor (e.g. {})",
            divisors.join(", ")
        )));
    }
    log.info(format!(
        "images {source_size}x{source_size} px, stored at {image_size}x{image_size}, zstd level {}",
        opts.zstd_level
    ));
    Ok((source_size, image_size))
}

/// What a pack run writes: its plates (all, or its shard's), their site
/// count, where and under which spec.
struct Work<'a> {
    mine: Vec<&'a plan::PlatePlan>,
    sites: usize,
    dest: Dest,
    spec: StageSpec,
}

/// Packs the plates into a pending artifact, adds the sites table and pixel
/// statistics (a shard: its plate sums) and the log, and publishes it.
fn pack_and_publish(
    opts: &Options,
    log: &Log,
    index: &DatasetIndex,
    work: &Work,
    dkey: &str,
    (source_size, image_size): (u32, usize),
) -> Result<Outcome> {
    let my_sites = work.sites;
    let mut pending = work.dest.begin(&work.spec)?;
    let cfg = pack::PackConfig {
        source_size,
        image_size,
        zstd_level: opts.zstd_level,
        dataset_key: dkey.to_string(),
        threads: opts.threads.max(1),
        in_flight: (2 * opts.threads.max(1)).min(MAX_IN_FLIGHT),
    };
    let pb = Progress::new(
        "preprocess",
        my_sites as u64,
        "sites",
        log.shows(Level::Info),
    );
    let t = std::time::Instant::now();
    let out = pack::pack(&work.mine, pending.dir(), &cfg, &pb)?;
    pb.finish();
    for (name, bytes, blake3) in &out.files {
        pending.record_hash(name, *bytes, blake3.clone());
    }
    if !out.problems.is_empty() {
        return Err(PreprocessError::Invalid(out.problems));
    }
    let secs = t.elapsed().as_secs_f64();
    log.info(format!(
        "packed {my_sites} site(s) in {secs:.1} s ({:.1} sites/s)",
        my_sites as f64 / secs.max(1e-9)
    ));
    log.debug(out.split.describe());
    if opts.shard.is_some() {
        let p = pending.dir().join(merge::PLATE_SUMS);
        let text = serde_json::to_string_pretty(&out.plates).expect("json");
        std::fs::write(&p, text).map_err(|e| PreprocessError::io(&p, "cannot write", e))?;
    } else {
        rcic_core::sites_table::write_sites(index, dkey, &pending.dir().join("sites.parquet"))?;
        stats::write_pixel_stats(
            &out.plates,
            dkey,
            &pending.dir().join("pixel_stats.parquet"),
        )?;
    }
    log.info(format!("publishing artifact {}", pending.key()));
    write_log(pending.dir(), log)?;
    let artifact = pending.commit()?;
    Ok(published(log, artifact, my_sites))
}
