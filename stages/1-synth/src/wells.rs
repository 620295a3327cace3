//! Wells of an RxRx1 plate: rows B..O, columns 02..23 (308 wells), ordered
//! row by row (B02, B03, ..., B23, C02, ...) as Kaggle's CSVs are.

use std::fmt;

/// Number of rows (B..O) and columns (02..23) in use.
pub const ROWS: u8 = 14;
pub const COLS: u8 = 22;
/// Wells per plate.
pub const WELLS: usize = ROWS as usize * COLS as usize;

/// One well; `row` 0 is B, `col` is the printed column number (2..=23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Well {
    pub row: u8,
    pub col: u8,
}

impl Well {
    /// All 308 wells in Kaggle order.
    pub fn all() -> Vec<Well> {
        (0..ROWS)
            .flat_map(|row| (2..2 + COLS).map(move |col| Well { row, col }))
            .collect()
    }

    /// Whether the well sits on the outer ring of the used area (edge effects).
    pub fn is_edge(&self) -> bool {
        self.row == 0 || self.row == ROWS - 1 || self.col == 2 || self.col == 1 + COLS
    }
}

impl fmt::Display for Well {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:02}", (b'B' + self.row) as char, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wells_are_b02_to_o23_in_kaggle_order() {
        let w = Well::all();
        assert_eq!(w.len(), 308);
        assert_eq!(w[0].to_string(), "B02");
        assert_eq!(w[1].to_string(), "B03");
        assert_eq!(w[21].to_string(), "B23");
        assert_eq!(w[22].to_string(), "C02");
        assert_eq!(w[307].to_string(), "O23");
        assert!(w.windows(2).all(|p| p[0] < p[1]));
        assert_eq!(w.iter().filter(|w| w.is_edge()).count(), 2 * 22 + 2 * 12);
    }
}
