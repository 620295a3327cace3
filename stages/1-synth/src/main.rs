//! rcic-synth: writes a synthetic RxRx1-like dataset in the exact Kaggle
//! layout, with its truth in a separate folder. Flags may come from the
//! `[synth]` section of a preset (`--config presets/demo.toml`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use rcic_cli::args::{LogArgs, ThreadsArg};
use rcic_cli::log::Level;
use rcic_synth::{generate, FolderLayout, Options, Preset};

/// Synthetic RxRx1 (Cell Painting, 6 channels, 2 sites per well) in the exact
/// Kaggle layout: train.csv, test.csv, train_controls.csv, test_controls.csv,
/// pixel_stats.csv and {train,test}/EXPERIMENT/PlateP/WELL_sS_wC.png. The test
/// labels and the generator's truth (plate groups, rotations, alias, batch
/// effects) go to a separate truth folder so the dataset folder looks exactly
/// like the real data. Same preset, seed and options give byte-identical output
/// whatever the thread count.
#[derive(Debug, Parser)]
#[command(name = "rcic-synth", version, about, long_about)]
struct Cli {
    /// Dataset shape: tiny (CI: 8 experiments of HEPG2/HUVEC, 32 treatments
    /// and 4 controls, 32 px), demo (16 experiments of 4 cell types, 100
    /// treatments and 8 controls, 64 px), rxrx1 (the real 51 experiments, 1108
    /// treatments and 31 controls, 308 wells per plate, 512 px).
    #[arg(long, value_enum)]
    preset: Preset,

    /// Dataset folder to create. Written to a hidden temporary sibling and
    /// renamed into place when complete.
    #[arg(long)]
    out: PathBuf,

    /// Seed of every random choice (layouts, phenotypes, batch effects, pixels).
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Image width and height in pixels [default: the preset's: 32, 64 or 512].
    /// Cell sizes scale with the square root of the size, so smaller images
    /// show fewer, relatively larger cells.
    #[arg(long)]
    image_size: Option<u32>,

    /// Comma-separated experiments to write (default: all of the preset's).
    /// Each experiment is identical to the same experiment in a full run.
    #[arg(long, value_delimiter = ',')]
    experiments: Option<Vec<String>>,

    /// Divides every phenotype's strength (in log space of the morphology
    /// parameters) while batch effects and noise stay as they are: 1 is the
    /// calibrated default, 2 halves the phenotypes (harder), 0.5 doubles them
    /// (easier). Must be > 0.
    #[arg(long, default_value_t = 1.0)]
    difficulty: f32,

    /// Folder for test_truth.csv (labels of test.csv) and truth.json
    /// [default: <parent of --out>/<name of --out>-truth]. Must lie outside
    /// --out, and --out outside it.
    #[arg(long)]
    truth_out: Option<PathBuf>,

    /// Write the CSVs and the truth only: no images and no pixel_stats.csv.
    #[arg(long)]
    no_images: bool,

    /// Folder layout: competition (the Kaggle competition's train.csv,
    /// test.csv, train_controls.csv, test_controls.csv, pixel_stats.csv,
    /// {train,test}/EXP/PlateP/) or public (the public RxRx1 release's
    /// metadata.csv, one row per site with the test labels, and
    /// images/EXP/PlateP/; no pixel statistics). The images are the same in
    /// both; test_truth.csv goes to the truth folder in both.
    #[arg(long, value_enum, default_value_t = FolderLayout::Competition)]
    layout: FolderLayout,

    // --threads: worker threads; 0 uses all cores; at most 1024.
    #[command(flatten)]
    threads: ThreadsArg,

    /// Replace --out and the truth folder if they exist and are not empty
    /// (otherwise that is an error).
    #[arg(long)]
    force: bool,

    // -q/-v.
    #[command(flatten)]
    log: LogArgs,
}

fn main() {
    rcic_cli::report::main(run);
}

fn run() -> anyhow::Result<()> {
    let cli: Cli = rcic_cli::config::parse("synth");
    let log = cli.log.log();
    let opts = Options {
        preset: cli.preset,
        out: cli.out.clone(),
        seed: cli.seed,
        image_size: cli.image_size,
        experiments: cli.experiments.map(|v| {
            v.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        difficulty: cli.difficulty,
        truth_out: cli.truth_out,
        images: !cli.no_images,
        threads: cli.threads.threads,
        force: cli.force,
        progress: log.shows(Level::Info),
        layout: cli.layout,
    };
    let s = generate(&opts).with_context(|| {
        format!(
            "generating preset {} into {}",
            cli.preset,
            cli.out.display()
        )
    })?;
    log.info(format!(
        "wrote {} ({} layout, {} experiments, {} px) and truth {}",
        s.out.display(),
        cli.layout,
        s.experiments,
        s.image_size,
        s.truth.display()
    ));
    log.info(format!(
        "generated {} sites in {:.2} s ({:.1} sites/s)",
        s.sites,
        s.seconds,
        s.sites as f64 / s.seconds.max(1e-9)
    ));
    Ok(())
}
