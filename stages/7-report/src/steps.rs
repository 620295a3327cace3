//! The ensemble section: the run facts of `report.json`, accuracy after each
//! step as a chart and a table (validation, and test when the ensemble had a
//! truth file), the prediction files and the plate-group choices.

use std::fmt::Write;

use crate::chart::{LineChart, Series, XAxis, PALETTE};
use crate::ensemble::{EnsembleReport, Score};
use crate::page::{escape, table};

fn score(s: &Score) -> String {
    s.accuracy
        .map(|a| format!("{a:.5} ({}/{})", s.correct, s.wells))
        .unwrap_or_else(|| "n/a".into())
}

fn opt(s: &Option<Score>) -> String {
    s.as_ref().map(score).unwrap_or_else(|| "-".into())
}

/// The accuracy-by-step chart: validation, and test (truth) when known.
pub fn chart(r: &EnsembleReport) -> LineChart {
    let val: Vec<(f64, f64)> = r
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.val.accuracy.map(|a| (i as f64, a)))
        .collect();
    let test: Vec<(f64, f64)> = r
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.test
                .as_ref()
                .and_then(|t| t.accuracy)
                .map(|a| (i as f64, a))
        })
        .collect();
    let mut series = vec![Series {
        name: "validation".into(),
        colour: PALETTE[0].into(),
        points: val,
    }];
    if !test.is_empty() {
        series.push(Series {
            name: "test (truth)".into(),
            colour: PALETTE[1].into(),
            points: test,
        });
    }
    LineChart {
        title: "Accuracy by step".into(),
        x: XAxis::Categories(r.steps.iter().map(|s| s.name.clone()).collect()),
        y_label: "accuracy".into(),
        series,
        bands: Vec::new(),
        band_legend: String::new(),
        y_from_zero: true,
    }
}

/// The section's HTML; `source` is the report.json path shown.
pub fn section(r: &EnsembleReport, source: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<p><code>{}</code>: {} on <code>{}</code>, {} prediction file(s), {} treatment classes of {}, {} plate groups, {} submission rows, {:.2} s.</p>",
        escape(source),
        escape(if r.tool.is_empty() { "rcic-ensemble" } else { &r.tool }),
        escape(&r.data),
        r.files.len(),
        r.treatments,
        r.classes,
        r.plate_groups,
        r.submission_rows,
        r.seconds
    );
    let _ = write!(s, "<div class=\"charts\">{}</div>", chart(r).svg());
    s.push_str("<h3>Accuracy by step</h3>");
    let rows: Vec<Vec<String>> = r
        .steps
        .iter()
        .map(|st| {
            vec![
                st.name.clone(),
                st.label.clone(),
                score(&st.val),
                opt(&st.test),
            ]
        })
        .collect();
    s.push_str(&table(
        &["step", "label", "validation", "test (truth)"],
        &rows,
    ));
    if !r.files.is_empty() {
        s.push_str("<h3>Prediction files</h3>");
        let rows: Vec<Vec<String>> = r
            .files
            .iter()
            .map(|f| {
                vec![
                    f.path.clone(),
                    format!("{}", f.weight),
                    f.val_wells.to_string(),
                    f.test_wells.to_string(),
                    score(&f.val),
                    opt(&f.test),
                ]
            })
            .collect();
        s.push_str(&table(
            &[
                "file",
                "weight",
                "val wells",
                "test wells",
                "validation",
                "test (truth)",
            ],
            &rows,
        ));
    }
    if !r.group_assignment.is_empty() {
        s.push_str("<h3>Plate groups</h3>");
        let rows: Vec<Vec<String>> = r
            .group_assignment
            .iter()
            .map(|g| {
                let map: Vec<String> = g
                    .plates
                    .iter()
                    .zip(&g.permutation)
                    .map(|(p, q)| format!("{p}->{q}"))
                    .collect();
                vec![
                    g.split.clone(),
                    g.experiment.clone(),
                    map.join(" "),
                    format!("{:.5}", g.score),
                    format!("{:.5}", g.margin),
                    g.status.clone(),
                    g.truth_status.clone().unwrap_or_else(|| "-".into()),
                    g.wells.to_string(),
                ]
            })
            .collect();
        s.push_str(&table(
            &[
                "split",
                "experiment",
                "plates -> groups",
                "score",
                "margin",
                "known",
                "truth",
                "wells",
            ],
            &rows,
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ensemble::SAMPLE;

    #[test]
    fn steps_chart_and_tables() {
        let r: EnsembleReport = serde_json::from_str(SAMPLE).unwrap();
        let c = chart(&r);
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.series[0].points, vec![(0.0, 0.25), (1.0, 0.75)]);
        assert_eq!(
            c.series[1].points,
            vec![(0.0, 0.5)],
            "the step without a test score is left out"
        );
        let html = section(&r, "x/report.json");
        assert!(html.contains("Score after linear sum assignment"));
        assert!(html.contains("0.75000 (72/96)") && html.contains("0.50000 (32/64)"));
        assert!(html.contains("1-&gt;0 2-&gt;1 3-&gt;2 4-&gt;3"));
        assert!(html.contains("m/pred.parquet"));
        assert_eq!(html.matches("<svg").count(), 1);
    }
}
