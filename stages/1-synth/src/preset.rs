//! Dataset presets: which experiments exist (train or test), how many
//! treatments and controls, the default image size and the layout alias.
//! `rxrx1` is the real RxRx1 structure; `tiny` and `demo` are scaled down.

use std::fmt;

use serde::Serialize;

use crate::error::{Result, SynthError};

/// Plates per experiment, sites per well, channels per site (RxRx1's).
pub const PLATES: u8 = 4;
pub const SITES: u8 = 2;
pub const CHANNELS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// For CI: 2 cell types, 8 experiments, 32 treatments, 32 px.
    Tiny,
    /// 4 cell types, 16 experiments (4 in test), 100 treatments, 64 px.
    Demo,
    /// The real RxRx1 structure: 51 experiments, 1108 treatments, 31 controls, 512 px.
    Rxrx1,
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::Tiny => "tiny",
            Preset::Demo => "demo",
            Preset::Rxrx1 => "rxrx1",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

impl Split {
    pub fn dir(&self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Experiment {
    pub name: String,
    pub split: Split,
}

impl Experiment {
    /// Cell type: the name up to the first '-'.
    pub fn cell_type(&self) -> &str {
        cell_type(&self.name)
    }
}

pub fn cell_type(experiment: &str) -> &str {
    experiment.split('-').next().unwrap_or(experiment)
}

/// Target experiment holds on plate p the layout of the source's plate
/// ((p - 1 - shift) mod 4) + 1, well for well (RxRx1: HUVEC-18 <- RPE-03, 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alias {
    pub target: String,
    pub source: String,
    pub shift: i32,
}

impl Alias {
    pub fn source_plate(&self, plate: u8) -> u8 {
        ((plate as i32 - 1 - self.shift).rem_euclid(PLATES as i32) + 1) as u8
    }
}

/// Everything a preset fixes.
#[derive(Debug, Clone)]
pub struct Spec {
    pub preset: Preset,
    /// All experiments, sorted by name.
    pub experiments: Vec<Experiment>,
    /// Treatment classes 0..treatments-1 (divisible by 4).
    pub treatments: u32,
    /// Control classes treatments..treatments+controls-1; the last is the negative control.
    pub controls: u32,
    pub image_size: u32,
    pub alias: Option<Alias>,
}

fn series(out: &mut Vec<Experiment>, cell: &str, from: u32, to: u32, split: Split) {
    for i in from..=to {
        out.push(Experiment {
            name: format!("{cell}-{i:02}"),
            split,
        });
    }
}

impl Spec {
    pub fn of(preset: Preset) -> Spec {
        use Split::*;
        let mut e = Vec::new();
        let (treatments, controls, image_size, alias) = match preset {
            Preset::Tiny => {
                series(&mut e, "HEPG2", 1, 3, Train);
                series(&mut e, "HEPG2", 4, 4, Test);
                series(&mut e, "HUVEC", 1, 3, Train);
                series(&mut e, "HUVEC", 4, 4, Test);
                (32, 4, 32, ("HUVEC-04", "HEPG2-02"))
            }
            Preset::Demo => {
                series(&mut e, "HEPG2", 1, 3, Train);
                series(&mut e, "HEPG2", 4, 4, Test);
                series(&mut e, "HUVEC", 1, 4, Train);
                series(&mut e, "HUVEC", 5, 5, Test);
                series(&mut e, "RPE", 1, 3, Train);
                series(&mut e, "RPE", 4, 4, Test);
                series(&mut e, "U2OS", 1, 2, Train);
                series(&mut e, "U2OS", 3, 3, Test);
                (100, 8, 64, ("HUVEC-05", "RPE-02"))
            }
            Preset::Rxrx1 => {
                series(&mut e, "HEPG2", 1, 7, Train);
                series(&mut e, "HEPG2", 8, 11, Test);
                series(&mut e, "HUVEC", 1, 16, Train);
                series(&mut e, "HUVEC", 17, 24, Test);
                series(&mut e, "RPE", 1, 7, Train);
                series(&mut e, "RPE", 8, 11, Test);
                series(&mut e, "U2OS", 1, 3, Train);
                series(&mut e, "U2OS", 4, 5, Test);
                (1108, 31, 512, ("HUVEC-18", "RPE-03"))
            }
        };
        e.sort_by(|a, b| a.name.cmp(&b.name));
        Spec {
            preset,
            experiments: e,
            treatments,
            controls,
            image_size,
            alias: Some(Alias {
                target: alias.0.into(),
                source: alias.1.into(),
                shift: 1,
            }),
        }
    }

    pub fn classes(&self) -> u32 {
        self.treatments + self.controls
    }

    pub fn negative_control(&self) -> u32 {
        self.classes() - 1
    }

    pub fn is_control(&self, sirna: u32) -> bool {
        sirna >= self.treatments
    }

    /// Wells used per plate: one group of treatments plus every control.
    pub fn wells_per_plate(&self) -> usize {
        (self.treatments / 4 + self.controls) as usize
    }

    pub fn experiment(&self, name: &str) -> Option<&Experiment> {
        self.experiments.iter().find(|e| e.name == name)
    }

    /// The experiments named in `list` (all when `None`), in sorted order.
    pub fn select(&self, list: Option<&[String]>) -> Result<Vec<Experiment>> {
        let Some(list) = list else {
            return Ok(self.experiments.clone());
        };
        let mut out = Vec::new();
        for name in list {
            let e = self
                .experiment(name)
                .ok_or_else(|| SynthError::UnknownExperiment {
                    name: name.clone(),
                    preset: self.preset.to_string(),
                    known: self
                        .experiments
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                })?;
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        if out.is_empty() {
            return Err(SynthError::InvalidOption {
                option: "--experiments",
                message: "empty list".into(),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rxrx1_has_the_real_structure() {
        let s = Spec::of(Preset::Rxrx1);
        assert_eq!(s.experiments.len(), 51);
        assert_eq!(
            s.experiments
                .iter()
                .filter(|e| e.split == Split::Test)
                .count(),
            18
        );
        assert_eq!(s.wells_per_plate(), 308);
        assert_eq!(s.negative_control(), 1138);
        assert_eq!(s.experiment("HUVEC-18").unwrap().split, Split::Test);
        assert_eq!(s.experiment("RPE-03").unwrap().split, Split::Train);
        let a = s.alias.unwrap();
        assert_eq!([1, 2, 3, 4].map(|p| a.source_plate(p)), [4, 1, 2, 3]);
    }

    #[test]
    fn presets_fit_the_plate_and_their_aliases_exist() {
        for p in [Preset::Tiny, Preset::Demo, Preset::Rxrx1] {
            let s = Spec::of(p);
            assert_eq!(s.treatments % 4, 0);
            assert!(s.wells_per_plate() <= crate::wells::WELLS);
            let a = s.alias.as_ref().unwrap();
            assert_eq!(s.experiment(&a.target).unwrap().split, Split::Test);
            assert_eq!(s.experiment(&a.source).unwrap().split, Split::Train);
        }
        let t = Spec::of(Preset::Tiny);
        assert!(t.experiments.len() <= 8 && t.treatments <= 40);
        let d = Spec::of(Preset::Demo);
        assert!((12..=16).contains(&d.experiments.len()) && d.treatments >= 100);
    }

    #[test]
    fn select_rejects_unknown_names() {
        let s = Spec::of(Preset::Tiny);
        assert!(s.select(Some(&["HEPG2-09".to_string()])).is_err());
        let sel = s
            .select(Some(&["HUVEC-01".to_string(), "HEPG2-01".to_string()]))
            .unwrap();
        assert_eq!(sel[0].name, "HEPG2-01");
    }
}
