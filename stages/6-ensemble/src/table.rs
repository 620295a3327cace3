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

/// The file's rows as a table (`row`, `is_test`, `id_code`, `site`) joined
/// with their wells (file order kept); rows naming wells that are not in
/// the dataset are an error.
fn join_wells(ds: &DataFrame, f: &PredFile) -> Result<DataFrame> {
    let n = f.rows();
    let is_test: Vec<bool> = f.split.iter().map(|&s| s == PredSplit::Test).collect();
    let site: Vec<u32> = f.site.iter().map(|&s| s as u32).collect();
    let pred = DataFrame::new(
        n,
        vec![
            Column::new("row".into(), (0..n as u32).collect::<Vec<u32>>()),
            Column::new("is_test".into(), is_test),
            Column::new("id_code".into(), f.id_code.as_slice()),
            Column::new("site".into(), site),
        ],
    )?;
    let mut left = JoinArgs::new(JoinType::Left);
    left.maintain_order = MaintainOrderJoin::Left;
    let all = pred.join(ds, ["id_code"], ["id_code"], left, None)?;
    let known = all.column("well")?.is_not_null();
    if known.sum().unwrap_or(0) as usize != n {
        let unknown = all.filter(&!&known)?;
        return Err(EnsembleError::input(
            &f.path,
            format!(
                "{} row(s) name wells that are not in the dataset: {}",
                unknown.height(),
                listing(&strs(&unknown, "id_code")?)
            ),
        ));
    }
    if let Some(r) = f.site.iter().position(|&s| s == 0 || s > SITES) {
        return Err(EnsembleError::input(
            &f.path,
            format!(
                "row {r} ({}): site {}; expected 1..={SITES}",
                f.id_code[r], f.site[r]
            ),
        ));
    }
    Ok(all)
}

/// No (split, id_code, site) twice: `keys` in `order` have no equal
/// neighbours; duplicates are listed in file order.
fn check_duplicates(f: &PredFile, keys: &[u64], order: &[usize]) -> Result<()> {
    if !order.windows(2).any(|w| keys[w[0]] == keys[w[1]]) {
        return Ok(());
    }
    let by_key = DataFrame::new(keys.len(), vec![Column::new("key".into(), keys)])?;
    let dup: Vec<Vec<usize>> = groups(&by_key, &["key"])?
        .into_iter()
        .filter(|g| g.len() > 1)
        .collect();
    let items: Vec<String> = dup
        .iter()
        .map(|g| {
            let r = g[0];
            let (split, id, site) = (f.split[r].as_str(), &f.id_code[r], f.site[r]);
            format!("{split} {id} site {site} (rows {g:?})")
        })
        .collect();
    Err(EnsembleError::input(
        &f.path,
        format!(
            "{} (split, id_code, site) key(s) occur more than once: {}",
            dup.len(),
            listing(&items)
        ),
    ))
}

/// Test rows name test wells; validation rows labelled wells (`joined`:
/// the treatment rows with their wells).
fn check_splits(f: &PredFile, joined: &DataFrame) -> Result<()> {
    let is_test = joined.column("is_test")?.bool()?;
    let ds_test = joined.column("ds_test")?.bool()?;
    let labelled = joined.column("labelled")?.bool()?;
    let wrong_test = joined.filter(&(is_test & &!ds_test))?;
    if wrong_test.height() > 0 {
        return Err(EnsembleError::input(
            &f.path,
            format!(
                "{} test row(s) name wells of training experiments: {}; expected test experiments only",
                wrong_test.height(),
                listing(&strs(&wrong_test, "id_code")?)
            ),
        ));
    }
    let wrong_val = joined.filter(&(&!is_test & &!labelled))?;
    if wrong_val.height() > 0 {
        return Err(EnsembleError::input(
            &f.path,
            format!(
                "{} val row(s) name wells without a known label: {}; expected labelled wells (training experiments, alias targets)",
                wrong_val.height(),
                listing(&strs(&wrong_val, "id_code")?)
            ),
        ));
    }
    Ok(())
}

/// Every well with all its sites: `treated` (treatment rows in key order)
/// has runs of [`SITES`] rows per (split, well); short wells are listed in
/// file order.
fn check_sites(
    f: &PredFile,
    joined: &DataFrame,
    treated: &[usize],
    well_key: &dyn Fn(usize) -> u64,
) -> Result<()> {
    let mut short_found = false;
    let mut run = 0;
    for (k, &r) in treated.iter().enumerate() {
        run += 1;
        if treated.get(k + 1).map(|&q| well_key(q)) != Some(well_key(r)) {
            short_found |= run < SITES as usize;
            run = 0;
        }
    }
    if !short_found {
        return Ok(());
    }
    let jrow = u32s(joined, "row")?;
    let keys: Vec<u64> = jrow.iter().map(|&r| well_key(r as usize)).collect();
    let by_key = DataFrame::new(keys.len(), vec![Column::new("key".into(), keys)])?;
    let short: Vec<Vec<usize>> = groups(&by_key, &["key"])?
        .into_iter()
        .filter(|g| g.len() < SITES as usize)
        .collect();
    let items: Vec<String> = short
        .iter()
        .map(|g| {
            let r = jrow[g[0]] as usize;
            let (split, id, site) = (f.split[r].as_str(), &f.id_code[r], f.site[r]);
            format!("{split} {id} (has site {site})")
        })
        .collect();
    Err(EnsembleError::input(
        &f.path,
        format!(
            "{} well(s) miss a site (expected sites 1..={SITES} each): {}",
            short.len(),
            listing(&items)
        ),
    ))
}

/// Every test treatment well of the dataset present, and every labelled
/// treatment well of each validation experiment (polars anti and semi
/// joins).
fn check_present(ds: &DataFrame, f: &PredFile, joined: &DataFrame) -> Result<()> {
    let is_test = joined.column("is_test")?.bool()?;
    let anti = || JoinArgs::new(JoinType::Anti);
    let test_rows = joined.filter(is_test)?;
    let treatment = ds.column("treatment")?.bool()?;
    let ds_test_wells = ds.filter(&(ds.column("ds_test")?.bool()? & treatment))?;
    let missing = ds_test_wells.join(&test_rows, ["well"], ["well"], anti(), None)?;
    if missing.height() > 0 {
        return Err(EnsembleError::input(
            &f.path,
            format!(
                "{} test treatment well(s) of the dataset have no rows: {}; expected every well of test.csv",
                missing.height(),
                listing(&strs(&missing, "id_code")?)
            ),
        ));
    }
    let val_rows = joined.filter(&!is_test)?;
    let val_exps =
        val_rows
            .select(["experiment"])?
            .unique_stable(None, UniqueKeepStrategy::First, None)?;
    let ds_lab = ds.filter(&(ds.column("labelled")?.bool()? & treatment))?;
    let semi = JoinArgs::new(JoinType::Semi);
    let ds_val = ds_lab.join(&val_exps, ["experiment"], ["experiment"], semi, None)?;
    let missing = ds_val.join(&val_rows, ["well"], ["well"], anti(), None)?;
    if missing.height() > 0 {
        return Err(EnsembleError::input(
            &f.path,
            format!(
                "{} labelled treatment well(s) of the validation experiments have no val rows: {}; expected whole experiments",
                missing.height(),
                listing(&strs(&missing, "id_code")?)
            ),
        ));
    }
    Ok(())
}

/// Checks a file against the dataset and groups its rows by well.
pub fn check_rows(ds: &DataFrame, f: &PredFile) -> Result<FileRows> {
    let all = join_wells(ds, f)?;
    // Every row's (split, well, site) as one key (well indices stand for
    // id_codes), and the rows in key order: duplicates are neighbours, and
    // each well's sites follow each other.
    let keys = packed(&all, &[("site", 8), ("well", 32), ("is_test", 1)])?;
    let order: Vec<usize> = Column::new("key".into(), keys.as_slice())
        .arg_sort(SortOptions::default())
        .into_no_null_iter()
        .map(|i| i as usize)
        .collect();
    check_duplicates(f, &keys, &order)?;
    let treatment: Vec<bool> = all
        .column("treatment")?
        .bool()?
        .iter()
        .map(|t| t.unwrap_or(false))
        .collect();
    let joined = all.filter(all.column("treatment")?.bool()?)?;
    drop(all);
    check_splits(f, &joined)?;
    let well_key = |r: usize| keys[r] >> 8;
    let treated: Vec<usize> = order.iter().copied().filter(|&r| treatment[r]).collect();
    check_sites(f, &joined, &treated, &well_key)?;
    check_present(ds, f, &joined)?;

    // Rows by well (ascending), sites in order: the key order.
    let mut out = FileRows {
        control_rows: treatment.iter().filter(|&&t| !t).count(),
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
