//! The report beside the submission: `report.json`, every score as the
//! shared types of [`rcic_core::ensemble_report`] (the report stage draws
//! its charts from it), and `report.md`, the same as tables to read as
//! text.

use std::fmt::Write;

use rcic_core::ensemble_report::{EnsembleReport as Report, Score};

pub const JSON: &str = "report.json";
pub const MARKDOWN: &str = "report.md";

pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serialises");
    s.push('\n');
    s
}

fn acc(s: &Score) -> String {
    s.accuracy
        .map(|a| format!("{a:.5} ({}/{})", s.correct, s.wells))
        .unwrap_or_else(|| "n/a".into())
}

fn opt(s: &Option<Score>) -> String {
    s.as_ref().map(acc).unwrap_or_else(|| "-".into())
}

pub fn markdown(report: &Report, submission_name: &str) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# Ensemble report\n");
    let _ = writeln!(
        m,
        "`{}` on `{}`: {} prediction file(s), {} treatment classes of {}, {} plate groups; submission `{}` with {} rows. Took {:.2} s.\n",
        report.tool,
        report.data,
        report.files.len(),
        report.treatments,
        report.classes,
        report.plate_groups,
        submission_name,
        report.submission_rows,
        report.seconds
    );
    let _ = writeln!(
        m,
        "## Accuracy by step\n\n| step | validation | test (truth) |\n|---|---|---|"
    );
    for s in &report.steps {
        let _ = writeln!(m, "| {} | {} | {} |", s.label, acc(&s.val), opt(&s.test));
    }
    let _ = writeln!(m, "\n## Files\n\n| file | weight | classes | val wells | test wells | validation | test (truth) |\n|---|---|---|---|---|---|---|");
    for f in &report.files {
        let _ = writeln!(
            m,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            f.path,
            f.weight,
            f.classes,
            f.val_wells,
            f.test_wells,
            acc(&f.val),
            opt(&f.test)
        );
    }
    let _ = writeln!(m, "\n## Plate groups\n\n| split | experiment | plates -> groups | score | margin | known | truth | wells |\n|---|---|---|---|---|---|---|---|");
    for g in &report.group_assignment {
        let map: Vec<String> = g
            .plates
            .iter()
            .zip(&g.permutation)
            .map(|(p, q)| format!("{p}->{q}"))
            .collect();
        let _ = writeln!(
            m,
            "| {} | {} | {} | {:.5} | {:.5} | {} | {} | {} |",
            g.split,
            g.experiment,
            map.join(" "),
            g.score,
            g.margin,
            g.status.as_str(),
            g.truth_status.map(|s| s.as_str()).unwrap_or("-"),
            g.wells
        );
    }
    if let Some(last) = report.steps.iter().find(|s| s.name == "assignment") {
        let _ = writeln!(m, "\n## Per experiment after assignment\n\n| experiment | validation | test (truth) |\n|---|---|---|");
        let mut names: Vec<&String> = last.val.per_experiment.keys().collect();
        if let Some(t) = &last.test {
            names.extend(t.per_experiment.keys());
        }
        names.sort();
        names.dedup();
        for e in names {
            let v = last
                .val
                .per_experiment
                .get(e)
                .map(|a| format!("{a:.5}"))
                .unwrap_or_else(|| "-".into());
            let t = last
                .test
                .as_ref()
                .and_then(|t| t.per_experiment.get(e))
                .map(|a| format!("{a:.5}"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(m, "| {e} | {v} | {t} |");
        }
    }
    let l = &report.lsa;
    let _ = writeln!(
        m,
        "\n## Linear sum assignment\n\n{} plates, {:.3} s wall on {} threads (sum of plates {:.3} s, slowest {:.4} s).",
        l.plates, l.wall_seconds, l.threads, l.plate_seconds, l.max_plate_seconds
    );
    m
}
