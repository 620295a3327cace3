//! `rcic-ensemble`: the reference's `make_submission.py` over prediction
//! Parquet files. By hand: `rcic-ensemble -o submission.csv PRED...` writes
//! the CSV and `report.json`, `report.md` beside it. With
//! `--store DIR` the outputs become a content-addressed artifact
//! `DIR/ensemble/<key>/` (reused when it exists), whose folder is printed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;
use rcic_cli::args::{DataArg, LogArgs};
use rcic_cli::publish::{write_atomic, Staged};
use rcic_core::{AliasConfig, StageSpec, Store, Verify};
use rcic_ensemble::options::{check_options, Options};
use rcic_ensemble::output::{check_submission_path, data_tables};
use rcic_ensemble::pipeline::submission_csv;
use rcic_ensemble::report;

/// Bump when the same inputs would give different outputs. 2: RxRx1-shaped
/// plates are solved on their group's classes alone, which may pick another
/// of several exactly tied optimal assignments. 3: no report.png (the report
/// stage draws every chart).
const STAGE_VERSION: &str = "3";

#[derive(Parser, Debug)]
#[command(
    name = "rcic-ensemble",
    version,
    about = "Ensemble prediction files into a submission (docs/method.md section 9): per-file and ensemble accuracy, plate groups, per-plate linear sum assignment, id_code,sirna CSV and a report"
)]
struct Cli {
    /// Prediction Parquet files (data-schemas/predictions.md), one or more,
    /// each once.
    #[arg(required = true, value_name = "PRED")]
    files: Vec<PathBuf>,

    /// Submission CSV to write (id_code,sirna); report.json and report.md go
    /// beside it. Required unless --store is given.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,

    // --data: the ensemble reads the root's tables (the competition's
    // train.csv, test.csv and controls, or the public release's metadata.csv).
    #[command(flatten)]
    data: DataArg,

    /// Weights of the files, comma-separated, one per file, each finite and
    /// > 0 [default: all 1].
    #[arg(
        short = 'w',
        long = "weights",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    weights: Option<Vec<f64>>,

    /// Worker threads (capped at the cores available): plates are solved in
    /// parallel.
    #[arg(short = 't', long, default_value_t = 12)]
    threads: usize,

    /// The synthetic generator's test_truth.csv (id_code,...,sirna): also
    /// report test accuracy after every step.
    #[arg(long)]
    truth: Option<PathBuf>,

    /// Layout aliases: `default` (RxRx1's HUVEC-18=RPE-03:1 when both exist),
    /// `none`, or TARGET=SOURCE:SHIFT[,...].
    #[arg(long = "alias", default_value = "default")]
    alias: AliasConfig,

    /// Beyond the reference (off by default): replace each site's logits by
    /// log_softmax(logits / T) before summing.
    #[arg(long)]
    temperature: Option<f64>,

    /// Beyond the reference (off by default): N Sinkhorn balancing
    /// iterations per plate before the assignment (at most 10000).
    #[arg(long, value_name = "N")]
    sinkhorn: Option<usize>,

    /// Beyond the reference (off by default): give test wells of a
    /// layout-alias target their known label instead of the assigned one.
    #[arg(long)]
    use_alias_labels: bool,

    /// Artifact store: write the outputs as DIR/ensemble/<key>/ (reused when
    /// present) and print that folder.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,

    // -q/-v.
    #[command(flatten)]
    log: LogArgs,
}

fn main() {
    rcic_cli::report::main(real_main);
}

fn real_main() -> Result<()> {
    let cli: Cli = rcic_cli::config::parse("ensemble");
    if cli.output.is_none() && cli.store.is_none() {
        bail!("-o/--output FILE or --store DIR is required");
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let threads = cli.threads.clamp(1, cores);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .context("cannot start the thread pool")?;
    let opts = Options {
        data: cli.data.data.clone(),
        files: cli.files.clone(),
        weights: cli.weights.clone(),
        truth: cli.truth.clone(),
        aliases: cli.alias.clone(),
        temperature: cli.temperature,
        sinkhorn: cli.sinkhorn,
        use_alias_labels: cli.use_alias_labels,
    };
    check_options(&opts)?;
    if let Some(out) = &cli.output {
        check_submission_path(out, &opts, cli.store.is_none())?;
    }
    let log = cli.log.log().keeping_lines();
    log.debug(format!("Args: {cli:?}"));

    if let Some(store) = &cli.store {
        let store = Store::open(store)
            .with_context(|| format!("cannot open artifact store {}", store.display()))?;
        let spec = stage_spec(&cli)?;
        if let Some(art) = store.lookup(&spec, Verify::Full)? {
            log.info(format!("reusing {}", art.dir.display()));
            copy_out(&cli, &art.file("submission.csv"))?;
            println!("{}", art.dir.display());
            return Ok(());
        }
        let outcome = rcic_ensemble::run(&opts, &log)?;
        let writer = store.begin(&spec)?;
        let dir = writer.dir().to_path_buf();
        let mut staged = Staged::default();
        staged.add(
            &dir.join("submission.csv"),
            submission_csv(&outcome.submission).as_bytes(),
        )?;
        staged.add(
            &dir.join(report::JSON),
            report::json(&outcome.report).as_bytes(),
        )?;
        staged.add(
            &dir.join(report::MARKDOWN),
            report::markdown(&outcome.report, "submission.csv").as_bytes(),
        )?;
        log.info(format!(
            "Saving csv submission into {}",
            writer.final_dir().join("submission.csv").display()
        ));
        staged.add(&dir.join("ensemble.log"), log.text().as_bytes())?;
        staged.publish()?;
        let art = writer.commit()?;
        copy_out(&cli, &art.file("submission.csv"))?;
        println!("{}", art.dir.display());
        return Ok(());
    }

    let out = cli.output.as_ref().expect("checked");
    let outcome = rcic_ensemble::run(&opts, &log)?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    // The submission is published first: the report files beside it only
    // once it is in place.
    let mut staged = Staged::default();
    staged.add(out, submission_csv(&outcome.submission).as_bytes())?;
    staged.add(
        &dir.join(report::JSON),
        report::json(&outcome.report).as_bytes(),
    )?;
    staged.add(
        &dir.join(report::MARKDOWN),
        report::markdown(&outcome.report, &name).as_bytes(),
    )?;
    log.info(format!("Saving csv submission into {}", out.display()));
    staged.publish()?;
    Ok(())
}

/// With --store and -o, the artifact's CSV is also copied to -o.
fn copy_out(cli: &Cli, csv: &Path) -> Result<()> {
    if let Some(out) = &cli.output {
        let bytes = std::fs::read(csv).with_context(|| format!("cannot read {}", csv.display()))?;
        write_atomic(out, &bytes)?;
    }
    Ok(())
}

/// What determines the output: the parameters, the dataset's CSVs, every
/// prediction file (its artifact key when it lies in a store artifact, else
/// its content hash) and the truth file.
fn stage_spec(cli: &Cli) -> Result<StageSpec> {
    let params = serde_json::json!({
        "weights": cli.weights,
        "alias": format!("{:?}", cli.alias),
        "temperature": cli.temperature,
        "sinkhorn": cli.sinkhorn,
        "use_alias_labels": cli.use_alias_labels,
    });
    let mut spec = StageSpec::new("ensemble", STAGE_VERSION, params);
    let mut h = blake3::Hasher::new();
    for p in data_tables(&cli.data.data) {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (_, x) = rcic_core::store::hash_file(&p)
            .with_context(|| format!("cannot hash {}", p.display()))?;
        h.update(name.as_bytes());
        h.update(x.as_bytes());
    }
    spec = spec.input("dataset_csvs", &h.finalize().to_hex()[..32]);
    for (i, f) in cli.files.iter().enumerate() {
        let in_artifact = f
            .parent()
            .and_then(|d| rcic_core::Artifact::open(d).ok())
            .and_then(|a| {
                let name = f.file_name()?.to_string_lossy().to_string();
                a.manifest
                    .files
                    .iter()
                    .any(|e| e.path == name)
                    .then(|| format!("{}/{name}", a.manifest.key))
            });
        let key = match in_artifact {
            Some(k) => k,
            None => {
                rcic_core::store::hash_file(f)
                    .with_context(|| format!("cannot read prediction file {}", f.display()))?
                    .1
            }
        };
        spec = spec.input(&format!("predictions_{i}"), &key);
    }
    if let Some(t) = &cli.truth {
        let (_, x) = rcic_core::store::hash_file(t)
            .with_context(|| format!("cannot read truth file {}", t.display()))?;
        spec = spec.input("truth", &x);
    }
    Ok(spec)
}
