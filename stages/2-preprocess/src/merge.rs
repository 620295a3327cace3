//! `--merge N`: joins the outputs of the N shard runs (`--shard I/N`) into
//! the artifact a single run would have published, with the same key and
//! byte-identical tensor files: tensor files are hard-linked (or copied),
//! `sites.parquet` is written from the index, and `pixel_stats.parquet` is
//! pooled from the shards' exact integer sums (`plate_sums.json`).

use std::collections::BTreeSet;
use std::path::Path;

use rcic_cli::log::Log;
use rcic_core::{Artifact, DatasetIndex, StageSpec, Store, Verify};

use crate::error::{PreprocessError, Result};
use crate::output::Dest;
use crate::plan::{PlatePlan, Shard};
use crate::stats::{write_pixel_stats, PlateSums};

/// File of a shard artifact holding its plates' sums.
pub const PLATE_SUMS: &str = "plate_sums.json";

/// Where shard I of N of `dest` lives.
pub fn shard_dest(dest: &Dest, shard: Shard) -> Dest {
    match dest {
        Dest::Store(root) => Dest::Store(root.clone()),
        Dest::Dir(dir) => Dest::Dir(dir.join(shard.dir_name())),
    }
}

fn find_shard(dest: &Dest, spec: &StageSpec) -> Result<Option<Artifact>> {
    match dest {
        Dest::Store(root) => Ok(Store::open(root)?.lookup(spec, Verify::Sizes)?),
        Dest::Dir(dir) => Ok(Artifact::open(dir)
            .ok()
            .filter(|a| a.manifest.key == spec.key())),
    }
}

fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| PreprocessError::io(to, "cannot copy a shard's tensor file", e))
}

/// Merges shards into the final artifact (`spec`); `shard_spec(i)` is the
/// spec of shard i. Returns the published artifact.
#[allow(clippy::too_many_arguments)]
pub fn merge(
    index: &DatasetIndex,
    plates: &[PlatePlan],
    dest: &Dest,
    spec: &StageSpec,
    count: usize,
    shard_spec: &dyn Fn(Shard) -> StageSpec,
    dataset_key: &str,
    log: &Log,
) -> Result<Artifact> {
    let mut shards = Vec::new();
    let mut missing = Vec::new();
    for i in 0..count {
        let s = Shard { index: i, count };
        match find_shard(&shard_dest(dest, s), &shard_spec(s))? {
            Some(a) => shards.push((s, a)),
            None => missing.push(format!("{}/{count}", i)),
        }
    }
    if !missing.is_empty() {
        return Err(PreprocessError::Config(format!(
            "cannot merge: no complete output of shard(s) {} for this data and these parameters; run `rcic-preprocess --shard I/{count}` with the same --data, --image-size and --zstd-level for each",
            missing.join(", ")
        )));
    }
    let pending = dest.begin(spec)?;
    let mut sums: Vec<PlateSums> = Vec::new();
    for (s, a) in &shards {
        let p = a.file(PLATE_SUMS);
        let text =
            std::fs::read_to_string(&p).map_err(|e| PreprocessError::io(&p, "cannot read", e))?;
        let mut these: Vec<PlateSums> = serde_json::from_str(&text).map_err(|e| {
            PreprocessError::Config(format!(
                "{}: not a plate_sums.json of shard {}/{}: {e}",
                p.display(),
                s.index,
                s.count
            ))
        })?;
        sums.append(&mut these);
        for f in a
            .manifest
            .files
            .iter()
            .filter(|f| f.path.starts_with(rcic_core::tensors::TENSORS_PREFIX))
        {
            link_or_copy(&a.dir.join(&f.path), &pending.dir().join(&f.path))?;
        }
    }
    let have: BTreeSet<(String, u8)> = sums
        .iter()
        .map(|p| (p.experiment.clone(), p.plate))
        .collect();
    let want: BTreeSet<(String, u8)> = plates
        .iter()
        .map(|p| (p.experiment.clone(), p.plate))
        .collect();
    if have != want || sums.len() != want.len() {
        return Err(PreprocessError::Config(format!(
            "cannot merge: the shards hold {} plate(s), the dataset has {}; shard outputs are inconsistent",
            sums.len(),
            want.len()
        )));
    }
    rcic_core::sites_table::write_sites(index, dataset_key, &pending.dir().join("sites.parquet"))?;
    write_pixel_stats(
        &sums,
        dataset_key,
        &pending.dir().join("pixel_stats.parquet"),
    )?;
    log.info(format!(
        "merged {count} shard(s): {} plate(s), {} site(s)",
        want.len(),
        index.site_count()
    ));
    let log_path = pending.dir().join("preprocess.log");
    std::fs::write(&log_path, log.text())
        .map_err(|e| PreprocessError::io(&log_path, "cannot write", e))?;
    let art = pending.commit()?;
    if let Dest::Dir(_) = dest {
        for (s, _) in &shards {
            if let Dest::Dir(d) = shard_dest(dest, *s) {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    Ok(art)
}
