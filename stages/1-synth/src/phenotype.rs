//! Morphology as a vector of parameters (sizes, shapes, intensities,
//! textures and object counts per channel), a base vector per cell type, and
//! per class a phenotype: a sparse change of that vector in log space. The
//! negative control changes nothing, positive controls change a lot, and most
//! of a treatment's effect falls on spatial parameters (shapes, counts,
//! textures) rather than on global channel intensities.

use rand::seq::index::sample;
use rand::Rng;
use rand_distr::StandardNormal;

use crate::preset::Spec;
use crate::seeds::Key;

/// Parameters, each a positive value in natural units (see `BASE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum P {
    /// Cells per area, relative.
    Density,
    /// Cell radius in pixels at 512 px.
    CellRadius,
    /// Cell aspect ratio (>= 1).
    CellElong,
    /// Membrane irregularity (harmonic amplitude).
    Irregular,
    /// Nucleus radius / cell radius.
    NucRatio,
    /// Nucleus aspect ratio (>= 1).
    NucElong,
    /// Hoechst intensity.
    DnaInt,
    /// Chromatin texture contrast.
    DnaTex,
    /// Fraction of rounded, condensed (mitotic) cells.
    Mitotic,
    /// Mean nucleoli per nucleus (Syto14).
    NucleoliCount,
    /// Nucleolus size, relative.
    NucleoliSize,
    /// Syto14 intensity.
    RnaInt,
    /// ConA (ER) intensity.
    ErInt,
    /// ER decay length / cell radius.
    ErSpread,
    /// ER reticular texture contrast.
    ErTex,
    /// Cortical actin intensity.
    ActinCortex,
    /// Stress fibre strength.
    ActinFibres,
    /// Stress fibre spacing in pixels at 512 px.
    FibreSpacing,
    /// Mitochondria per cell (at the base cell size).
    MitoCount,
    /// Mitochondrion aspect ratio (tubular vs fragmented).
    MitoElong,
    /// MitoTracker intensity.
    MitoInt,
    /// Golgi size, relative.
    GolgiSize,
    /// Golgi (WGA) intensity.
    GolgiInt,
    /// Plasma membrane (WGA) intensity.
    WgaMembrane,
}

pub const NP: usize = 24;
pub type Params = [f32; NP];

/// Whether a parameter mostly moves a global channel intensity (these get a
/// smaller share of each phenotype).
const INTENSITY: [usize; 6] = [
    P::DnaInt as usize,
    P::RnaInt as usize,
    P::ErInt as usize,
    P::MitoInt as usize,
    P::GolgiInt as usize,
    P::WgaMembrane as usize,
];

/// Cell-to-cell biological variation (log-space standard deviation).
pub const BIO_SD: Params = [
    0.0, 0.12, 0.15, 0.3, 0.1, 0.1, 0.15, 0.2, 0.0, 0.3, 0.2, 0.15, 0.15, 0.2, 0.2, 0.2, 0.3, 0.15,
    0.25, 0.2, 0.2, 0.2, 0.2, 0.2,
];

/// A cell type's base morphology.
#[derive(Debug, Clone, PartialEq)]
pub struct CellType {
    pub base: Params,
    /// Probability that a new cell is placed next to an existing one (colonies).
    pub clustering: f32,
}

//                 dens  rad   elong irr   nucR  nucE  dnaI  dnaT  mit   nclN  nclS  rnaI  erI   erSp  erT   actC  actF  fibS  mitN  mitE  mitI  golS  golI  wga
const HEPG2: Params = [
    1.3, 22.0, 1.15, 0.08, 0.50, 1.10, 1.1, 0.30, 0.05, 2.5, 1.0, 1.0, 1.1, 0.6, 0.35, 0.9, 0.2,
    6.0, 60.0, 1.4, 1.1, 0.9, 1.0, 0.9,
];
const HUVEC: Params = [
    0.8, 34.0, 1.90, 0.12, 0.33, 1.30, 1.0, 0.25, 0.03, 3.0, 0.9, 0.9, 1.0, 0.5, 0.45, 1.1, 0.9,
    7.0, 70.0, 2.2, 1.0, 1.0, 0.9, 1.1,
];
const RPE: Params = [
    1.1, 28.0, 1.20, 0.06, 0.40, 1.15, 0.9, 0.20, 0.04, 2.0, 1.1, 1.1, 0.9, 0.45, 0.40, 1.0, 0.6,
    6.0, 55.0, 1.8, 0.9, 1.1, 1.1, 1.0,
];
const U2OS: Params = [
    0.7, 36.0, 1.50, 0.20, 0.36, 1.20, 1.0, 0.35, 0.04, 3.5, 0.9, 1.0, 1.0, 0.55, 0.50, 0.9, 0.8,
    8.0, 80.0, 2.6, 1.0, 1.2, 1.0, 1.0,
];

impl CellType {
    /// The base morphology of a cell type; unknown names get a deterministic
    /// variation of RPE.
    pub fn of(name: &str) -> CellType {
        match name {
            "HEPG2" => CellType {
                base: HEPG2,
                clustering: 0.7,
            },
            "HUVEC" => CellType {
                base: HUVEC,
                clustering: 0.1,
            },
            "RPE" => CellType {
                base: RPE,
                clustering: 0.4,
            },
            "U2OS" => CellType {
                base: U2OS,
                clustering: 0.2,
            },
            other => {
                let mut rng = Key::new(0, "cell-type").s(other).rng();
                let mut base = RPE;
                for v in base.iter_mut() {
                    *v *= (0.25 * rng.sample::<f32, _>(StandardNormal)).exp();
                }
                CellType {
                    base,
                    clustering: rng.random_range(0.1..0.7),
                }
            }
        }
    }
}

/// Typical log-space size of a treatment's change on one affected parameter
/// at difficulty 1.
pub const TREATMENT_STRENGTH: f32 = 0.45;
/// Positive controls are this many times stronger.
pub const POSITIVE_FACTOR: f32 = 2.5;
/// Largest factor by which a phenotype changes an object count or size.
pub const COUNT_RANGE: f32 = 3.0;
/// Share of a phenotype that is specific to the cell type.
pub const CELL_TYPE_SPECIFIC: f32 = 0.35;

/// The log-space change of a class in a cell type, at difficulty 1.
pub fn class_delta(spec: &Spec, seed: u64, sirna: u32, cell_type: &str) -> Params {
    let mut d = [0.0f32; NP];
    if sirna == spec.negative_control() {
        return d;
    }
    let positive = spec.is_control(sirna);
    let mut rng = Key::new(seed, "phenotype").n(sirna as u64).rng();
    let magnitude = TREATMENT_STRENGTH
        * (0.3 * rng.sample::<f32, _>(StandardNormal)).exp()
        * if positive { POSITIVE_FACTOR } else { 1.0 };
    let k = if positive {
        rng.random_range(6..=9)
    } else {
        rng.random_range(3..=6)
    };
    let mut ct = Key::new(seed, "phenotype-cell-type")
        .n(sirna as u64)
        .s(cell_type)
        .rng();
    for i in sample(&mut rng, NP, k).into_iter() {
        let w = if INTENSITY.contains(&i) { 0.5 } else { 1.0 };
        let shared: f32 = rng.sample(StandardNormal);
        let specific: f32 = ct.sample(StandardNormal);
        d[i] =
            magnitude * w * ((1.0 - CELL_TYPE_SPECIFIC) * shared + CELL_TYPE_SPECIFIC * specific);
    }
    // A small dense component: nothing is perfectly sparse in biology.
    for v in d.iter_mut() {
        *v += 0.08 * magnitude * rng.sample::<f32, _>(StandardNormal);
    }
    d
}

/// Applies a log-space change (plus biological noise already folded into
/// `delta`) to a base vector, keeping every parameter in its valid range.
pub fn apply(base: &Params, delta: &Params) -> Params {
    let mut out = [0.0; NP];
    for i in 0..NP {
        out[i] = base[i] * delta[i].exp();
    }
    // Aspect ratios change their excess over 1.
    for i in [
        P::CellElong as usize,
        P::NucElong as usize,
        P::MitoElong as usize,
    ] {
        out[i] = 1.0 + (base[i] - 1.0).max(0.05) * (2.0 * delta[i]).exp();
        out[i] = out[i].min(4.0);
    }
    // Amounts that set how many objects are drawn (and so the render time)
    // stay within 1/3 to 3 times the base: strong phenotypes of low
    // difficulties saturate there instead of drawing tens of times more.
    for i in [
        P::Density as usize,
        P::CellRadius as usize,
        P::NucleoliCount as usize,
        P::NucleoliSize as usize,
        P::MitoCount as usize,
    ] {
        out[i] = out[i].clamp(base[i] / COUNT_RANGE, base[i] * COUNT_RANGE);
    }
    out[P::Mitotic as usize] = out[P::Mitotic as usize].min(0.6);
    out[P::Irregular as usize] = out[P::Irregular as usize].min(0.35);
    out[P::NucRatio as usize] = out[P::NucRatio as usize].clamp(0.15, 0.8);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::Preset;

    #[test]
    fn object_counts_and_sizes_saturate_at_the_count_range() {
        let base = CellType::of("HEPG2").base;
        let up = apply(&base, &[10.0; NP]);
        let down = apply(&base, &[-10.0; NP]);
        for i in [
            P::Density,
            P::CellRadius,
            P::NucleoliCount,
            P::NucleoliSize,
            P::MitoCount,
        ] {
            let i = i as usize;
            assert!(
                (up[i] / base[i] - COUNT_RANGE).abs() < 1e-4,
                "{i}: {}",
                up[i] / base[i]
            );
            assert!(
                (base[i] / down[i] - COUNT_RANGE).abs() < 1e-3,
                "{i}: {}",
                base[i] / down[i]
            );
        }
        // Intensities are not capped by it.
        assert!(up[P::DnaInt as usize] / base[P::DnaInt as usize] > 1000.0);
    }

    #[test]
    fn negative_control_is_the_base_and_positive_controls_are_strong() {
        let spec = Spec::of(Preset::Tiny);
        let neg = class_delta(&spec, 1, spec.negative_control(), "HEPG2");
        assert!(neg.iter().all(|&v| v == 0.0));
        let norm = |d: &Params| d.iter().map(|v| v * v).sum::<f32>().sqrt();
        let pos: f32 = (spec.treatments..spec.negative_control())
            .map(|s| norm(&class_delta(&spec, 1, s, "HEPG2")))
            .sum::<f32>()
            / (spec.controls - 1) as f32;
        let tr: f32 = (0..spec.treatments)
            .map(|s| norm(&class_delta(&spec, 1, s, "HEPG2")))
            .sum::<f32>()
            / spec.treatments as f32;
        assert!(pos > 1.5 * tr, "positive {pos} vs treatment {tr}");
        assert_eq!(
            class_delta(&spec, 1, 3, "HEPG2"),
            class_delta(&spec, 1, 3, "HEPG2")
        );
        assert_ne!(
            class_delta(&spec, 1, 3, "HEPG2"),
            class_delta(&spec, 1, 3, "HUVEC")
        );
        assert_eq!(apply(&HEPG2, &neg), {
            let mut b = HEPG2;
            for i in [
                P::CellElong as usize,
                P::NucElong as usize,
                P::MitoElong as usize,
            ] {
                b[i] = 1.0 + (b[i] - 1.0).max(0.05);
            }
            b
        });
    }
}
