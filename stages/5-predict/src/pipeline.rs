//! The prediction loop. A reader thread reads each planned batch's pixels
//! (sites in parallel), normalises them and builds the one-hot cell types
//! while the engine runs the previous batch (a bounded channel of two
//! batches between them); the engine runs every TTA variant of the batch
//! and the logits are averaged over the variants.

use std::sync::mpsc::sync_channel;

use rayon::prelude::*;
use rcic_cli::progress::Progress;
use rcic_core::normalize::normalize;
use rcic_core::tensors::SiteTensors;
use rcic_core::tta::Variant;

use crate::engine::Engine;
use crate::error::PredictError;
use crate::sites::Target;
use crate::tta;

/// A batch ready for the engine.
struct Prepared {
    positions: Vec<usize>,
    images: Vec<f32>,
    cells: Vec<f32>,
}

/// Normalised images [n, 6, s, s] and one-hot cell types [n, cell_types] of `targets[positions]`.
fn prepare(
    tensors: &SiteTensors,
    targets: &[Target],
    positions: &[usize],
    cell_types: usize,
) -> Result<(Vec<f32>, Vec<f32>), PredictError> {
    let s = tensors.image_size();
    let per = tensors.site_bytes();
    let parts: Vec<Result<Vec<f32>, PredictError>> = positions
        .par_iter()
        .map(|&k| {
            let t = &targets[k];
            let mut px = vec![0u8; per];
            tensors.read_pixels_into(t.row, &mut px)?;
            Ok(normalize(&px, s, t.norm.as_ref()))
        })
        .collect();
    let mut images = Vec::with_capacity(positions.len() * per);
    for p in parts {
        images.extend_from_slice(&p?);
    }
    let mut cells = vec![0f32; positions.len() * cell_types];
    for (i, &k) in positions.iter().enumerate() {
        cells[i * cell_types + targets[k].cell_type] = 1.0;
    }
    Ok((images, cells))
}

/// Options of [`predict`].
pub struct RunOptions {
    /// Host-side TTA variants (empty: none, the image as is).
    pub variants: Vec<Variant>,
    pub cell_types: usize,
    pub progress: bool,
}

/// Logits (`classes` each, TTA-averaged) of every target, in target order, flat.
pub fn predict(
    engine: &mut dyn Engine,
    tensors: &SiteTensors,
    targets: &[Target],
    plan: &[Vec<usize>],
    o: &RunOptions,
) -> Result<Vec<f32>, PredictError> {
    let classes = engine.shape().classes as usize;
    let s = tensors.image_size();
    let mut out = vec![0f32; targets.len() * classes];
    let bar = Progress::new("predict", targets.len() as u64, "sites", o.progress);
    let n_var = o.variants.len().max(1);
    std::thread::scope(|scope| -> Result<(), PredictError> {
        let (tx, rx) = sync_channel::<Result<Prepared, PredictError>>(2);
        scope.spawn(move || {
            for positions in plan {
                let item =
                    prepare(tensors, targets, positions, o.cell_types).map(|(images, cells)| {
                        Prepared {
                            positions: positions.clone(),
                            images,
                            cells,
                        }
                    });
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    return;
                }
            }
        });
        for item in rx {
            let b = item?;
            let n = b.positions.len();
            let mut sum = vec![0f32; n * classes];
            if o.variants.is_empty() {
                sum = engine.run(&b.images, n, s, &b.cells)?;
            } else {
                for v in &o.variants {
                    let identity = !v.transpose && v.rows_identity() && v.cols_identity();
                    let y = if identity {
                        engine.run(&b.images, n, s, &b.cells)?
                    } else {
                        engine.run(
                            &tta::apply(v, &b.images, n, rcic_core::CHANNELS, s),
                            n,
                            s,
                            &b.cells,
                        )?
                    };
                    for (a, v) in sum.iter_mut().zip(&y) {
                        *a += v;
                    }
                }
                let inv = n_var as f32;
                sum.iter_mut().for_each(|a| *a /= inv);
            }
            for (i, &k) in b.positions.iter().enumerate() {
                out[k * classes..(k + 1) * classes]
                    .copy_from_slice(&sum[i * classes..(i + 1) * classes]);
            }
            bar.inc(n as u64);
        }
        Ok(())
    })?;
    bar.finish();
    Ok(out)
}
