//! `rcic-preprocess`: the preprocess stage's command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use rcic_cli::args::{DataArg, LogArgs, ThreadsArg};
use rcic_preprocess::{pack::DEFAULT_ZSTD_LEVEL, run, Dest, Options, Shard};

/// Packs a Kaggle-layout RxRx1 PNG tree into Parquet site tensors, site
/// metadata and pixel statistics (data-schemas/tensors.md), validated and
/// content-addressed. Prints the artifact folder on stdout.
#[derive(Debug, Parser)]
#[command(name = "rcic-preprocess", version)]
struct Args {
    // --data: the Kaggle RxRx1 root.
    #[command(flatten)]
    data: DataArg,
    /// Artifact store root; the output goes to STORE/preprocess/<key>/.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    store: PathBuf,
    /// Write the artifact's files into OUTDIR instead of the store
    /// (default: unset, use the store).
    #[arg(short = 'o', long = "output", value_name = "OUTDIR")]
    output: Option<PathBuf>,
    /// Store channels at S x S by area downscale (S must divide the source
    /// size; each pixel is its block's mean rounded half up) (default: unset,
    /// the source size).
    #[arg(long, value_name = "S")]
    image_size: Option<usize>,
    /// Pack only shard I of N (0-based): plates k with k mod N = I in
    /// (experiment, plate) order. Finish with --merge N (default: unset, all
    /// plates).
    #[arg(long, value_name = "I/N", conflicts_with = "merge")]
    shard: Option<String>,
    /// Join the outputs of the N shard runs into the artifact a single run
    /// would publish (same key, same tensor files) (default: unset).
    #[arg(long, value_name = "N")]
    merge: Option<usize>,
    // --threads: worker threads; 0 means one per core; at most 1024.
    #[command(flatten)]
    threads: ThreadsArg,
    /// zstd level of the tensor files (1..=22).
    #[arg(long, value_name = "L", default_value_t = DEFAULT_ZSTD_LEVEL,
          value_parser = clap::value_parser!(i32).range(1..=22))]
    zstd_level: i32,
    /// Print the dataset's key (the content hash that names its artifact,
    /// with the store's cache of file hashes) and the files read for it,
    /// then exit; nothing is packed.
    #[arg(long)]
    dataset_key: bool,
    // -q/-v: -q leaves only warnings (and errors) on stderr, no progress bar.
    #[command(flatten)]
    log: LogArgs,
}

fn main() {
    rcic_cli::report::main(real_main);
}

fn real_main() -> anyhow::Result<()> {
    let a: Args = rcic_cli::config::parse("preprocess");
    rcic_core::tensors::tune_allocator();
    let data = &a.data.data;
    let shard = a.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if a.threads.threads > 0 {
        pool = pool.num_threads(a.threads.threads);
    }
    let pool = pool.build().context("cannot start the thread pool")?;
    if a.dataset_key {
        let cache = rcic_core::store::cache_dir(&a.store);
        let k = pool.install(|| rcic_core::store::dataset_key_cached(data, Some(&cache)))?;
        println!("{} ({} files, {} read)", k.key, k.files, k.read);
        return Ok(());
    }
    let opts = Options {
        data: data.clone(),
        dest: match &a.output {
            Some(o) => Dest::Dir(o.clone()),
            None => Dest::Store(a.store.clone()),
        },
        image_size: a.image_size,
        shard,
        merge: a.merge,
        zstd_level: a.zstd_level,
        threads: pool.current_num_threads(),
    };
    // Every line is kept for the artifact's preprocess.log.
    let log = a.log.log().keeping_lines();
    let outcome = pool
        .install(|| run(&opts, &log))
        .with_context(|| format!("preprocess of {} failed", data.display()))?;
    println!("{}", outcome.artifact.dir.display());
    Ok(())
}
