//! One site of an RxRx1 root as a picture: where its six channel PNGs are
//! (in the root's layout, the split from its tables, or from the files when
//! there are none),
//! reading them (8-bit grayscale, all of one size), and their composite in
//! Recursion's colours ([`crate::composite`]), optionally resized and
//! encoded as PNG.

use std::path::{Path, PathBuf};

use image::{imageops, DynamicImage, GrayImage, ImageFormat, RgbImage};
use rcic_core::data_layout::image_name;
use rcic_core::wells::parse_id_code;
use rcic_core::{DataLayout, Split, Well, WellType, CHANNELS, SITES};

use crate::catalog::Catalog;
use crate::composite::composite;
use crate::error::{ReportError, Result};

/// A well found in a root, with what the CSVs say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub id_code: String,
    pub split: Split,
    pub experiment: String,
    pub plate: u8,
    pub well: Well,
    /// None when the root has no tables.
    pub well_type: Option<WellType>,
    pub sirna: Option<u32>,
    /// Where the images lie: `{split}/` (the competition's) or `images/`
    /// (the public release's).
    pub layout: DataLayout,
}

impl Located {
    /// `{split or images}/{experiment}/Plate{plate}/{well}_s{site}_w{channel}.png`
    /// under `root` (channel 1-based).
    pub fn channel_path(&self, root: &Path, site: u8, channel: usize) -> PathBuf {
        self.layout
            .plate_dir(root, self.split, &self.experiment, self.plate)
            .join(image_name(&self.well.to_string(), site, channel))
    }
}

/// Finds `id_code` in the catalog's tables; a root without tables is
/// searched for channel 1 of `site` under `train/` and `test/` (the
/// competition's layout) and `images/` (the public release's).
pub fn locate(cat: &Catalog, id_code: &str, site: u8) -> Result<Located> {
    check_site(site)?;
    let (experiment, plate, well) = parse_id_code(id_code).map_err(ReportError::Usage)?;
    if let Some(e) = cat.get(id_code) {
        return Ok(Located {
            id_code: e.id_code.clone(),
            split: e.split,
            experiment: e.experiment.clone(),
            plate: e.plate,
            well: e.well,
            well_type: Some(e.well_type),
            sirna: e.sirna,
            layout: cat.layout,
        });
    }
    if !cat.files.is_empty() {
        return Err(ReportError::input(
            &cat.root,
            format!(
                "unknown id_code {id_code}: not listed in {}",
                cat.file_names()
            ),
        ));
    }
    let candidates: Vec<Located> = [
        (Split::Train, DataLayout::Competition),
        (Split::Test, DataLayout::Competition),
        (Split::Test, DataLayout::Public),
    ]
    .into_iter()
    .map(|(split, layout)| Located {
        id_code: id_code.to_string(),
        split,
        experiment: experiment.to_string(),
        plate,
        well,
        well_type: None,
        sirna: None,
        layout,
    })
    .collect();
    let found: Vec<&Located> = candidates
        .iter()
        .filter(|l| l.channel_path(&cat.root, site, 1).is_file())
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ReportError::input(
            &cat.root,
            format!(
                "unknown id_code {id_code}: no tables here and none of {}, {}, {} exists",
                candidates[0].channel_path(&cat.root, site, 1).display(),
                candidates[1].channel_path(&cat.root, site, 1).display(),
                candidates[2].channel_path(&cat.root, site, 1).display()
            ),
        )),
        _ => Err(ReportError::input(
            &cat.root,
            format!(
                "id_code {id_code} has images under both train/ and test/ and no CSV says which"
            ),
        )),
    }
}

fn check_site(site: u8) -> Result<()> {
    if (1..=SITES).contains(&site) {
        Ok(())
    } else {
        Err(ReportError::Usage(format!(
            "site {site}: expected 1..{SITES}"
        )))
    }
}

/// Reads one channel PNG: 8-bit grayscale, as the Kaggle layout has it.
pub fn read_channel(path: &Path) -> Result<GrayImage> {
    let bytes =
        std::fs::read(path).map_err(|e| ReportError::io(path, "cannot read channel image", e))?;
    let img = image::load_from_memory_with_format(&bytes, ImageFormat::Png).map_err(|cause| {
        ReportError::Png {
            path: path.to_path_buf(),
            cause,
        }
    })?;
    match img {
        DynamicImage::ImageLuma8(g) => Ok(g),
        other => Err(ReportError::input(
            path,
            format!("expected an 8-bit grayscale PNG, found {:?}", other.color()),
        )),
    }
}

/// The composite of one site of a located well, at its own size.
pub fn read_composite(root: &Path, loc: &Located, site: u8) -> Result<RgbImage> {
    check_site(site)?;
    let mut planes: Vec<GrayImage> = Vec::with_capacity(CHANNELS);
    for c in 1..=CHANNELS {
        let path = loc.channel_path(root, site, c);
        let g = read_channel(&path)?;
        if let Some(first) = planes.first() {
            if g.dimensions() != first.dimensions() {
                return Err(ReportError::input(
                    &path,
                    format!(
                        "{}x{} pixels, but channel 1 of the site has {}x{}",
                        g.width(),
                        g.height(),
                        first.width(),
                        first.height()
                    ),
                ));
            }
        }
        planes.push(g);
    }
    let (w, h) = planes[0].dimensions();
    let rgb = composite(std::array::from_fn(|c| planes[c].as_raw().as_slice()));
    Ok(RgbImage::from_raw(w, h, rgb).expect("3 bytes per pixel"))
}

/// Scales so that the longer side is `size` pixels (bilinear; a site is
/// square, so usually `size` x `size`). Returns the image unchanged when it
/// already has that size.
pub fn resize(img: RgbImage, size: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if size == 0 || long == size || long == 0 {
        return img;
    }
    let scale = |x: u32| ((x as u64 * size as u64 + long as u64 / 2) / long as u64).max(1) as u32;
    imageops::resize(&img, scale(w), scale(h), imageops::FilterType::Triangle)
}

/// PNG bytes of an RGB image.
pub fn encode_png(img: &RgbImage) -> std::result::Result<Vec<u8>, image::ImageError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composite::pixel;

    /// A root without CSVs holding one 2x1 site in test/.
    fn root_with_site() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("test/HUVEC-04/Plate3");
        std::fs::create_dir_all(&dir).unwrap();
        for c in 1..=6u8 {
            let g = GrayImage::from_raw(2, 1, vec![10 * c, 255]).unwrap();
            g.save(dir.join(format!("D05_s2_w{c}.png"))).unwrap();
        }
        d
    }

    #[test]
    fn finds_a_site_by_its_files_and_composes_it() {
        let d = root_with_site();
        let cat = Catalog::read(d.path()).unwrap();
        let loc = locate(&cat, "HUVEC-04_3_D05", 2).unwrap();
        assert_eq!(loc.split, Split::Test);
        let img = read_composite(d.path(), &loc, 2).unwrap();
        assert_eq!(img.dimensions(), (2, 1));
        assert_eq!(img.get_pixel(0, 0).0, pixel([10, 20, 30, 40, 50, 60]));
        assert_eq!(img.get_pixel(1, 0).0, [255, 255, 255]);
        let png = encode_png(&resize(img, 4)).unwrap();
        let back = image::load_from_memory(&png).unwrap();
        assert_eq!((back.width(), back.height()), (4, 2));
    }

    #[test]
    fn public_layout_sites_without_tables_are_found_under_images() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("images/A-03/Plate2");
        std::fs::create_dir_all(&dir).unwrap();
        for c in 1..=6u8 {
            let g = GrayImage::from_raw(2, 1, vec![10 * c, 255]).unwrap();
            g.save(dir.join(format!("C02_s1_w{c}.png"))).unwrap();
        }
        let cat = Catalog::read(d.path()).unwrap();
        let loc = locate(&cat, "A-03_2_C02", 1).unwrap();
        assert_eq!(loc.layout, DataLayout::Public);
        assert_eq!(loc.channel_path(d.path(), 1, 3), dir.join("C02_s1_w3.png"));
        let img = read_composite(d.path(), &loc, 1).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, pixel([10, 20, 30, 40, 50, 60]));
        let e = locate(&cat, "A-03_2_C03", 1).unwrap_err().to_string();
        assert!(e.contains("images/A-03/Plate2/C03_s1_w1.png"), "{e}");
    }

    #[test]
    fn unknown_ids_and_bad_files_are_named() {
        let d = root_with_site();
        let cat = Catalog::read(d.path()).unwrap();
        let e = locate(&cat, "HUVEC-04_3_D06", 2).unwrap_err().to_string();
        assert!(
            e.contains("unknown id_code HUVEC-04_3_D06") && e.contains("D06_s2_w1.png"),
            "{e}"
        );
        // Site 1 has no files.
        assert!(locate(&cat, "HUVEC-04_3_D05", 1).is_err());
        assert!(locate(&cat, "HUVEC-04_3_D05", 3)
            .unwrap_err()
            .to_string()
            .contains("site 3"));
        assert!(locate(&cat, "HUVEC", 1)
            .unwrap_err()
            .to_string()
            .contains("EXPERIMENT_PLATE_WELL"));

        let loc = locate(&cat, "HUVEC-04_3_D05", 2).unwrap();
        let w4 = d.path().join("test/HUVEC-04/Plate3/D05_s2_w4.png");
        std::fs::write(&w4, b"not a png").unwrap();
        let e = read_composite(d.path(), &loc, 2).unwrap_err().to_string();
        assert!(e.contains("D05_s2_w4.png") && e.contains("PNG"), "{e}");
        GrayImage::new(3, 1).save(&w4).unwrap();
        let e = read_composite(d.path(), &loc, 2).unwrap_err().to_string();
        assert!(e.contains("D05_s2_w4.png") && e.contains("3x1"), "{e}");
        RgbImage::new(2, 1).save(&w4).unwrap();
        let e = read_composite(d.path(), &loc, 2).unwrap_err().to_string();
        assert!(
            e.contains("D05_s2_w4.png") && e.contains("8-bit grayscale"),
            "{e}"
        );
        std::fs::remove_file(&w4).unwrap();
        let e = read_composite(d.path(), &loc, 2).unwrap_err().to_string();
        assert!(e.contains("D05_s2_w4.png"), "{e}");
    }

    #[test]
    fn csvs_decide_the_split_and_reject_unlisted_ids() {
        let d = root_with_site();
        std::fs::write(
            d.path().join("test.csv"),
            "id_code,experiment,plate,well\nHUVEC-04_3_D05,HUVEC-04,3,D05\n",
        )
        .unwrap();
        let cat = Catalog::read(d.path()).unwrap();
        let loc = locate(&cat, "HUVEC-04_3_D05", 2).unwrap();
        assert_eq!(
            (loc.split, loc.well_type),
            (Split::Test, Some(WellType::Treatment))
        );
        let e = locate(&cat, "HUVEC-04_3_D07", 2).unwrap_err().to_string();
        assert!(
            e.contains("unknown id_code HUVEC-04_3_D07") && e.contains("test.csv"),
            "{e}"
        );
    }
}
