//! The ensemble section: the run facts of `report.json`, accuracy after each
//! step as a chart and a table (validation, and test when the ensemble had a
//! truth file), accuracy per experiment after the assignment and the
//! plate-group margins as bar charts, the prediction files and the
//! plate-group choices.

use std::fmt::Write;

use crate::bars::{Bar, BarChart};
use crate::chart::{LineChart, Series, XAxis, PALETTE};
use crate::ensemble::{EnsembleReport, GroupStatus, Score};
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

/// Accuracy per experiment after the assignment (the last such step):
/// validation bars, then test (truth) bars.
pub fn experiment_chart(r: &EnsembleReport) -> BarChart {
    let last = r.steps.iter().rev().find(|s| s.name == "assignment");
    let mut bars = Vec::new();
    let mut legend = Vec::new();
    let splits = last.map(|s| {
        [
            ("validation", Some(&s.val)),
            ("test (truth)", s.test.as_ref()),
        ]
    });
    for (k, (name, score)) in splits.into_iter().flatten().enumerate() {
        let Some(score) = score.filter(|s| !s.per_experiment.is_empty()) else {
            continue;
        };
        legend.push((name.to_string(), PALETTE[k].to_string()));
        bars.extend(score.per_experiment.iter().map(|(e, a)| Bar {
            name: e.clone(),
            value: *a,
            colour: PALETTE[k].into(),
            tip: format!("{e} ({name}): {a:.5}"),
        }));
    }
    BarChart {
        title: "Accuracy per experiment after assignment".into(),
        y_label: "accuracy".into(),
        bars,
        legend,
    }
}

/// The plate-group margin of every experiment, coloured by whether the
/// choice matches the known assignment (or the truth's, for a prediction).
pub fn margin_chart(r: &EnsembleReport) -> BarChart {
    let colour = |s: GroupStatus| match s {
        GroupStatus::Correct => PALETTE[2],
        GroupStatus::Incorrect => PALETTE[3],
        GroupStatus::Prediction => PALETTE[7],
    };
    let bars = r
        .group_assignment
        .iter()
        .map(|g| {
            let st = g
                .truth_status
                .filter(|_| g.status == GroupStatus::Prediction)
                .unwrap_or(g.status);
            let split = if g.split == "val" { "v" } else { "t" };
            Bar {
                name: format!("{split}:{}", g.experiment),
                value: g.margin,
                colour: colour(st).into(),
                tip: format!(
                    "{} {}: margin {:.5}, {}",
                    g.split,
                    g.experiment,
                    g.margin,
                    st.name()
                ),
            }
        })
        .collect();
    BarChart {
        title: "Plate-group assignment margin".into(),
        y_label: "margin".into(),
        bars,
        legend: [
            GroupStatus::Correct,
            GroupStatus::Incorrect,
            GroupStatus::Prediction,
        ]
        .map(|s| (s.name().to_string(), colour(s).to_string()))
        .to_vec(),
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
    let _ = write!(s, "<div class=\"charts\">{}", chart(r).svg());
    if r.steps.iter().any(|s| s.name == "assignment") {
        s.push_str(&experiment_chart(r).svg());
    }
    if !r.group_assignment.is_empty() {
        s.push_str(&margin_chart(r).svg());
    }
    s.push_str("</div>");
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
                    g.status.name().to_string(),
                    g.truth_status.map_or("-", GroupStatus::name).to_string(),
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
        assert_eq!(html.matches("<svg").count(), 3);
        let e = experiment_chart(&r);
        assert_eq!(
            e.bars.len(),
            1,
            "validation only: the test score has no experiments"
        );
        assert_eq!(
            (e.bars[0].name.as_str(), e.bars[0].value),
            ("HEPG2-02", 0.75)
        );
        let m = margin_chart(&r);
        assert_eq!(m.bars[0].name, "v:HEPG2-02");
        assert_eq!(m.bars[0].colour, PALETTE[3], "incorrect");
    }
}
