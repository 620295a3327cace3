//! A difficulty proxy: nearest-centroid classification on per-image channel
//! statistics (pixel_stats.csv), within experiments (centroids from site 1,
//! evaluated on site 2) and across experiments (centroids from the training
//! experiments, evaluated on the test experiments), for three feature sets:
//! raw mean/std, per-image normalised shape statistics, and mean/std
//! standardised per experiment. Strong batch effects show up as a large gap
//! between "within" and "across" on raw features.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::error::{io, Result, SynthError};
use crate::preset::CHANNELS;

#[derive(Debug, Clone)]
pub struct ProxyRow {
    pub features: &'static str,
    pub within: f64,
    pub across: f64,
}

#[derive(Debug, Clone)]
pub struct ProxyReport {
    pub rows: Vec<ProxyRow>,
    pub classes: usize,
    pub images: usize,
    pub train_experiments: usize,
    pub test_experiments: usize,
}

impl ProxyReport {
    pub fn chance(&self) -> f64 {
        1.0 / self.classes.max(1) as f64
    }
}

impl fmt::Display for ProxyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "nearest-centroid proxy: {} images, {} classes (chance {:.3}), across = {} train -> {} test experiments",
            self.images,
            self.classes,
            self.chance(),
            self.train_experiments,
            self.test_experiments
        )?;
        writeln!(f, "| features | within experiment (site 1 -> site 2) | across experiments (train -> test) |")?;
        writeln!(f, "|---|---|---|")?;
        for r in &self.rows {
            writeln!(f, "| {} | {:.3} | {:.3} |", r.features, r.within, r.across)?;
        }
        Ok(())
    }
}

struct Sample {
    experiment: String,
    site: u8,
    sirna: u32,
    /// mean, std, median, min, max per channel.
    stats: [[f64; 5]; CHANNELS],
}

fn read(path: &Path) -> Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect())
}

fn bad(path: &Path, what: &str) -> SynthError {
    SynthError::InvalidOption {
        option: "proxy input",
        message: format!("{}: {what}", path.display()),
    }
}

/// Measures the proxy on a generated dataset `dir` with its truth folder.
pub fn measure(dir: &Path, truth_dir: &Path) -> Result<ProxyReport> {
    let mut labels: BTreeMap<String, u32> = BTreeMap::new();
    let mut train_exps = BTreeSet::new();
    for (p, train) in [
        (dir.join("train.csv"), true),
        (dir.join("train_controls.csv"), true),
        (dir.join("test_controls.csv"), false),
        (truth_dir.join("test_truth.csv"), false),
    ] {
        for row in read(&p)? {
            let s = row
                .get(4)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad(&p, "sirna column"))?;
            if train {
                train_exps.insert(row[1].clone());
            }
            labels.insert(row[0].clone(), s);
        }
    }
    let ps = dir.join("pixel_stats.csv");
    let mut by_site: BTreeMap<(String, u8), Sample> = BTreeMap::new();
    for row in read(&ps)? {
        let num = |i: usize| {
            row.get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| bad(&ps, "numeric column"))
        };
        let site = num(4)? as u8;
        let c = num(5)? as usize;
        if !(1..=CHANNELS).contains(&c) {
            return Err(bad(&ps, "channel"));
        }
        let sirna = *labels
            .get(&row[0])
            .ok_or_else(|| bad(&ps, "id_code without label"))?;
        let s = by_site
            .entry((row[0].clone(), site))
            .or_insert_with(|| Sample {
                experiment: row[1].clone(),
                site,
                sirna,
                stats: [[0.0; 5]; CHANNELS],
            });
        for k in 0..5 {
            s.stats[c - 1][k] = num(6 + k)?;
        }
    }
    let samples: Vec<Sample> = by_site.into_values().collect();
    let classes = labels.values().collect::<BTreeSet<_>>().len();
    let is_train: Vec<bool> = samples
        .iter()
        .map(|s| train_exps.contains(&s.experiment))
        .collect();

    let raw: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| s.stats.iter().flat_map(|c| [c[0], c[1]]).collect())
        .collect();
    let shape: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| {
            s.stats
                .iter()
                .flat_map(|c| {
                    let sd = c[1].max(1e-6);
                    [(c[2] - c[0]) / sd, (c[4] - c[0]) / sd, (c[3] - c[0]) / sd]
                })
                .collect()
        })
        .collect();
    let per_exp = standardise_within(&raw, &samples);
    let mut rows = Vec::new();
    for (name, feats) in [
        ("raw mean/std per channel", raw),
        ("per-image normalised ((median,max,min)-mean)/std", shape),
        ("mean/std standardised per experiment", per_exp),
    ] {
        let f = standardise(&feats);
        rows.push(ProxyRow {
            features: name,
            within: within(&f, &samples),
            across: across(&f, &samples, &is_train),
        });
    }
    Ok(ProxyReport {
        rows,
        classes,
        images: samples.len(),
        train_experiments: train_exps.len(),
        test_experiments: samples
            .iter()
            .map(|s| &s.experiment)
            .filter(|e| !train_exps.contains(*e))
            .collect::<BTreeSet<_>>()
            .len(),
    })
}

fn zscore(rows: &[&Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let d = rows.first().map(|r| r.len()).unwrap_or(0);
    let n = rows.len().max(1) as f64;
    let mut m = vec![0.0; d];
    let mut s = vec![0.0; d];
    for r in rows {
        for j in 0..d {
            m[j] += r[j] / n;
        }
    }
    for r in rows {
        for j in 0..d {
            s[j] += (r[j] - m[j]).powi(2) / n;
        }
    }
    (m, s.into_iter().map(|v| v.sqrt().max(1e-9)).collect())
}

fn standardise(f: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (m, s) = zscore(&f.iter().collect::<Vec<_>>());
    f.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(j, v)| (v - m[j]) / s[j])
                .collect()
        })
        .collect()
}

fn standardise_within(f: &[Vec<f64>], samples: &[Sample]) -> Vec<Vec<f64>> {
    let mut out = f.to_vec();
    let exps: BTreeSet<&String> = samples.iter().map(|s| &s.experiment).collect();
    for e in exps {
        let idx: Vec<usize> = (0..samples.len())
            .filter(|&i| &samples[i].experiment == e)
            .collect();
        let (m, s) = zscore(&idx.iter().map(|&i| &f[i]).collect::<Vec<_>>());
        for &i in &idx {
            for j in 0..m.len() {
                out[i][j] = (f[i][j] - m[j]) / s[j];
            }
        }
    }
    out
}

/// Accuracy of nearest centroid: centroids from `fit`, evaluated on `eval`.
fn nearest_centroid(
    f: &[Vec<f64>],
    samples: &[Sample],
    fit: &[usize],
    eval: &[usize],
) -> (usize, usize) {
    let mut cent: BTreeMap<u32, (Vec<f64>, f64)> = BTreeMap::new();
    for &i in fit {
        let e = cent
            .entry(samples[i].sirna)
            .or_insert_with(|| (vec![0.0; f[i].len()], 0.0));
        for (a, v) in e.0.iter_mut().zip(&f[i]) {
            *a += v;
        }
        e.1 += 1.0;
    }
    let cent: Vec<(u32, Vec<f64>)> = cent
        .into_iter()
        .map(|(k, (v, n))| (k, v.into_iter().map(|x| x / n).collect()))
        .collect();
    let mut correct = 0;
    for &i in eval {
        let best = cent
            .iter()
            .map(|(k, c)| {
                (
                    k,
                    c.iter()
                        .zip(&f[i])
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>(),
                )
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|x| *x.0);
        correct += (best == Some(samples[i].sirna)) as usize;
    }
    (correct, eval.len())
}

fn within(f: &[Vec<f64>], samples: &[Sample]) -> f64 {
    let exps: BTreeSet<&String> = samples.iter().map(|s| &s.experiment).collect();
    let (mut c, mut n) = (0, 0);
    for e in exps {
        let fit: Vec<usize> = (0..samples.len())
            .filter(|&i| &samples[i].experiment == e && samples[i].site == 1)
            .collect();
        let eval: Vec<usize> = (0..samples.len())
            .filter(|&i| &samples[i].experiment == e && samples[i].site != 1)
            .collect();
        let (a, b) = nearest_centroid(f, samples, &fit, &eval);
        c += a;
        n += b;
    }
    c as f64 / n.max(1) as f64
}

fn across(f: &[Vec<f64>], samples: &[Sample], is_train: &[bool]) -> f64 {
    let fit: Vec<usize> = (0..samples.len()).filter(|&i| is_train[i]).collect();
    let eval: Vec<usize> = (0..samples.len()).filter(|&i| !is_train[i]).collect();
    let (a, b) = nearest_centroid(f, samples, &fit, &eval);
    a as f64 / b.max(1) as f64
}
