//! Batch effects: what differs between experiments, plates and sites for
//! reasons that have nothing to do with the siRNA. Per experiment: channel
//! gain and background (as wide as RxRx1's, where per-experiment channel means
//! run from about 4 to 46 on 0-255), channel bleed-through, focus, seeding
//! density and cell size. Per plate: smaller gain changes and edge-well
//! effects. Per site: gain jitter and an illumination gradient.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::preset::CHANNELS;
use crate::seeds::Key;

/// Channel gains that put a base-morphology site's channel means near the
/// middle of RxRx1's range (Hoechst, ConA, phalloidin, Syto14, MitoTracker, WGA).
pub const CHANNEL_GAIN: [f32; CHANNELS] = [76.0, 40.0, 28.0, 66.0, 23.0, 19.0];
/// Background level per channel on 0-255.
pub const CHANNEL_OFFSET: [f32; CHANNELS] = [5.0, 8.0, 6.0, 6.0, 5.0, 6.0];

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    rng.sample(StandardNormal)
}

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentEffects {
    /// Multiplies signal per channel.
    pub gain: [f32; CHANNELS],
    /// Background on 0-255 per channel.
    pub offset: [f32; CHANNELS],
    /// Fraction of channel c-1's signal seen in channel c (c = 2..6).
    pub bleed: [f32; CHANNELS],
    /// Blur (PSF) standard deviation in pixels at 512 px.
    pub focus: f32,
    /// Multiplies cell density (seeding differences).
    pub density: f32,
    /// Multiplies cell radius (confluence, growth).
    pub size: f32,
    /// Shot-noise factor (variance per unit of signal on 0-255).
    pub shot: f32,
    /// Read noise standard deviation on 0-255.
    pub read: f32,
}

impl ExperimentEffects {
    pub fn draw(seed: u64, experiment: &str) -> Self {
        let mut rng = Key::new(seed, "experiment-effects").s(experiment).rng();
        let r = &mut rng;
        // A common exposure factor plus per-channel staining differences.
        let common = 0.35 * normal(r);
        let gain = std::array::from_fn(|c| CHANNEL_GAIN[c] * (common + 0.4 * normal(r)).exp());
        let offset = std::array::from_fn(|c| CHANNEL_OFFSET[c] * (0.5 * normal(r)).exp());
        let bleed = std::array::from_fn(|c| {
            if c == 0 {
                0.0
            } else {
                r.random_range(0.0..0.08)
            }
        });
        ExperimentEffects {
            gain,
            offset,
            bleed,
            focus: r.random_range(0.6..1.8),
            density: (0.25 * normal(r)).exp(),
            size: (0.08 * normal(r)).exp(),
            shot: r.random_range(0.3..1.2),
            read: r.random_range(0.6..2.0),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlateEffects {
    pub gain: [f32; CHANNELS],
    pub offset: [f32; CHANNELS],
    /// Multiplies signal in edge wells.
    pub edge_gain: f32,
    /// Multiplies cell density in edge wells.
    pub edge_density: f32,
    /// Radial illumination fall-off (vignetting) of the plate's imaging run.
    pub vignette: f32,
}

impl PlateEffects {
    pub fn draw(seed: u64, experiment: &str, plate: u8) -> Self {
        let mut rng = Key::new(seed, "plate-effects")
            .s(experiment)
            .n(plate as u64)
            .rng();
        let r = &mut rng;
        PlateEffects {
            gain: std::array::from_fn(|_| (0.12 * normal(r)).exp()),
            offset: std::array::from_fn(|_| 0.5 * normal(r)),
            edge_gain: (0.1 * normal(r)).exp(),
            edge_density: r.random_range(0.75..1.05),
            vignette: r.random_range(0.0..0.25),
        }
    }
}

/// Per-site variation, drawn from the site's own stream.
#[derive(Debug, Clone)]
pub struct SiteEffects {
    pub gain: [f32; CHANNELS],
    /// Illumination gradient across the image (x, y), relative.
    pub gradient: [f32; 2],
    pub density: f32,
}

impl SiteEffects {
    pub fn draw(rng: &mut ChaCha8Rng) -> Self {
        SiteEffects {
            gain: std::array::from_fn(|_| (0.08 * normal(rng)).exp()),
            gradient: [0.12 * normal(rng), 0.12 * normal(rng)],
            density: (0.15 * normal(rng)).exp(),
        }
    }
}
