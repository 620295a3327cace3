//! Sample sites for the page: a deterministic choice of treatment wells
//! (experiments take turns, alternating cell types; each experiment's wells
//! in plate and well order), each shown as the composite of its site 1,
//! embedded as a PNG `data:` URI and labelled with its id_code, split and
//! sirna where known.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use rcic_core::wells::cell_type;
use rcic_core::WellType;

use crate::catalog::{Catalog, Entry};
use crate::composite::RXRX1_COLOURS;
use crate::datauri::data_uri;
use crate::error::{ReportError, Result};
use crate::page::escape;
use crate::site::{encode_png, read_composite, resize, Located};

/// The site shown for each chosen well.
pub const SITE: u8 = 1;

/// Up to `k` treatment wells, round-robin over the experiments, each
/// experiment's wells in (plate, well) order. Experiments take turns across
/// cell types: the first experiment (by name) of every cell type, then the
/// second of every cell type, ... (HEPG2-01, HUVEC-01, RPE-01, U2OS-01,
/// HEPG2-02, ...), so a few samples already show every cell type.
pub fn choose(cat: &Catalog, k: usize) -> Vec<&Entry> {
    let mut by_exp: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in cat
        .entries
        .iter()
        .filter(|e| e.well_type == WellType::Treatment)
    {
        by_exp.entry(&e.experiment).or_default().push(e);
    }
    for v in by_exp.values_mut() {
        v.sort_by_key(|e| (e.plate, e.well));
    }
    // (rank within the cell type, cell type) for each experiment, in name order.
    let mut rank: BTreeMap<&str, usize> = BTreeMap::new();
    let mut order: Vec<((usize, &str), &Vec<&Entry>)> = by_exp
        .iter()
        .map(|(exp, wells)| {
            let ct = cell_type(exp);
            let r = rank.entry(ct).or_insert(0);
            *r += 1;
            ((*r, ct), wells)
        })
        .collect();
    order.sort_by_key(|(key, _)| *key);
    let mut out = Vec::with_capacity(k);
    let longest = by_exp.values().map(|v| v.len()).max().unwrap_or(0);
    'outer: for i in 0..longest {
        for (_, v) in &order {
            if out.len() == k {
                break 'outer;
            }
            if let Some(e) = v.get(i) {
                out.push(*e);
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
pub struct Sample {
    pub entry: Entry,
    pub site: u8,
    pub width: u32,
    pub height: u32,
    pub png: Vec<u8>,
}

/// Reads and composes the chosen sites; images larger than `max_size` are
/// scaled down to it (0: never).
pub fn render(root: &Path, cat: &Catalog, k: usize, max_size: u32) -> Result<Vec<Sample>> {
    if cat.files.is_empty() {
        return Err(ReportError::input(
            root,
            "no tables (the competition's train.csv, test.csv or the public release's metadata.csv): samples are chosen from them",
        ));
    }
    choose(cat, k)
        .into_iter()
        .map(|e| {
            let loc = Located {
                id_code: e.id_code.clone(),
                split: e.split,
                experiment: e.experiment.clone(),
                plate: e.plate,
                well: e.well,
                well_type: Some(e.well_type),
                sirna: e.sirna,
                layout: cat.layout,
            };
            let img = read_composite(root, &loc, SITE)?;
            let img = if max_size > 0 && img.width().max(img.height()) > max_size {
                resize(img, max_size)
            } else {
                img
            };
            let png = encode_png(&img).map_err(|cause| ReportError::Png {
                path: loc.channel_path(root, SITE, 1),
                cause,
            })?;
            Ok(Sample {
                entry: e.clone(),
                site: SITE,
                width: img.width(),
                height: img.height(),
                png,
            })
        })
        .collect()
}

/// The section's HTML: a colour key and a grid of labelled composites.
pub fn section(samples: &[Sample], root: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<p>Site {SITE} of {} treatment well(s) of <code>{}</code> (experiments take turns, cell types alternating), as RGB composites in Recursion's channel colours:",
        samples.len(),
        escape(root)
    );
    for (c, col) in RXRX1_COLOURS.iter().enumerate() {
        let [r, g, b] = col.rgb;
        let _ = write!(
            s,
            "<span class=\"swatch\" style=\"background:rgb({r},{g},{b})\"></span>w{} 0-{}",
            c + 1,
            col.hi
        );
    }
    s.push_str("</p><div class=\"grid\">");
    for x in samples {
        let e = &x.entry;
        // Small sites are shown enlarged, pixelated.
        let shown = if x.width < 160 { 160 } else { x.width };
        let shown_h = (x.height as u64 * shown as u64 / x.width.max(1) as u64) as u32;
        let sirna = e
            .sirna
            .map(|v| format!("sirna {v}"))
            .unwrap_or_else(|| "sirna unknown".into());
        let _ = write!(
            s,
            "<figure><img src=\"{}\" width=\"{shown}\" height=\"{shown_h}\" alt=\"{} site {}\"><figcaption><b>{}</b> s{}<br>{} · {}</figcaption></figure>",
            data_uri("image/png", &x.png),
            escape(&e.id_code),
            x.site,
            escape(&e.id_code),
            x.site,
            e.split.as_str(),
            sirna
        );
    }
    s.push_str("</div>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::GrayImage;

    fn root() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let mut train = String::from("id_code,experiment,plate,well,sirna\n");
        for (exp, wells) in [
            ("B-01", ["B02", "B03", "B04"]),
            ("A-01", ["C02", "B05", "B02"]),
        ] {
            for w in wells {
                train.push_str(&format!("{exp}_1_{w},{exp},1,{w},{}\n", w.len()));
            }
        }
        std::fs::write(d.path().join("train.csv"), train).unwrap();
        std::fs::write(
            d.path().join("test.csv"),
            "id_code,experiment,plate,well\nA-02_2_B02,A-02,2,B02\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("train_controls.csv"),
            "id_code,experiment,plate,well,sirna,well_type\nA-01_1_B01,A-01,1,B01,9,negative_control\n",
        )
        .unwrap();
        d
    }

    #[test]
    fn round_robin_over_experiments_skipping_controls() {
        let d = root();
        let cat = Catalog::read(d.path()).unwrap();
        let ids: Vec<&str> = choose(&cat, 5).iter().map(|e| e.id_code.as_str()).collect();
        // Turns: A-01, B-01 (first of each cell type), A-02, then the second wells.
        assert_eq!(
            ids,
            [
                "A-01_1_B02",
                "B-01_1_B02",
                "A-02_2_B02",
                "A-01_1_B05",
                "B-01_1_B03"
            ]
        );
        assert_eq!(choose(&cat, 100).len(), 7);
        assert!(choose(&cat, 0).is_empty());
    }

    #[test]
    fn renders_embedded_labelled_composites() {
        let d = root();
        for (split, exp, plate, well) in [("train", "A-01", 1, "B02"), ("train", "B-01", 1, "B02")]
        {
            let dir = d.path().join(split).join(exp).join(format!("Plate{plate}"));
            std::fs::create_dir_all(&dir).unwrap();
            for c in 1..=6 {
                GrayImage::from_pixel(4, 4, image::Luma([40]))
                    .save(dir.join(format!("{well}_s1_w{c}.png")))
                    .unwrap();
            }
        }
        let cat = Catalog::read(d.path()).unwrap();
        let samples = render(d.path(), &cat, 2, 2).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(
            (samples[0].width, samples[0].height),
            (2, 2),
            "scaled down to 2"
        );
        let html = section(&samples, "data/x");
        assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 2);
        assert!(html.contains("<b>A-01_1_B02</b>") && html.contains("train · sirna 3"));
        // The third choice (a test well) has no images: the error names the file.
        let e = render(d.path(), &cat, 3, 0).unwrap_err().to_string();
        assert!(e.contains("A-02") && e.contains("B02_s1_w1.png"), "{e}");
    }
}
