//! The training-curves section: per run (one `--metrics` file, usually one
//! seed) the training loss, training accuracy and validation accuracy by
//! epoch, one series per run, pseudo-labelling epochs shaded; and a table of
//! each run's final and best values.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::chart::{Band, LineChart, Series, XAxis, PALETTE};
use crate::metrics::{MetricRow, Metrics};
use crate::page::table;

/// One metrics file and the name it is shown under.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: String,
    pub metrics: Metrics,
}

impl Run {
    /// The legend entry: the name, with the seed when the name lacks it.
    pub fn label(&self) -> String {
        match &self.metrics.seed {
            Some(s)
                if !self.name.contains(&format!("seed {s}")) && self.name != format!("seed{s}") =>
            {
                format!("{} (seed {s})", self.name)
            }
            _ => self.name.clone(),
        }
    }
}

/// Contiguous runs of epochs: `[2, 3, 4, 7]` -> `[(2, 4), (7, 7)]`.
pub fn ranges(epochs: &BTreeSet<u32>) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &e in epochs {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == e => *b = e,
            _ => out.push((e, e)),
        }
    }
    out
}

fn chart(
    runs: &[Run],
    title: &str,
    y_label: &str,
    scope: &str,
    value: fn(&MetricRow) -> Option<f64>,
    bands: &[Band],
    y_from_zero: bool,
) -> LineChart {
    LineChart {
        title: title.into(),
        x: XAxis::Numeric {
            label: "epoch".into(),
            integer: true,
        },
        y_label: y_label.into(),
        series: runs
            .iter()
            .enumerate()
            .map(|(i, r)| Series {
                name: r.label(),
                colour: PALETTE[i % PALETTE.len()].into(),
                points: r.metrics.series(scope, value),
            })
            .collect(),
        bands: bands.to_vec(),
        band_legend: "pseudo-labelling".into(),
        y_from_zero,
    }
}

fn f(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// The section's HTML.
pub fn section(runs: &[Run]) -> String {
    let mut s = String::new();
    let pl: BTreeSet<u32> = runs
        .iter()
        .flat_map(|r| r.metrics.pseudo_label_epochs())
        .map(|(e, _)| e)
        .collect();
    let bands = pl_bands(&pl);
    let _ = write!(
        s,
        "<p>{} run(s), from the train stage's <code>NAME.metrics.parquet</code> (data-schemas/metrics.md).{}</p>",
        runs.len(),
        if pl.is_empty() {
            String::new()
        } else {
            " Shaded: epochs that began with a pseudo-labelling round.".to_string()
        }
    );
    charts(&mut s, runs, &bands);
    s.push_str(&summary_table(runs));
    cell_type_table(&mut s, runs);
    s
}

/// Shaded bands of the epochs that began with a pseudo-labelling round.
fn pl_bands(pl: &BTreeSet<u32>) -> Vec<Band> {
    ranges(pl)
        .into_iter()
        .map(|(a, b)| Band {
            from: a as f64,
            to: b as f64,
            label: if a == b {
                format!("pseudo-labelling round at the start of epoch {a}")
            } else {
                format!("pseudo-labelling rounds at the start of epochs {a}-{b}")
            },
        })
        .collect()
}

/// Training loss and accuracy, and validation accuracy when there is any.
fn charts(s: &mut String, runs: &[Run], bands: &[Band]) {
    s.push_str("<div class=\"charts\">");
    s.push_str(
        &chart(
            runs,
            "Training loss",
            "loss",
            "train",
            |r| r.loss,
            bands,
            false,
        )
        .svg(),
    );
    s.push_str(
        &chart(
            runs,
            "Training accuracy",
            "accuracy",
            "train",
            |r| r.accuracy,
            bands,
            true,
        )
        .svg(),
    );
    let has_val = runs
        .iter()
        .any(|r| !r.metrics.series("val", |r| r.accuracy).is_empty());
    if has_val {
        s.push_str(
            &chart(
                runs,
                "Validation accuracy",
                "accuracy",
                "val",
                |r| r.accuracy,
                bands,
                true,
            )
            .svg(),
        );
    }
    s.push_str("</div>");
    if !has_val {
        s.push_str("<p>No validation rows (trained without a validation fold, <code>--cv-number -1</code>).</p>");
    }
}

/// Each run's file, seed, fold, epochs, last and best values and
/// pseudo-labelled wells.
fn summary_table(runs: &[Run]) -> String {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let m = &r.metrics;
            let last = |scope: &str, v: fn(&MetricRow) -> Option<f64>| {
                m.series(scope, v).last().map(|p| p.1)
            };
            let best = m.series("val", |r| r.accuracy).into_iter().fold(
                None,
                |acc: Option<(f64, f64)>, p| match acc {
                    Some(a) if a.1 >= p.1 => Some(a),
                    _ => Some(p),
                },
            );
            let epochs: BTreeSet<u32> = m.rows.iter().map(|r| r.epoch).collect();
            let pl: Vec<String> = m
                .pseudo_label_epochs()
                .into_iter()
                .map(|(e, n)| format!("{e}: +{n}"))
                .collect();
            vec![
                r.name.clone(),
                m.path.display().to_string(),
                m.seed.clone().unwrap_or_else(|| "-".into()),
                m.cv_number.clone().unwrap_or_else(|| "-".into()),
                epochs.len().to_string(),
                f(last("train", |r| r.loss), 4),
                f(last("train", |r| r.accuracy), 4),
                f(last("val", |r| r.accuracy), 4),
                best.map(|(e, a)| format!("{a:.4} (epoch {e})"))
                    .unwrap_or_else(|| "-".into()),
                if pl.is_empty() {
                    "-".into()
                } else {
                    pl.join(", ")
                },
            ]
        })
        .collect();
    table(
        &[
            "run",
            "file",
            "seed",
            "fold",
            "epochs",
            "last train loss",
            "last train acc",
            "last val acc",
            "best val acc",
            "pseudo-labelled wells by epoch",
        ],
        &rows,
    )
}

/// Per cell type, last epoch (when the metrics have `val:CELL` scopes).
fn cell_type_table(s: &mut String, runs: &[Run]) {
    let cell_scopes: BTreeSet<String> = runs
        .iter()
        .flat_map(|r| r.metrics.scopes())
        .filter(|s| s.starts_with("val:"))
        .collect();
    if !cell_scopes.is_empty() {
        let header: Vec<String> = std::iter::once("run (last epoch)".to_string())
            .chain(cell_scopes.iter().map(|s| format!("val acc {}", &s[4..])))
            .collect();
        let header: Vec<&str> = header.iter().map(|h| h.as_str()).collect();
        let rows: Vec<Vec<String>> =
            runs.iter()
                .map(|r| {
                    std::iter::once(r.name.clone())
                        .chain(cell_scopes.iter().map(|sc| {
                            f(r.metrics.series(sc, |r| r.accuracy).last().map(|p| p.1), 4)
                        }))
                        .collect()
                })
                .collect();
        let _ = write!(
            s,
            "<p>Validation accuracy per cell type at each run's last epoch:</p>{}",
            table(&header, &rows)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{rows_for_test, write_for_test};

    fn run(name: &str, seed: u64, pl_from: u32) -> (tempfile::TempDir, Run) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.metrics.parquet");
        write_for_test(&p, &rows_for_test(4, pl_from), seed);
        let metrics = Metrics::read(&p).unwrap();
        (
            d,
            Run {
                name: name.into(),
                metrics,
            },
        )
    }

    #[test]
    fn contiguous_ranges() {
        let e: BTreeSet<u32> = [2, 3, 4, 7].into_iter().collect();
        assert_eq!(ranges(&e), vec![(2, 4), (7, 7)]);
        assert_eq!(ranges(&BTreeSet::new()), vec![]);
    }

    #[test]
    fn three_charts_one_series_per_run_and_the_table() {
        let (_a, r0) = run("seed0", 0, 2);
        let (_b, r1) = run("b", 1, 9);
        assert_eq!(r0.label(), "seed0");
        assert_eq!(r1.label(), "b (seed 1)");
        let html = section(&[r0, r1]);
        assert_eq!(html.matches("<svg").count(), 3);
        for t in ["Training loss", "Training accuracy", "Validation accuracy"] {
            assert!(html.contains(t), "{t}");
        }
        // 2 runs x 4 epochs of points in each chart.
        assert_eq!(html.matches("<circle").count(), 3 * 2 * 4);
        assert!(html.contains("epochs 2-3") && html.contains(">pseudo-labelling</text>"));
        assert!(html.contains("2: +20, 3: +30"));
        assert!(html.contains("0.1500 (epoch 3)"));
        assert!(html.contains("val acc HEPG2"));
    }
}
