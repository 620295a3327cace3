//! Where the ensemble writes, checked before any work with the one output
//! check of [`rcic_cli::output`]: `-o` is a file path, not below a file,
//! and neither it nor the report files written beside it (without
//! `--store`) is one of the run's inputs (a prediction file, `--truth`, the
//! dataset's CSVs). The files themselves are published together with
//! [`rcic_cli::publish::Staged`].

use std::path::{Path, PathBuf};

use rcic_cli::output::{check_output, Input, Output};

use crate::error::Result;
use crate::options::Options;
use crate::report;

/// The competition layout's CSVs (the public release has metadata.csv).
pub const DATA_CSVS: [&str; 4] = [
    "train.csv",
    "test.csv",
    "train_controls.csv",
    "test_controls.csv",
];

/// The report files written beside the submission CSV (without `--store`).
pub const REPORTS: [&str; 2] = [report::JSON, report::MARKDOWN];

/// The tables the ensemble reads from `--data`: the layout's (the
/// competition's CSVs or the public release's metadata.csv); the
/// competition's when the folder is neither, so that the missing file is
/// named.
pub fn data_tables(data: &Path) -> Vec<PathBuf> {
    rcic_core::DataLayout::detect(data)
        .map(|l| l.table_files(data))
        .unwrap_or_else(|_| DATA_CSVS.iter().map(|n| data.join(n)).collect())
}

/// Checks `-o out` before any work; `reports_beside`: whether the report
/// files are written beside it.
pub fn check_submission_path(out: &Path, opts: &Options, reports_beside: bool) -> Result<()> {
    let csvs = data_tables(&opts.data);
    let mut inputs: Vec<Input> = opts.files.iter().map(|f| Input::File("PRED", f)).collect();
    inputs.extend(opts.truth.iter().map(|t| Input::File("--truth", t)));
    inputs.extend(csvs.iter().map(|c| Input::File("--data", c)));
    let siblings: &[&str] = if reports_beside { &REPORTS } else { &[] };
    let output = Output {
        siblings,
        ..Output::new("-o", out)
    };
    check_output(&output, &inputs)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn options(data: &Path, files: &[&Path], truth: Option<&Path>) -> Options {
        Options {
            data: data.to_path_buf(),
            files: files.iter().map(|f| f.to_path_buf()).collect(),
            weights: None,
            truth: truth.map(Path::to_path_buf),
            aliases: Default::default(),
            temperature: None,
            sinkhorn: None,
            use_alias_labels: false,
        }
    }

    #[test]
    fn outputs_are_checked_against_folders_files_and_inputs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.parquet");
        fs::write(&p, b"x").unwrap();
        let data = d.path().join("data");
        let opts = options(&data, &[&p], None);
        let e = |out: &Path, opts: &Options| {
            check_submission_path(out, opts, true)
                .unwrap_err()
                .to_string()
        };
        let msg = e(d.path(), &opts);
        assert!(msg.contains("is a folder"), "{msg}");
        let msg = e(&p.join("sub.csv"), &opts);
        assert!(
            msg.contains(&format!("{} is not a directory", p.display())),
            "{msg}"
        );
        let alias = d.path().join("x/../p.parquet");
        let msg = e(&alias, &opts);
        assert!(
            msg.starts_with("-o ") && msg.contains("the input PRED"),
            "{msg}"
        );
        let msg = e(&data.join("test.csv"), &opts);
        assert!(msg.contains("the input --data"), "{msg}");
        let r = d.path().join("report.json");
        fs::write(&r, b"{}").unwrap();
        let with_truth = options(&data, &[&p], Some(&r));
        let msg = e(&d.path().join("sub.csv"), &with_truth);
        assert!(
            msg.contains("(its report.json, written beside it) is the input --truth"),
            "{msg}"
        );
        check_submission_path(&d.path().join("sub.csv"), &with_truth, false).unwrap();
        let msg = e(&d.path().join("report.json"), &opts);
        assert!(msg.contains("report.json is written beside it"), "{msg}");
        fs::create_dir(d.path().join("report.md")).unwrap();
        let msg = e(&d.path().join("sub.csv"), &opts);
        assert!(
            msg.contains("(its report.md, written beside it) is a folder"),
            "{msg}"
        );
        check_submission_path(&d.path().join("new/sub.csv"), &opts, true).unwrap();
    }
}
