//! Plate groups, derived from the labelled plates instead of hard-coded: the
//! treatments split into disjoint groups, every plate holds one group, and
//! the plates of an experiment hold different groups. The ensemble restricts
//! each plate's predictions to its group; this module finds the groups and
//! every labelled experiment's plate-to-group assignment.

use std::collections::{BTreeMap, BTreeSet};

/// The treatment siRNAs seen on one labelled plate.
#[derive(Debug, Clone)]
pub struct LabelledPlate {
    pub experiment: String,
    pub plate: u8,
    pub treatments: BTreeSet<u32>,
}

/// Disjoint treatment groups, numbered by their smallest member (RxRx1: the
/// group holding siRNA 0 is group 0, as in the reference), and the group of
/// every plate of every labelled experiment.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct PlateGroups {
    pub groups: Vec<BTreeSet<u32>>,
    /// experiment -> group index of plate 1, 2, ...
    pub assignment: BTreeMap<String, Vec<usize>>,
}

impl PlateGroups {
    /// Group of a treatment siRNA.
    pub fn group_of(&self, sirna: u32) -> Option<usize> {
        self.groups.iter().position(|g| g.contains(&sirna))
    }

    /// Finds the groups. `plates_per_experiment` is the number of groups.
    /// Errors are human-readable sentences naming experiment and plate.
    pub fn derive(
        plates: &[LabelledPlate],
        plates_per_experiment: usize,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        if plates.is_empty() || plates_per_experiment == 0 {
            return Ok(Self::default());
        }
        let mut by_exp: BTreeMap<&str, Vec<&LabelledPlate>> = BTreeMap::new();
        for p in plates {
            by_exp.entry(&p.experiment).or_default().push(p);
        }
        // Plates of one experiment must be pairwise disjoint.
        for (exp, ps) in &by_exp {
            for (i, a) in ps.iter().enumerate() {
                for b in &ps[i + 1..] {
                    let shared = a.treatments.intersection(&b.treatments).count();
                    if shared > 0 {
                        errors.push(format!(
                            "experiment {exp}: plates {} and {} share {shared} treatment siRNA(s), but each plate of an experiment must hold a different group",
                            a.plate, b.plate
                        ));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Seed the groups with the labelled experiment that has the most plates
        // (first by name among equals), then attach every plate by overlap.
        let seed = by_exp
            .iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(a.0)))
            .map(|(e, _)| *e)
            .expect("non-empty");
        let mut groups: Vec<BTreeSet<u32>> =
            by_exp[seed].iter().map(|p| p.treatments.clone()).collect();
        let mut plate_group: BTreeMap<(&str, u8), usize> = BTreeMap::new();
        for (i, p) in by_exp[seed].iter().enumerate() {
            plate_group.insert((&p.experiment, p.plate), i);
        }
        for p in plates.iter().filter(|p| p.experiment != seed) {
            let hits: Vec<(usize, usize)> = groups
                .iter()
                .enumerate()
                .map(|(g, set)| (g, set.intersection(&p.treatments).count()))
                .filter(|&(_, n)| n > 0)
                .collect();
            match hits.as_slice() {
                [(g, _)] => {
                    groups[*g].extend(p.treatments.iter().copied());
                    plate_group.insert((&p.experiment, p.plate), *g);
                }
                [] if groups.len() < plates_per_experiment => {
                    groups.push(p.treatments.clone());
                    plate_group.insert((&p.experiment, p.plate), groups.len() - 1);
                }
                [] => errors.push(format!(
                    "experiment {} plate {}: its treatments share no siRNA with any of the {} groups found on the other labelled plates",
                    p.experiment,
                    p.plate,
                    groups.len()
                )),
                many => errors.push(format!(
                    "experiment {} plate {}: its treatments span {} plate groups ({}), but a plate must hold exactly one group",
                    p.experiment,
                    p.plate,
                    many.len(),
                    many.iter().map(|(g, n)| format!("{n} siRNA(s) of the group holding {}", groups[*g].first().unwrap())).collect::<Vec<_>>().join(", ")
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Attaching may have made two groups overlap only through a plate that
        // was checked against an earlier state; verify disjointness at the end.
        for i in 0..groups.len() {
            for j in i + 1..groups.len() {
                let shared: Vec<u32> = groups[i]
                    .intersection(&groups[j])
                    .copied()
                    .take(5)
                    .collect();
                if !shared.is_empty() {
                    errors.push(format!(
                        "plate groups are not disjoint: siRNA(s) {shared:?} occur in two groups"
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Canonical numbering: by smallest member.
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by_key(|&g| groups[g].first().copied().unwrap_or(u32::MAX));
        let mut renumber = vec![0; groups.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old] = new;
        }
        let groups: Vec<BTreeSet<u32>> = order.iter().map(|&g| groups[g].clone()).collect();
        let mut assignment: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (exp, ps) in &by_exp {
            let n = ps.iter().map(|p| p.plate as usize).max().unwrap_or(0);
            let mut a = vec![usize::MAX; n];
            for p in ps {
                a[p.plate as usize - 1] = renumber[plate_group[&(*exp, p.plate)]];
            }
            let mut seen = BTreeMap::new();
            for (i, &g) in a.iter().enumerate() {
                if g == usize::MAX {
                    continue;
                }
                if let Some(prev) = seen.insert(g, i + 1) {
                    errors.push(format!(
                        "experiment {exp}: plates {prev} and {} both hold plate group {g}",
                        i + 1
                    ));
                }
            }
            assignment.insert(exp.to_string(), a);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self { groups, assignment })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(e: &str, p: u8, t: &[u32]) -> LabelledPlate {
        LabelledPlate {
            experiment: e.into(),
            plate: p,
            treatments: t.iter().copied().collect(),
        }
    }

    #[test]
    fn recovers_groups_and_rotations_even_with_missing_wells() {
        let g = [[0u32, 5], [1, 4], [2, 7], [3, 6]];
        let mut plates = Vec::new();
        for (e, rot) in [("A-01", 0usize), ("A-02", 1), ("B-01", 3)] {
            for p in 0..4 {
                let grp = g[(p + rot) % 4];
                // B-01 misses one well on plate 1.
                let t: Vec<u32> = if e == "B-01" && p == 0 {
                    grp[..1].to_vec()
                } else {
                    grp.to_vec()
                };
                plates.push(plate(e, p as u8 + 1, &t));
            }
        }
        let pg = PlateGroups::derive(&plates, 4).unwrap();
        assert_eq!(pg.groups.len(), 4);
        assert_eq!(pg.groups[0], [0, 5].into_iter().collect());
        assert_eq!(pg.groups[3], [3, 6].into_iter().collect());
        assert_eq!(pg.assignment["A-01"], vec![0, 1, 2, 3]);
        assert_eq!(pg.assignment["A-02"], vec![1, 2, 3, 0]);
        assert_eq!(pg.assignment["B-01"], vec![3, 0, 1, 2]);
        assert_eq!(pg.group_of(7), Some(2));
    }

    #[test]
    fn a_plate_spanning_two_groups_is_named() {
        let plates = vec![
            plate("A-01", 1, &[0, 1]),
            plate("A-01", 2, &[2, 3]),
            plate("A-02", 1, &[0, 2]),
            plate("A-02", 2, &[1, 3]),
        ];
        let err = PlateGroups::derive(&plates, 2).unwrap_err();
        assert!(
            err[0].contains("A-02 plate 1") && err[0].contains("span 2 plate groups"),
            "{err:?}"
        );
    }

    #[test]
    fn plates_of_one_experiment_sharing_treatments_fail() {
        let plates = vec![plate("A-01", 1, &[0, 1]), plate("A-01", 2, &[1, 3])];
        let err = PlateGroups::derive(&plates, 2).unwrap_err();
        assert!(err[0].contains("plates 1 and 2 share 1"), "{err:?}");
    }

    #[test]
    fn two_plates_on_the_same_group_fail() {
        let plates = vec![
            plate("A-01", 1, &[0, 1]),
            plate("A-01", 2, &[2, 3]),
            plate("A-02", 1, &[0]),
            plate("A-02", 2, &[1]),
        ];
        let err = PlateGroups::derive(&plates, 2).unwrap_err();
        assert!(
            err.iter()
                .any(|e| e.contains("A-02: plates 1 and 2 both hold plate group 0")),
            "{err:?}"
        );
    }
}
