//! A table of plate groups known in advance (docs/method.md section 7): for
//! every experiment, which treatment group each plate holds. The reference
//! pseudo-labels the unlabelled plates with such a table of the real RxRx1
//! (kept here as data: `data/rxrx1-plate-groups.toml`, format in
//! data-schemas/plate-groups.md). A table is used only where it provably
//! belongs to the data at hand: its groups must be the ones the labelled
//! plates form, and every labelled experiment's plates must sit in the
//! table's groups (a synthetic RxRx1 has the same experiment names and other
//! groups, so a name match proves nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::groups::PlateGroups;

/// The RxRx1 table, embedded.
const RXRX1: &str = include_str!("../data/rxrx1-plate-groups.toml");

/// Groups and the group of each plate of each experiment, as a table file
/// gives them (its own group numbering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlateTable {
    /// Where it came from (for messages).
    pub source: String,
    pub groups: Vec<BTreeSet<u32>>,
    /// experiment -> table group of plate 1, 2, ...
    pub plates: BTreeMap<String, Vec<usize>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    groups: Vec<Vec<u32>>,
    plates: BTreeMap<String, Vec<usize>>,
}

/// Why a table cannot be read or does not fit the data.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("{source_name}: {message}; expected `groups = [[sirna, ...], ...]` and a [plates] section `EXPERIMENT = [group of plate 1, ...]` (data-schemas/plate-groups.md)")]
    Format {
        source_name: String,
        message: String,
    },
}

impl PlateTable {
    /// The RxRx1 table of the reference.
    pub fn rxrx1() -> Self {
        Self::parse("the RxRx1 plate-group table", RXRX1).expect("the embedded table parses")
    }

    /// Reads a table file.
    pub fn read(path: &Path) -> Result<Self, TableError> {
        let text = std::fs::read_to_string(path).map_err(|cause| TableError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    fn parse(source: &str, text: &str) -> Result<Self, TableError> {
        let bad = |message: String| TableError::Format {
            source_name: source.into(),
            message,
        };
        let f: File = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
        let groups: Vec<BTreeSet<u32>> = f
            .groups
            .into_iter()
            .map(|g| g.into_iter().collect())
            .collect();
        for (i, a) in groups.iter().enumerate() {
            for (j, b) in groups.iter().enumerate().skip(i + 1) {
                if let Some(s) = a.intersection(b).next() {
                    return Err(bad(format!("sirna {s} is in groups {i} and {j}")));
                }
            }
        }
        for (e, ps) in &f.plates {
            if let Some(g) = ps.iter().find(|&&g| g >= groups.len()) {
                return Err(bad(format!(
                    "{e}: group {g}, but there are {} groups",
                    groups.len()
                )));
            }
        }
        Ok(Self {
            source: source.into(),
            groups,
            plates: f.plates,
        })
    }

    /// The table in the data's group numbering, when it fits the data:
    /// the same groups as the labelled plates form, and every labelled
    /// experiment's plates in the same groups as the table says. Otherwise
    /// the first disagreement, as a sentence.
    pub fn fit(&self, derived: &PlateGroups) -> Result<BTreeMap<String, Vec<usize>>, String> {
        let to_data: Vec<Option<usize>> = self
            .groups
            .iter()
            .map(|g| derived.groups.iter().position(|d| d == g))
            .collect();
        if derived.groups.is_empty() {
            return Err("the data has no labelled plates to check it against".into());
        }
        if self.groups.len() != derived.groups.len() || to_data.iter().any(Option::is_none) {
            let n = to_data.iter().filter(|g| g.is_some()).count();
            return Err(format!(
                "its {} groups are not the {} groups of the data's labelled plates ({n} equal)",
                self.groups.len(),
                derived.groups.len()
            ));
        }
        let map = |ps: &[usize]| -> Vec<usize> {
            ps.iter().map(|&g| to_data[g].expect("checked")).collect()
        };
        for (e, known) in &derived.assignment {
            let Some(ps) = self.plates.get(e) else {
                return Err(format!("it has no row for the labelled experiment {e}"));
            };
            let mine = map(ps);
            if let Some(p) = (0..known.len()).find(|&p| mine.get(p) != Some(&known[p])) {
                return Err(format!(
                    "experiment {e} plate {}: the table says group {}, the labels group {}",
                    p + 1,
                    ps.get(p).map_or("none".into(), |g| g.to_string()),
                    known[p]
                ));
            }
        }
        Ok(self
            .plates
            .iter()
            .map(|(e, ps)| (e.clone(), map(ps)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(groups: &[&[u32]], assignment: &[(&str, &[usize])]) -> PlateGroups {
        PlateGroups {
            groups: groups.iter().map(|g| g.iter().copied().collect()).collect(),
            assignment: assignment
                .iter()
                .map(|(e, a)| (e.to_string(), a.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn the_rxrx1_table_has_4_groups_of_277_and_51_experiments() {
        let t = PlateTable::rxrx1();
        assert_eq!(
            t.groups.iter().map(BTreeSet::len).collect::<Vec<_>>(),
            [277; 4]
        );
        assert_eq!(t.plates.len(), 51);
        assert!(t.plates.values().all(|p| p.len() == 4));
        assert_eq!(t.plates["HUVEC-18"], [1, 2, 3, 0]);
    }

    #[test]
    fn a_table_fits_only_data_with_its_groups_and_labelled_plates() {
        let text = "groups = [[2, 3], [0, 1]]\n[plates]\nA = [0, 1]\nB = [1, 0]\nT = [1, 0]\n";
        let t = PlateTable::parse("t", text).unwrap();
        // The data numbers the group holding 0 first.
        let d = derived(&[&[0, 1], &[2, 3]], &[("A", &[1, 0]), ("B", &[0, 1])]);
        let fit = t.fit(&d).unwrap();
        assert_eq!(fit["T"], [0, 1]);
        let other = derived(&[&[0, 2], &[1, 3]], &[("A", &[1, 0])]);
        assert!(t.fit(&other).unwrap_err().contains("not the 2 groups"));
        let wrong = derived(&[&[0, 1], &[2, 3]], &[("A", &[0, 1])]);
        let e = t.fit(&wrong).unwrap_err();
        assert!(e.contains("experiment A plate 1"), "{e}");
        let missing = derived(&[&[0, 1], &[2, 3]], &[("C", &[0, 1])]);
        assert!(t
            .fit(&missing)
            .unwrap_err()
            .contains("no row for the labelled experiment C"));
    }

    #[test]
    fn a_malformed_table_is_refused_with_its_name() {
        let e = PlateTable::parse("x.toml", "groups = [[0, 1], [1, 2]]\n[plates]\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("x.toml: sirna 1 is in groups 0 and 1"),
            "{e}"
        );
        let e = PlateTable::parse("x.toml", "groups = [[0]]\n[plates]\nA = [3]\n").unwrap_err();
        assert!(e.to_string().contains("A: group 3"), "{e}");
    }
}
