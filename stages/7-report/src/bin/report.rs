//! `rcic-report`: one self-contained HTML page (inline CSS and SVG, images
//! as `data:` URIs, no script) of a pipeline run: training curves from the
//! train stage's metrics, the ensemble's accuracy by step from its
//! `report.json`, and sample site composites from the dataset. Every input
//! is optional, at least one is required; every input is read and checked
//! before the page is written, atomically.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Parser;
use rcic_cli::output::{check_output, Input, Output};
use rcic_cli::publish::write_atomic;
use rcic_report::catalog::Catalog;
use rcic_report::curves::{self, Run};
use rcic_report::metrics::Metrics;
use rcic_report::page::{document, Section};
use rcic_report::{samples, steps};

#[derive(Parser, Debug)]
#[command(
    name = "rcic-report",
    version,
    about = "One self-contained HTML page of a run: training curves (metrics Parquet), ensemble accuracy by step (report.json) and sample site composites (dataset)"
)]
struct Cli {
    /// HTML file to write (atomically: a temporary sibling renamed into
    /// place); none of the inputs, outside --data. Required unless
    /// --summary is given.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        required_unless_present = "summary"
    )]
    output: Option<PathBuf>,

    /// Print the pipeline's accuracy table (Markdown) to stdout: each prediction
    /// file's single-site and combined-sites accuracy, then the ensemble's steps
    /// (needs --ensemble; the files, dataset and truth are the ones it names).
    #[arg(long)]
    summary: bool,

    /// Training metrics of one run, NAME=FILE (FILE: `rcic-train --save
    /// NAME`'s NAME.metrics.parquet); repeat or list several, one curve per
    /// run. A bare FILE is named by its seed.
    #[arg(long = "metrics", value_name = "NAME=FILE", num_args = 1..)]
    metrics: Vec<String>,

    /// The ensemble stage's report.json: steps table and accuracy-by-step chart.
    #[arg(long, value_name = "FILE")]
    ensemble: Option<PathBuf>,

    /// Kaggle RxRx1 root to show sample sites from (needs its CSVs).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// How many sample sites to show (with --data) [default: 8].
    #[arg(long, value_name = "K")]
    samples: Option<usize>,

    /// Sample sites larger than this are scaled down to it (pixels, longer
    /// side; 0: never).
    #[arg(long, value_name = "N", default_value_t = 256)]
    sample_size: u32,

    /// The page's title.
    #[arg(long, default_value = "rcic report")]
    title: String,
}

fn main() {
    rcic_cli::report::main(real_main);
}

/// `NAME=FILE` -> (Some(NAME), FILE); `FILE` -> (None, FILE).
fn split_metrics_arg(arg: &str) -> (Option<String>, PathBuf) {
    match arg.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            (Some(name.to_string()), PathBuf::from(file))
        }
        _ => (None, PathBuf::from(arg)),
    }
}

fn read_runs(args: &[String]) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    let mut names = BTreeSet::new();
    for arg in args {
        let (name, path) = split_metrics_arg(arg);
        if name.is_none() && arg.starts_with('=') && !path.exists() {
            bail!(
                "--metrics {arg}: no file {arg}, and the NAME before '=' is empty; expected NAME=FILE or FILE (with the flag: --metrics NAME=FILE or --metrics=FILE)"
            );
        }
        let metrics = Metrics::read(&path)?;
        let name = name.unwrap_or_else(|| match &metrics.seed {
            Some(s) => format!("seed {s}"),
            None => stem(&path),
        });
        if !names.insert(name.clone()) {
            bail!("--metrics: the name {name:?} is given twice (use NAME=FILE to tell runs apart)");
        }
        runs.push(Run { name, metrics });
    }
    Ok(runs)
}

fn stem(path: &Path) -> String {
    path.file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".metrics.parquet")
                .to_string()
        })
        .unwrap_or_else(|| path.display().to_string())
}

fn real_main() -> Result<()> {
    let cli: Cli = rcic_cli::config::parse("report");
    if cli.summary {
        let Some(report) = &cli.ensemble else {
            bail!("--summary needs --ensemble report.json");
        };
        let table = rcic_report::summary::table(report)?;
        print!("{table}");
        if cli.output.is_none() {
            return Ok(());
        }
    }
    let Some(output) = cli.output.clone() else {
        unreachable!("clap requires -o unless --summary");
    };
    if cli.metrics.is_empty() && cli.ensemble.is_none() && cli.data.is_none() {
        bail!(
            "nothing to report: give --metrics NAME=FILE, --ensemble report.json and/or --data DIR"
        );
    }
    if cli.samples.is_some() && cli.data.is_none() {
        bail!("--samples needs --data DIR (the dataset the sites come from)");
    }

    let metrics_files: Vec<PathBuf> = cli.metrics.iter().map(|a| split_metrics_arg(a).1).collect();
    let mut inputs: Vec<Input> = metrics_files
        .iter()
        .map(|p| Input::File("--metrics", p))
        .collect();
    inputs.extend(cli.ensemble.iter().map(|p| Input::File("--ensemble", p)));
    inputs.extend(cli.data.iter().map(|d| Input::Folder("--data", d)));
    check_output(&Output::new("-o", &output), &inputs)?;

    // Read everything first: a bad input writes nothing.
    let runs = read_runs(&cli.metrics)?;
    let ensemble = match &cli.ensemble {
        Some(p) => Some((p, rcic_report::ensemble::read(p)?)),
        None => None,
    };
    let sample_sites = match &cli.data {
        Some(root) => {
            let cat = Catalog::read(root)?;
            let k = cli.samples.unwrap_or(8);
            Some((root, samples::render(root, &cat, k, cli.sample_size)?))
        }
        None => None,
    };

    let mut sections = Vec::new();
    let mut inputs = Vec::new();
    if !runs.is_empty() {
        inputs.push(format!("{} metrics file(s)", runs.len()));
        sections.push(Section {
            id: "training".into(),
            title: "Training curves".into(),
            body: curves::section(&runs),
        });
    }
    if let Some((path, r)) = &ensemble {
        inputs.push(path.display().to_string());
        sections.push(Section {
            id: "ensemble".into(),
            title: "Ensemble".into(),
            body: steps::section(r, &path.display().to_string()),
        });
    }
    if let Some((root, s)) = &sample_sites {
        inputs.push(format!("{} sample site(s) of {}", s.len(), root.display()));
        sections.push(Section {
            id: "samples".into(),
            title: "Sample sites".into(),
            body: samples::section(s, &root.display().to_string()),
        });
    }
    let meta = format!(
        "rcic-report {}: {}",
        env!("CARGO_PKG_VERSION"),
        inputs.join(", ")
    );
    let html = document(&cli.title, &meta, &sections);
    // The error names the file and what failed.
    write_atomic(&output, html.as_bytes())?;
    eprintln!(
        "wrote {} ({} KB: {})",
        output.display(),
        html.len().div_ceil(1024),
        sections
            .iter()
            .map(|s| s.title.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_args() {
        assert_eq!(
            split_metrics_arg("seed0=a/b.parquet"),
            (Some("seed0".into()), PathBuf::from("a/b.parquet"))
        );
        assert_eq!(
            split_metrics_arg("a/b.parquet"),
            (None, PathBuf::from("a/b.parquet"))
        );
        assert_eq!(stem(Path::new("x/model.metrics.parquet")), "model");
    }
}
