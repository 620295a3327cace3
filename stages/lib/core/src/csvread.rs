//! Reading Kaggle CSVs by column name with line numbers, so that every bad
//! row can be reported as `file: line N: what was expected`.

use std::path::Path;

use crate::error::{Collector, CoreError, Result};

/// A CSV file read whole: header names and records with their line numbers.
pub struct CsvTable {
    pub header: Vec<String>,
    pub rows: Vec<(usize, csv::StringRecord)>,
}

impl CsvTable {
    /// Reads `path`; records with a wrong field count are reported to
    /// `problems` and skipped.
    pub fn read(path: &Path, problems: &mut Collector) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CoreError::MissingFile {
                path: path.to_path_buf(),
                expected: "a Kaggle RxRx1 CSV file".into(),
            },
            _ => CoreError::io(path, "cannot open", e),
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(std::io::BufReader::new(file));
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| CoreError::Format {
                path: path.to_path_buf(),
                message: format!("cannot read the header line: {e}"),
            })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for rec in reader.records() {
            match rec {
                Ok(r) => {
                    let line = r.position().map_or(0, |p| p.line() as usize);
                    if r.len() != header.len() {
                        problems.push(
                            path,
                            Some(line),
                            format!(
                                "expected {} fields ({}), found {}",
                                header.len(),
                                header.join(","),
                                r.len()
                            ),
                        );
                        continue;
                    }
                    rows.push((line, r));
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line() as usize);
                    problems.push(path, line, format!("unreadable CSV record: {e}"));
                }
            }
        }
        Ok(Self { header, rows })
    }

    /// Index of each required column, or an error naming the missing ones.
    pub fn columns(&self, path: &Path, required: &[&str]) -> Result<Vec<usize>> {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !self.header.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Err(CoreError::Format {
                path: path.to_path_buf(),
                message: format!(
                    "missing column(s) {}; expected columns {} (found {})",
                    missing.join(", "),
                    required.join(","),
                    self.header.join(",")
                ),
            });
        }
        Ok(required
            .iter()
            .map(|c| self.header.iter().position(|h| h == c).unwrap())
            .collect())
    }
}
