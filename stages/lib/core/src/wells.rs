//! Well names (`B02`) and `id_code`s (`HEPG2-01_1_B02`) as typed values, and
//! the cell type derived from an experiment name, so that no stage parses
//! these strings twice or differently.

use std::fmt;
use std::str::FromStr;

/// A well of a plate: row letter A..P, column 1..24 (a 384-well plate; RxRx1
/// uses B02..O23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Well {
    /// 0 for row A.
    pub row: u8,
    /// 1-based column.
    pub col: u8,
}

impl Well {
    pub fn new(row: u8, col: u8) -> Self {
        Self { row, col }
    }

    /// RxRx1's 308 wells, B02..O23, in row-major order (the order of its CSVs).
    pub fn rxrx1_wells() -> Vec<Well> {
        (1u8..=14)
            .flat_map(|r| (2u8..=23).map(move |c| Well::new(r, c)))
            .collect()
    }
}

impl fmt::Display for Well {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:02}", (b'A' + self.row) as char, self.col)
    }
}

impl FromStr for Well {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let bad = || {
            format!("well {s:?}: expected a row letter A-P and a two-digit column 01-24, like B02")
        };
        if b.len() != 3
            || !(b'A'..=b'P').contains(&b[0])
            || !b[1].is_ascii_digit()
            || !b[2].is_ascii_digit()
        {
            return Err(bad());
        }
        let col = (b[1] - b'0') * 10 + (b[2] - b'0');
        if !(1..=24).contains(&col) {
            return Err(bad());
        }
        Ok(Well::new(b[0] - b'A', col))
    }
}

/// The cell type of an experiment: its name up to the first `-`
/// (`HEPG2-01` -> `HEPG2`); a name without `-` is its own cell type.
pub fn cell_type(experiment: &str) -> &str {
    experiment.split_once('-').map_or(experiment, |(c, _)| c)
}

/// `{experiment}_{plate}_{well}`.
pub fn id_code(experiment: &str, plate: u8, well: Well) -> String {
    format!("{experiment}_{plate}_{well}")
}

/// Splits an id_code into (experiment, plate, well).
pub fn parse_id_code(id: &str) -> Result<(&str, u8, Well), String> {
    let bad = |why: &str| {
        format!("id_code {id:?}: expected EXPERIMENT_PLATE_WELL like HEPG2-01_1_B03 ({why})")
    };
    let mut parts = id.rsplitn(3, '_');
    let (Some(well), Some(plate), Some(exp)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("too few '_'-separated parts"));
    };
    if exp.is_empty() {
        return Err(bad("empty experiment"));
    }
    let plate: u8 = plate.parse().map_err(|_| bad("plate is not a number"))?;
    let well: Well = well.parse().map_err(|e: String| bad(&e))?;
    Ok((exp, plate, well))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wells_round_trip_and_rxrx1_has_308() {
        let w: Well = "B02".parse().unwrap();
        assert_eq!(w, Well::new(1, 2));
        assert_eq!(w.to_string(), "B02");
        assert_eq!("O23".parse::<Well>().unwrap().to_string(), "O23");
        let all = Well::rxrx1_wells();
        assert_eq!(all.len(), 308);
        assert_eq!(all[0].to_string(), "B02");
        assert_eq!(all[21].to_string(), "B23");
        assert_eq!(all[22].to_string(), "C02");
        for bad in ["B2", "b02", "Z02", "B00", "B25", "B0x", ""] {
            assert!(bad.parse::<Well>().is_err(), "{bad}");
        }
    }

    #[test]
    fn id_codes_and_cell_types() {
        assert_eq!(
            parse_id_code("HEPG2-01_1_B03").unwrap(),
            ("HEPG2-01", 1, Well::new(1, 3))
        );
        assert_eq!(id_code("RPE-03", 4, Well::new(14, 23)), "RPE-03_4_O23");
        assert!(parse_id_code("HEPG2-01_B03").is_err());
        assert!(parse_id_code("HEPG2-01_x_B03").is_err());
        assert!(parse_id_code("_1_B03").is_err());
        assert_eq!(cell_type("HUVEC-18"), "HUVEC");
        assert_eq!(cell_type("U2OS"), "U2OS");
    }
}
