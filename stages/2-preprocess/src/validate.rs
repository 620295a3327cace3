//! Validation before anything is written: every site of the CSVs has its 6
//! PNGs, each is 8-bit grayscale with the size of its siblings (one square
//! size for the whole dataset, the most common one), and `--image-size`
//! divides it. Files under the image folders (`train/` and `test/`, or
//! `images/`) that no table row names are reported as warnings. Decoding errors (corrupt image data) are found
//! while packing; see `pack.rs`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::FileProblem;
use crate::plan::PlatePlan;
use crate::png::{check_color, read_header};

/// Result of the header pass.
#[derive(Debug)]
pub struct HeaderCheck {
    /// The dataset's image side (None if no header could be read).
    pub size: Option<u32>,
    /// Every offending file.
    pub problems: Vec<FileProblem>,
    /// Files whose header passed (candidates for a decode check).
    pub good: Vec<PathBuf>,
}

/// Reads every image header of `plates` in parallel.
pub fn check_headers(plates: &[&PlatePlan]) -> HeaderCheck {
    let paths: Vec<&Path> = plates
        .iter()
        .flat_map(|p| {
            p.sites
                .iter()
                .flat_map(|s| s.paths.iter().map(|x| x.as_path()))
        })
        .collect();
    let headers: Vec<_> = paths.par_iter().map(|p| read_header(p)).collect();
    let mut sizes: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for h in headers.iter().flatten() {
        *sizes.entry((h.width, h.height)).or_default() += 1;
    }
    // The most common size (the smallest among equals, for determinism).
    let common = sizes
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(s, n)| (*s, *n));
    let mut problems = Vec::new();
    let mut good = Vec::new();
    for (p, h) in paths.iter().zip(&headers) {
        let msg = match h {
            Err(m) => Some(m.clone()),
            Ok(h) => {
                if let Err(m) = check_color(h) {
                    Some(m)
                } else if let Some(((w, hh), n)) = common.filter(|c| c.0 != (h.width, h.height)) {
                    Some(format!(
                        "{}x{} pixels; expected {w}x{hh} like its siblings ({n} of the images)",
                        h.width, h.height
                    ))
                } else {
                    None
                }
            }
        };
        match msg {
            Some(message) => problems.push(FileProblem {
                path: p.to_path_buf(),
                message,
            }),
            None => good.push(p.to_path_buf()),
        }
    }
    let mut size = None;
    if let Some(((w, h), _)) = common {
        if w != h {
            for p in &good {
                problems.push(FileProblem {
                    path: p.clone(),
                    message: format!("{w}x{h} pixels; expected a square image"),
                });
            }
            good.clear();
        } else {
            size = Some(w);
        }
    }
    problems.sort();
    HeaderCheck {
        size,
        problems,
        good,
    }
}

/// Files under the image folders `dirs` (`train/` and `test/`, or the
/// public release's `images/`) that are not among `expected`, sorted.
pub fn extra_files(dirs: &[PathBuf], expected: &HashSet<PathBuf>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(dir: &Path, expected: &HashSet<PathBuf>, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                walk(&p, expected, out);
            } else if !expected.contains(&p) {
                out.push(p);
            }
        }
    }
    for d in dirs {
        walk(d, expected, &mut out);
    }
    out.sort();
    out
}
