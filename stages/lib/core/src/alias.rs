//! Layout aliases: a test experiment whose plates carry exactly the layout of
//! a training experiment, plates shifted (RxRx1: HUVEC-18 has RPE-03's layout,
//! plate p holding RPE-03's plate ((p-2) mod 4)+1). The method treats the
//! target's wells as labelled; here the list is configurable.

use std::fmt;
use std::str::FromStr;

/// Target experiment `target` holds, on plate p, the layout of `source`'s
/// plate `((p - 1 - shift) mod plates) + 1`, well for well.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LayoutAlias {
    pub target: String,
    pub source: String,
    pub shift: i32,
}

impl LayoutAlias {
    /// RxRx1's one alias: HUVEC-18 <- RPE-03, shifted by one plate.
    pub fn rxrx1() -> Self {
        Self {
            target: "HUVEC-18".into(),
            source: "RPE-03".into(),
            shift: 1,
        }
    }

    /// The source plate whose layout the target's `plate` (1-based) carries.
    pub fn source_plate(&self, plate: u8, plates: u8) -> u8 {
        let p = plates as i32;
        ((plate as i32 - 1 - self.shift).rem_euclid(p) + 1) as u8
    }
}

impl fmt::Display for LayoutAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}:{}", self.target, self.source, self.shift)
    }
}

impl FromStr for LayoutAlias {
    type Err = String;
    /// `TARGET=SOURCE:SHIFT`, e.g. `HUVEC-18=RPE-03:1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("layout alias {s:?}: expected TARGET=SOURCE:SHIFT, like HUVEC-18=RPE-03:1");
        let (target, rest) = s.split_once('=').ok_or_else(bad)?;
        let (source, shift) = rest.rsplit_once(':').ok_or_else(bad)?;
        let shift = shift.parse().map_err(|_| bad())?;
        if target.is_empty() || source.is_empty() || target == source {
            return Err(bad());
        }
        Ok(Self {
            target: target.into(),
            source: source.into(),
            shift,
        })
    }
}

/// Which aliases the dataset index applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AliasConfig {
    /// RxRx1's alias when both of its experiments exist, else none.
    #[default]
    Default,
    /// No alias at all.
    None,
    /// Exactly these; each must name existing experiments.
    List(Vec<LayoutAlias>),
}

impl FromStr for AliasConfig {
    type Err = String;
    /// `default`, `none`, or a comma list of `TARGET=SOURCE:SHIFT`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "default" => Ok(Self::Default),
            "none" | "" => Ok(Self::None),
            list => list
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map(Self::List),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rxrx1_shift_matches_the_reference_formula() {
        let a = LayoutAlias::rxrx1();
        for p in 1..=4u8 {
            assert_eq!(
                a.source_plate(p, 4),
                ((p as i32 - 2).rem_euclid(4) + 1) as u8
            );
        }
        assert_eq!(a.source_plate(1, 4), 4);
        assert_eq!(a.source_plate(2, 4), 1);
    }

    #[test]
    fn parses_configs() {
        assert_eq!(
            "HUVEC-18=RPE-03:1".parse::<LayoutAlias>().unwrap(),
            LayoutAlias::rxrx1()
        );
        assert_eq!("none".parse::<AliasConfig>().unwrap(), AliasConfig::None);
        assert_eq!(
            "default".parse::<AliasConfig>().unwrap(),
            AliasConfig::Default
        );
        assert!("A=B".parse::<AliasConfig>().is_err());
        assert!("A=A:1".parse::<LayoutAlias>().is_err());
        let l: AliasConfig = "A-2=B-1:1,C-2=D-1:-1".parse().unwrap();
        assert!(matches!(l, AliasConfig::List(v) if v.len() == 2 && v[1].shift == -1));
    }
}
