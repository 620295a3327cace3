//! How a prediction file's rows relate to the dataset, checked with polars
//! joins and group-bys: every row names a well of the dataset, no (split,
//! id_code, site) twice, every well with all its sites, test rows only for
//! test wells and every test treatment well present, validation rows only for
//! labelled wells and every labelled treatment well of each validation
//! experiment present. Control wells are dropped (the submission and the
//! scores use treatment wells only, as the reference does). The result is,
//! per split, the dataset's well indices with the file's rows of their sites.

use std::collections::BTreeMap;

use polars::prelude::*;
use rcic_core::{DatasetIndex, Split, WellType, SITES};

use crate::error::{EnsembleError, Result};
use crate::read::{PredFile, PredSplit};

/// The dataset's wells as a table: `id_code` (`ids`, the dataset's
/// id_codes in well order), `well` (index into `DatasetIndex::wells`),
/// `experiment` (index), `ds_test`, `treatment`, `labelled`.
pub fn dataset_frame(index: &DatasetIndex, ids: &[String]) -> Result<DataFrame> {
    let n = index.wells.len();
    let mut well = Vec::with_capacity(n);
    let mut exp = Vec::with_capacity(n);
    let mut test = Vec::with_capacity(n);
    let mut treat = Vec::with_capacity(n);
    let mut lab = Vec::with_capacity(n);
    for (i, w) in index.wells.iter().enumerate() {
        well.push(i as u32);
        exp.push(w.experiment as u32);
        test.push(index.experiments[w.experiment].split == Split::Test);
        treat.push(w.well_type == WellType::Treatment);
        lab.push(w.label.is_some());
    }
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("id_code".into(), ids),
            Column::new("well".into(), well),
            Column::new("experiment".into(), exp),
            Column::new("ds_test".into(), test),
            Column::new("treatment".into(), treat),
            Column::new("labelled".into(), lab),
        ],
    )?)
}

/// The rows of one split of one file, grouped by well.
#[derive(Debug, Clone, Default)]
pub struct SplitRows {
    /// Dataset well indices, ascending.
    pub wells: Vec<usize>,
    /// File rows of each well's sites, in site order.
    pub rows: Vec<Vec<usize>>,
}

/// The checked rows of one file.
#[derive(Debug, Clone, Default)]
pub struct FileRows {
    pub val: SplitRows,
    pub test: SplitRows,
    /// Rows of control wells, dropped.
    pub control_rows: usize,
}

impl FileRows {
    pub fn split(&self, s: PredSplit) -> &SplitRows {
        match s {
            PredSplit::Val => &self.val,
            PredSplit::Test => &self.test,
        }
    }
}

fn u32s(df: &DataFrame, name: &str) -> Result<Vec<u32>> {
    Ok(df.column(name)?.u32()?.into_no_null_iter().collect())
}

fn strs(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect())
}

/// Row indices of every group of `keys`, groups in order of first
/// appearance (polars' hash group-by; the eager aggregations are deprecated
/// in favour of the lazy engine, which this crate leaves out).
fn groups(df: &DataFrame, keys: &[&str]) -> Result<Vec<Vec<usize>>> {
    let gb = df.group_by_stable(keys.iter().copied())?;
    Ok(gb
        .get_groups()
        .iter()
        .map(|g| match g {
            GroupsIndicator::Idx((_, rows)) => rows.iter().map(|&r| r as usize).collect(),
            GroupsIndicator::Slice([first, len]) => {
                (first as usize..(first + len) as usize).collect()
            }
        })
        .collect())
}

fn listing(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    let more = items.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// One integer key per row from small integer columns (bit fields, the
/// first lowest).
fn packed(df: &DataFrame, parts: &[(&str, u32)]) -> Result<Vec<u64>> {
    let mut key = vec![0u64; df.height()];
    let mut shift = 0;
    for &(name, bits) in parts {
        let c = df.column(name)?.cast(&DataType::UInt64)?;
        for (k, v) in key.iter_mut().zip(c.u64()?.into_no_null_iter()) {
            *k |= v << shift;
        }
        shift += bits;
    }
    Ok(key)
}

/// Checks a file against the dataset and groups its rows by well.
pub fn check_rows(ds: &DataFrame, f: &PredFile) -> Result<FileRows> {
    let bad = |m: String| EnsembleError::input(&f.path, m);
    let n = f.rows();
    let pred = DataFrame::new(
        n,
        vec![
            Column::new("row".into(), (0..n as u32).collect::<Vec<u32>>()),
            Column::new(
                "is_test".into(),
                f.split
                    .iter()
                    .map(|&s| s == PredSplit::Test)
                    .collect::<Vec<bool>>(),
            ),
            Column::new("id_code".into(), f.id_code.as_slice()),
            Column::new("site".into(), f.site.as_slice()),
        ],
    )?;

    // Every row's well: the one string join (file order kept); rows
    // without one name wells that are not in the dataset.
    let mut left = JoinArgs::new(JoinType::Left);
    left.maintain_order = MaintainOrderJoin::Left;
    let all = pred.join(ds, ["id_code"], ["id_code"], left, None)?;
    let known = all.column("well")?.is_not_null();
    if known.sum().unwrap_or(0) as usize != n {
        let unknown = all.filter(&!&known)?;
        let ids = strs(&unknown, "id_code")?;
        return Err(bad(format!(
            "{} row(s) name wells that are not in the dataset: {}",
            unknown.height(),
            listing(&ids)
        )));
    }

    // Sites out of range.
    if let Some(r) = f.site.iter().position(|&s| s == 0 || s > SITES) {
        return Err(bad(format!(
            "row {r} ({}): site {}; expected 1..={SITES}",
            f.id_code[r], f.site[r]
        )));
    }

    // Every row's (split, well, site) as one key (well indices stand for
    // id_codes), and the rows in key order: duplicates are neighbours, and
    // each well's sites follow each other.
    let keys = packed(&all, &[("site", 8), ("well", 32), ("is_test", 1)])?;
    let order: Vec<usize> = Column::new("key".into(), keys.as_slice())
        .arg_sort(SortOptions::default())
        .into_no_null_iter()
        .map(|i| i as usize)
        .collect();
    let treatment: Vec<bool> = all
        .column("treatment")?
        .bool()?
        .iter()
        .map(|t| t.unwrap_or(false))
        .collect();

    // Duplicate (split, id_code, site), listed (on error) in file order.
    if order.windows(2).any(|w| keys[w[0]] == keys[w[1]]) {
        let by_key = DataFrame::new(n, vec![Column::new("key".into(), keys.as_slice())])?;
        let dup: Vec<Vec<usize>> = groups(&by_key, &["key"])?
            .into_iter()
            .filter(|g| g.len() > 1)
            .collect();
        let items: Vec<String> = dup
            .iter()
            .map(|g| {
                format!(
                    "{} {} site {} (rows {:?})",
                    f.split[g[0]].as_str(),
                    f.id_code[g[0]],
                    f.site[g[0]],
                    g
                )
            })
            .collect();
        return Err(bad(format!(
            "{} (split, id_code, site) key(s) occur more than once: {}",
            dup.len(),
            listing(&items)
        )));
    }

    let control_rows = treatment.iter().filter(|&&t| !t).count();
    let joined = all.filter(all.column("treatment")?.bool()?)?;
    drop(all);
    let is_test = joined.column("is_test")?.bool()?.clone();
    let ds_test = joined.column("ds_test")?.bool()?.clone();
    let labelled = joined.column("labelled")?.bool()?.clone();

    // Test rows must be test wells; validation rows labelled wells.
    let wrong_test = joined.filter(&(&is_test & &!&ds_test))?;
    if wrong_test.height() > 0 {
        return Err(bad(format!(
            "{} test row(s) name wells of training experiments: {}; expected test experiments only",
            wrong_test.height(),
            listing(&strs(&wrong_test, "id_code")?)
        )));
    }
    let wrong_val = joined.filter(&(&!&is_test & &!&labelled))?;
    if wrong_val.height() > 0 {
        return Err(bad(format!(
            "{} val row(s) name wells without a known label: {}; expected labelled wells (training experiments, alias targets)",
            wrong_val.height(),
            listing(&strs(&wrong_val, "id_code")?)
        )));
    }

    // Every well with all its sites: runs of one (split, well) in key order,
    // listed (on error) in file order.
    let well_key = |r: usize| keys[r] >> 8;
    let treated: Vec<usize> = order.iter().copied().filter(|&r| treatment[r]).collect();
    let mut short_found = false;
    let mut run = 0;
    for (k, &r) in treated.iter().enumerate() {
        run += 1;
        if treated.get(k + 1).map(|&q| well_key(q)) != Some(well_key(r)) {
            short_found |= run < SITES as usize;
            run = 0;
        }
    }
    if short_found {
        let jrow = u32s(&joined, "row")?;
        let by_key = DataFrame::new(
            joined.height(),
            vec![Column::new(
                "key".into(),
                jrow.iter()
                    .map(|&r| well_key(r as usize))
                    .collect::<Vec<u64>>(),
            )],
        )?;
        let short: Vec<Vec<usize>> = groups(&by_key, &["key"])?
            .into_iter()
            .filter(|g| g.len() < SITES as usize)
            .collect();
        let items: Vec<String> = short
            .iter()
            .map(|g| {
                let r = jrow[g[0]] as usize;
                format!(
                    "{} {} (has site {})",
                    f.split[r].as_str(),
                    f.id_code[r],
                    f.site[r]
                )
            })
            .collect();
        return Err(bad(format!(
            "{} well(s) miss a site (expected sites 1..={SITES} each): {}",
            short.len(),
            listing(&items)
        )));
    }

    // Every test treatment well present.
    let test_rows = joined.filter(&is_test)?;
    let ds_test_wells =
        ds.filter(&(ds.column("ds_test")?.bool()? & ds.column("treatment")?.bool()?))?;
    let missing = ds_test_wells.join(
        &test_rows,
        ["well"],
        ["well"],
        JoinArgs::new(JoinType::Anti),
        None,
    )?;
    if missing.height() > 0 {
        return Err(bad(format!(
            "{} test treatment well(s) of the dataset have no rows: {}; expected every well of test.csv",
            missing.height(),
            listing(&strs(&missing, "id_code")?)
        )));
    }

    // Every labelled treatment well of each validation experiment present.
    let val_rows = joined.filter(&!&is_test)?;
    let val_exps =
        val_rows
            .select(["experiment"])?
            .unique_stable(None, UniqueKeepStrategy::First, None)?;
    let ds_lab = ds.filter(&(ds.column("labelled")?.bool()? & ds.column("treatment")?.bool()?))?;
    let ds_val = ds_lab.join(
        &val_exps,
        ["experiment"],
        ["experiment"],
        JoinArgs::new(JoinType::Semi),
        None,
    )?;
    let missing = ds_val.join(
        &val_rows,
        ["well"],
        ["well"],
        JoinArgs::new(JoinType::Anti),
        None,
    )?;
    if missing.height() > 0 {
        return Err(bad(format!(
            "{} labelled treatment well(s) of the validation experiments have no val rows: {}; expected whole experiments",
            missing.height(),
            listing(&strs(&missing, "id_code")?)
        )));
    }

    // Rows by well (ascending), sites in order: the key order.
    let mut out = FileRows {
        control_rows,
        ..Default::default()
    };
    for &r in &treated {
        let target = match f.split[r] {
            PredSplit::Val => &mut out.val,
            PredSplit::Test => &mut out.test,
        };
        let w = (well_key(r) & 0xffff_ffff) as usize;
        if target.wells.last() != Some(&w) {
            target.wells.push(w);
            target.rows.push(Vec::with_capacity(SITES as usize));
        }
        target.rows.last_mut().expect("pushed").push(r);
    }
    Ok(out)
}

/// Accuracy per experiment with a polars group-by: `(experiment, correct)`
/// pairs in, `experiment -> accuracy` out (sorted by name).
pub fn per_experiment(names: &[&str], correct: &[bool]) -> Result<BTreeMap<String, f64>> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let df = DataFrame::new(
        names.len(),
        vec![
            Column::new("experiment".into(), names),
            Column::new(
                "hit".into(),
                correct.iter().map(|&c| c as u32).collect::<Vec<u32>>(),
            ),
        ],
    )?;
    let hit = u32s(&df, "hit")?;
    Ok(groups(&df, &["experiment"])?
        .into_iter()
        .map(|g| {
            (
                names[g[0]].to_string(),
                g.iter().map(|&r| hit[r] as f64).sum::<f64>() / g.len() as f64,
            )
        })
        .collect())
}
