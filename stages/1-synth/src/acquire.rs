//! Image formation: turns the noiseless cell signal into what a microscope
//! records, applying the batch effects (channel bleed-through, focus blur,
//! illumination, gain and background) and detector noise (shot and read
//! noise), then rounding to 8 bits.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::batch::{ExperimentEffects, PlateEffects, SiteEffects};
use crate::preset::CHANNELS;
use crate::render::{geometry_scale, Planes};

/// Everything acquisition needs besides the signal.
pub struct Acquisition<'a> {
    pub experiment: &'a ExperimentEffects,
    pub plate: &'a PlateEffects,
    pub site: &'a SiteEffects,
    pub edge_well: bool,
}

/// In-place separable Gaussian blur (edges replicated).
pub fn blur(plane: &mut [f32], size: usize, sigma: f32, tmp: &mut Vec<f32>) {
    let r = (2.5 * sigma).ceil() as usize;
    let k: Vec<f32> = (0..=2 * r)
        .map(|i| (-((i as f32 - r as f32).powi(2)) / (2.0 * sigma * sigma)).exp())
        .collect();
    let ks: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / ks).collect();
    tmp.clear();
    tmp.resize(plane.len(), 0.0);
    let mut pad = vec![0.0f32; size + 2 * r];
    for y in 0..size {
        let row = &plane[y * size..(y + 1) * size];
        pad[..r].fill(row[0]);
        pad[r..r + size].copy_from_slice(row);
        pad[r + size..].fill(row[size - 1]);
        let out = &mut tmp[y * size..(y + 1) * size];
        out.fill(0.0);
        for (j, &w) in k.iter().enumerate() {
            for (o, &p) in out.iter_mut().zip(&pad[j..j + size]) {
                *o += w * p;
            }
        }
    }
    for y in 0..size {
        let out = &mut plane[y * size..(y + 1) * size];
        out.fill(0.0);
        for (j, &w) in k.iter().enumerate() {
            let yy = (y + j).saturating_sub(r).min(size - 1);
            let src = &tmp[yy * size..(yy + 1) * size];
            for (o, &p) in out.iter_mut().zip(src) {
                *o += w * p;
            }
        }
    }
}

/// Produces the six 8-bit channel images of a site.
pub fn acquire(mut planes: Planes, a: &Acquisition, rng: &mut ChaCha8Rng) -> [Vec<u8>; CHANNELS] {
    let size = planes.size;
    let ex = a.experiment;
    // Bleed-through: channel c sees a little of channel c-1 (highest first so
    // each uses the original signal).
    for c in (1..CHANNELS).rev() {
        let (lo, hi) = planes.data.split_at_mut(c);
        let (src, dst) = (&lo[c - 1], &mut hi[0]);
        let b = ex.bleed[c];
        for (d, s) in dst.iter_mut().zip(src.iter()) {
            *d += b * s;
        }
    }
    let sigma = ex.focus * geometry_scale(size);
    if sigma >= 0.3 {
        let mut tmp = Vec::new();
        for p in planes.data.iter_mut() {
            blur(p, size, sigma, &mut tmp);
        }
    }
    // Illumination: a site gradient and the plate's vignetting.
    let half = size as f32 / 2.0;
    let illum: Vec<f32> = (0..size * size)
        .map(|i| {
            let x = ((i % size) as f32 + 0.5 - half) / half;
            let y = ((i / size) as f32 + 0.5 - half) / half;
            (1.0 + 0.5 * a.site.gradient[0] * x + 0.5 * a.site.gradient[1] * y
                - 0.5 * a.plate.vignette * (x * x + y * y))
                .max(0.2)
        })
        .collect();
    let read2 = ex.read * ex.read;
    std::array::from_fn(|c| {
        let gain = ex.gain[c]
            * a.plate.gain[c]
            * a.site.gain[c]
            * if a.edge_well { a.plate.edge_gain } else { 1.0 };
        let offset = (ex.offset[c] + a.plate.offset[c]).max(0.0);
        planes.data[c]
            .iter()
            .zip(&illum)
            .map(|(&s, &il)| {
                let sig = gain * s.max(0.0) * il;
                let sd = (ex.shot * sig + read2).sqrt();
                let z: f32 = rng.sample(StandardNormal);
                ((offset + sig + sd * z).clamp(0.0, 255.0) + 0.5) as u8
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_preserves_mass_and_spreads_a_point() {
        let mut p = vec![0.0f32; 15 * 15];
        p[7 * 15 + 7] = 1.0;
        blur(&mut p, 15, 1.0, &mut Vec::new());
        let s: f32 = p.iter().sum();
        assert!((s - 1.0).abs() < 1e-4);
        assert!(p[7 * 15 + 7] < 0.25 && p[7 * 15 + 8] > 0.05);
    }
}
