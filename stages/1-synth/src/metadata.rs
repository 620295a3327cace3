//! The public RxRx1 release's metadata.csv: one row per site
//! (`site_id,well_id,cell_type,dataset,experiment,plate,well,site,
//! well_type,sirna,sirna_id`), test rows labelled, sorted by experiment,
//! plate, well and site. `sirna` is a name as the release has them: `EMPTY`
//! for the negative control, a made-up ThermoFisher-like id `sN` otherwise.

use std::path::Path;

use crate::csvout::write_lines;
use crate::error::Result;
use crate::layout::ExperimentLayout;
use crate::preset::{Spec, SITES};

pub const METADATA_HEADER: &str =
    "site_id,well_id,cell_type,dataset,experiment,plate,well,site,well_type,sirna,sirna_id";

/// The siRNA name of a class.
fn sirna_name(spec: &Spec, sirna: u32) -> String {
    if sirna == spec.negative_control() {
        "EMPTY".into()
    } else {
        format!("s{}", 20000 + sirna)
    }
}

fn well_type(spec: &Spec, sirna: u32) -> &'static str {
    if !spec.is_control(sirna) {
        "treatment"
    } else if sirna == spec.negative_control() {
        "negative_control"
    } else {
        "positive_control"
    }
}

/// Writes metadata.csv of every experiment of `layouts` to `path`.
pub fn write_metadata(spec: &Spec, layouts: &[ExperimentLayout], path: &Path) -> Result<()> {
    let mut wells: Vec<(&ExperimentLayout, u8, String, u32)> = layouts
        .iter()
        .flat_map(|e| {
            e.plates.iter().enumerate().flat_map(move |(i, p)| {
                p.wells
                    .iter()
                    .map(move |(w, s)| (e, i as u8 + 1, w.to_string(), *s))
            })
        })
        .collect();
    wells.sort_by(|a, b| (&a.0.experiment.name, a.1, &a.2).cmp(&(&b.0.experiment.name, b.1, &b.2)));
    let lines = wells.into_iter().flat_map(|(e, plate, well, sirna)| {
        let name = &e.experiment.name;
        let well_id = format!("{name}_{plate}_{well}");
        (1..=SITES).map(move |site| {
            format!(
                "{well_id}_{site},{well_id},{},{},{name},{plate},{well},{site},{},{},{sirna}",
                e.cell_type,
                e.experiment.split.dir(),
                well_type(spec, sirna),
                sirna_name(spec, sirna)
            )
        })
    });
    write_lines(path, METADATA_HEADER, lines)
}
