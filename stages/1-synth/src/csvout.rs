//! The Kaggle CSVs, byte-compatible with RxRx1's: header line, no quoting,
//! LF line endings, rows sorted by experiment, plate and well.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{io, Result};
use crate::layout::ExperimentLayout;
use crate::pixelstats::{fmt_float, ImageStats};
use crate::preset::{Spec, Split, CHANNELS};

pub const TRAIN_HEADER: &str = "id_code,experiment,plate,well,sirna";
pub const TEST_HEADER: &str = "id_code,experiment,plate,well";
pub const CONTROLS_HEADER: &str = "id_code,experiment,plate,well,sirna,well_type";
pub const PIXEL_STATS_HEADER: &str =
    "id_code,experiment,plate,well,site,channel,mean,std,median,min,max";
pub const TRUTH_HEADER: &str = "id_code,experiment,plate,well,sirna";

/// Writes `lines` (without newlines) after `header` to `path`.
pub fn write_lines(
    path: &Path,
    header: &str,
    lines: impl IntoIterator<Item = String>,
) -> Result<()> {
    let f = File::create(path).map_err(io(path))?;
    let mut w = BufWriter::new(f);
    let mut put = |s: &str| -> std::io::Result<()> {
        w.write_all(s.as_bytes())?;
        w.write_all(b"\n")
    };
    put(header).map_err(io(path))?;
    for l in lines {
        put(&l).map_err(io(path))?;
    }
    w.flush().map_err(io(path))
}

/// One row per used well: (layout, plate, well text, sirna).
fn rows<'a>(
    layouts: &'a [ExperimentLayout],
    split: Split,
) -> impl Iterator<Item = (&'a ExperimentLayout, u8, String, u32)> + 'a {
    layouts
        .iter()
        .filter(move |e| e.experiment.split == split)
        .flat_map(|e| {
            e.plates.iter().enumerate().flat_map(move |(i, p)| {
                p.wells
                    .iter()
                    .map(move |(w, s)| (e, i as u8 + 1, w.to_string(), *s))
            })
        })
}

fn id(e: &ExperimentLayout, plate: u8, well: &str) -> String {
    format!("{}_{}_{}", e.experiment.name, plate, well)
}

/// train.csv, test.csv, train_controls.csv, test_controls.csv into `dir`.
pub fn write_tables(spec: &Spec, layouts: &[ExperimentLayout], dir: &Path) -> Result<()> {
    let full = |e: &ExperimentLayout, p: u8, w: &str, s: u32| {
        format!("{},{},{},{},{}", id(e, p, w), e.experiment.name, p, w, s)
    };
    let treat = |s: &u32| !spec.is_control(*s);
    write_lines(
        &dir.join("train.csv"),
        TRAIN_HEADER,
        rows(layouts, Split::Train)
            .filter(|r| treat(&r.3))
            .map(|(e, p, w, s)| full(e, p, &w, s)),
    )?;
    write_lines(
        &dir.join("test.csv"),
        TEST_HEADER,
        rows(layouts, Split::Test)
            .filter(|r| treat(&r.3))
            .map(|(e, p, w, _)| format!("{},{},{},{}", id(e, p, &w), e.experiment.name, p, w)),
    )?;
    for (split, name) in [
        (Split::Train, "train_controls.csv"),
        (Split::Test, "test_controls.csv"),
    ] {
        write_lines(
            &dir.join(name),
            CONTROLS_HEADER,
            rows(layouts, split)
                .filter(|r| !treat(&r.3))
                .map(|(e, p, w, s)| {
                    let kind = if s == spec.negative_control() {
                        "negative_control"
                    } else {
                        "positive_control"
                    };
                    format!("{},{kind}", full(e, p, &w, s))
                }),
        )?;
    }
    Ok(())
}

/// test_truth.csv (the labels of test.csv's wells) into `truth_dir`,
/// whatever the dataset's layout.
pub fn write_test_truth(spec: &Spec, layouts: &[ExperimentLayout], truth_dir: &Path) -> Result<()> {
    write_lines(
        &truth_dir.join("test_truth.csv"),
        TRUTH_HEADER,
        rows(layouts, Split::Test)
            .filter(|r| !spec.is_control(r.3))
            .map(|(e, p, w, s)| {
                format!("{},{},{},{},{}", id(e, p, &w), e.experiment.name, p, w, s)
            }),
    )
}

/// One site of the dataset, in output order.
#[derive(Debug, Clone)]
pub struct SiteRef {
    pub split: Split,
    pub experiment: String,
    pub plate: u8,
    pub well: String,
    pub site: u8,
}

impl SiteRef {
    pub fn id_code(&self) -> String {
        format!("{}_{}_{}", self.experiment, self.plate, self.well)
    }
}

/// pixel_stats.csv: one row per site and channel, sorted by experiment,
/// plate, well, site, channel.
pub fn write_pixel_stats(
    path: &Path,
    sites: &[SiteRef],
    stats: &[[ImageStats; CHANNELS]],
) -> Result<()> {
    let mut order: Vec<usize> = (0..sites.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&sites[a], &sites[b]);
        (&x.experiment, x.plate, &x.well, x.site).cmp(&(&y.experiment, y.plate, &y.well, y.site))
    });
    write_lines(
        path,
        PIXEL_STATS_HEADER,
        order.into_iter().flat_map(|i| {
            let s = &sites[i];
            (0..CHANNELS).map(move |c| {
                let st = &stats[i][c];
                format!(
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    s.id_code(),
                    s.experiment,
                    s.plate,
                    s.well,
                    s.site,
                    c + 1,
                    fmt_float(st.mean),
                    fmt_float(st.std),
                    fmt_float(st.median),
                    st.min,
                    st.max
                )
            })
        }),
    )
}
