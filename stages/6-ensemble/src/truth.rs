//! The synthetic generator's `test_truth.csv` (`id_code,experiment,plate,
//! well,sirna`): the true class of every test well, for `--truth`.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{EnsembleError, Result};

/// id_code -> true sirna.
pub fn read_truth(path: &Path) -> Result<HashMap<String, u32>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EnsembleError::io(path, "cannot read truth file", e))?;
    let bad = |line: usize, m: String| EnsembleError::input(path, format!("line {line}: {m}"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .collect();
    let col = |n: &str| {
        header.iter().position(|h| *h == n).ok_or_else(|| {
            bad(
                1,
                format!("no column {n:?}; expected id_code,experiment,plate,well,sirna"),
            )
        })
    };
    let (ci, cs) = (col("id_code")?, col("sirna")?);
    let mut out = HashMap::new();
    for (k, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let (Some(id), Some(s)) = (f.get(ci), f.get(cs)) else {
            return Err(bad(
                k + 2,
                format!("{} field(s); expected {}", f.len(), header.len()),
            ));
        };
        let s: u32 = s
            .parse()
            .map_err(|_| bad(k + 2, format!("sirna {s:?}: expected a class id")))?;
        if out.insert(id.to_string(), s).is_some() {
            return Err(bad(k + 2, format!("id_code {id} listed twice")));
        }
    }
    Ok(out)
}
