//! Plate layouts as in RxRx1: the treatments split into 4 disjoint groups,
//! each plate holding one group (each member once) plus every control, the
//! 4 plates of an experiment holding the groups in a rotated order, wells
//! random per plate, and one layout alias (a test experiment carrying a
//! training experiment's layout with plates shifted).

use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

use crate::preset::{Alias, Experiment, Spec, PLATES};
use crate::seeds::Key;
use crate::wells::Well;

/// The layout of one plate: (well, siRNA) sorted by well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlateLayout {
    pub wells: Vec<(Well, u32)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentLayout {
    #[serde(flatten)]
    pub experiment: Experiment,
    pub cell_type: String,
    /// Plate p holds group (p - 1 + rotation) mod 4.
    pub rotation: u8,
    /// plate_groups[p-1] = group index held by plate p.
    pub plate_groups: [u8; PLATES as usize],
    /// Source experiment when this layout is an alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_of: Option<String>,
    #[serde(skip)]
    pub plates: Vec<PlateLayout>,
}

/// The 4 treatment groups: a random partition of 0..T-1, each sorted.
pub fn groups(seed: u64, treatments: u32) -> Vec<Vec<u32>> {
    let mut all: Vec<u32> = (0..treatments).collect();
    all.shuffle(&mut Key::new(seed, "groups").n(treatments as u64).rng());
    let n = (treatments / 4) as usize;
    (0..4)
        .map(|g| {
            let mut v = all[g * n..(g + 1) * n].to_vec();
            v.sort_unstable();
            v
        })
        .collect()
}

/// The layout an experiment gets when it is not an alias target.
fn own_layout(spec: &Spec, seed: u64, groups: &[Vec<u32>], name: &str) -> (u8, Vec<PlateLayout>) {
    let rotation = Key::new(seed, "rotation")
        .s(name)
        .rng()
        .random_range(0..4u8);
    let controls: Vec<u32> = (spec.treatments..spec.classes()).collect();
    let plates = (1..=PLATES)
        .map(|p| {
            let g = ((p - 1 + rotation) % 4) as usize;
            let mut rng = Key::new(seed, "wells").s(name).n(p as u64).rng();
            let mut wells = Well::all();
            wells.shuffle(&mut rng);
            let mut sirnas: Vec<u32> = groups[g]
                .iter()
                .copied()
                .chain(controls.iter().copied())
                .collect();
            sirnas.shuffle(&mut rng);
            let mut pl: Vec<(Well, u32)> = wells.into_iter().zip(sirnas).collect();
            pl.sort_unstable();
            PlateLayout { wells: pl }
        })
        .collect();
    (rotation, plates)
}

/// Layouts of the chosen experiments (in the given order). An alias target
/// always carries its source's shifted layout, whether or not the source is
/// among the chosen experiments, so a subset equals the same experiments of
/// the full dataset.
pub fn build(
    spec: &Spec,
    seed: u64,
    groups: &[Vec<u32>],
    chosen: &[Experiment],
) -> Vec<ExperimentLayout> {
    chosen
        .iter()
        .map(|e| {
            let alias = spec.alias.as_ref().filter(|a| a.target == e.name);
            let (rotation, plates, alias_of) = match alias {
                None => {
                    let (r, p) = own_layout(spec, seed, groups, &e.name);
                    (r, p, None)
                }
                Some(a) => {
                    let (rs, src) = own_layout(spec, seed, groups, &a.source);
                    let plates = (1..=PLATES)
                        .map(|p| src[(a.source_plate(p) - 1) as usize].clone())
                        .collect();
                    let rotation = ((rs as i32 - a.shift).rem_euclid(4)) as u8;
                    (rotation, plates, Some(a.source.clone()))
                }
            };
            let plate_groups = std::array::from_fn(|i| ((i as u8) + rotation) % 4);
            ExperimentLayout {
                experiment: e.clone(),
                cell_type: e.cell_type().to_string(),
                rotation,
                plate_groups,
                alias_of,
                plates,
            }
        })
        .collect()
}

/// The alias to report: only when both of its experiments are written.
pub fn visible_alias<'a>(spec: &'a Spec, chosen: &[Experiment]) -> Option<&'a Alias> {
    spec.alias.as_ref().filter(|a| {
        chosen.iter().any(|e| e.name == a.target) && chosen.iter().any(|e| e.name == a.source)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::Preset;
    use std::collections::BTreeSet;

    #[test]
    fn groups_partition_the_treatments() {
        let g = groups(7, 1108);
        assert_eq!(g.len(), 4);
        assert!(g.iter().all(|x| x.len() == 277));
        let all: BTreeSet<u32> = g.iter().flatten().copied().collect();
        assert_eq!(all.len(), 1108);
        assert_ne!(groups(7, 1108), groups(8, 1108));
    }

    #[test]
    fn plates_hold_rotated_groups_controls_and_the_alias_shift() {
        let spec = Spec::of(Preset::Rxrx1);
        let g = groups(3, spec.treatments);
        let lay = build(&spec, 3, &g, &spec.experiments);
        for e in &lay {
            for (i, p) in e.plates.iter().enumerate() {
                assert_eq!(p.wells.len(), 308);
                let grp = &g[e.plate_groups[i] as usize];
                let treat: Vec<u32> = {
                    let mut v: Vec<u32> =
                        p.wells.iter().map(|w| w.1).filter(|&s| s < 1108).collect();
                    v.sort_unstable();
                    v
                };
                assert_eq!(&treat, grp);
                let ctrl: BTreeSet<u32> =
                    p.wells.iter().map(|w| w.1).filter(|&s| s >= 1108).collect();
                assert_eq!(ctrl.len(), 31);
                assert_eq!(e.plate_groups[i], ((i as u8) + e.rotation) % 4);
            }
        }
        let t = lay
            .iter()
            .find(|e| e.experiment.name == "HUVEC-18")
            .unwrap();
        let s = lay.iter().find(|e| e.experiment.name == "RPE-03").unwrap();
        for p in 1..=4usize {
            let sp = ((p as i32 - 2).rem_euclid(4) + 1) as usize;
            assert_eq!(t.plates[p - 1], s.plates[sp - 1]);
        }
        // A subset holding only the target gives it the same layout.
        let sub = build(&spec, 3, &g, std::slice::from_ref(&t.experiment));
        assert_eq!(sub[0].plates, t.plates);
    }
}
