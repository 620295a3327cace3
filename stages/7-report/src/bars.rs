//! Bar charts as inline SVG, drawn by hand like [`crate::chart`]'s line
//! charts: one bar per named value (per-experiment accuracy, plate-group
//! margins), each with its own colour and a `<title>` tooltip, names under
//! the bars read bottom-up, round ticks on the y axis from 0, a legend of
//! what the colours mean.

use std::fmt::Write;

use crate::chart::nice_ticks;
use crate::page::escape;

const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = W - 180.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = H - 104.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub name: String,
    pub value: f64,
    pub colour: String,
    /// The bar's tooltip.
    pub tip: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub title: String,
    pub y_label: String,
    pub bars: Vec<Bar>,
    /// (meaning, colour) of each colour used.
    pub legend: Vec<(String, String)>,
}

impl BarChart {
    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11" role="img"><title>{t}</title><rect width="{W}" height="{H}" fill="white"/><text x="{LEFT}" y="20" font-size="14" font-weight="bold">{t}</text>"#,
            t = escape(&self.title)
        );
        let values: Vec<f64> = self
            .bars
            .iter()
            .map(|b| b.value)
            .filter(|v| v.is_finite())
            .collect();
        let top = values.iter().copied().fold(0.0, f64::max);
        let (_, y_hi, step) = nice_ticks(0.0, if top > 0.0 { top } else { 1.0 }, 5, 0.0);
        let sy = |v: f64| BOTTOM - v.clamp(0.0, y_hi) / y_hi * (BOTTOM - TOP);
        let decimals = if step >= 1.0 {
            0
        } else {
            (-step.log10().floor()) as usize
        };
        let mut y = 0.0;
        while y <= y_hi + step * 1e-6 {
            let py = sy(y);
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{RIGHT}" y2="{py:.1}" stroke="#e1e1e1"/><text x="{:.1}" y="{:.1}" text-anchor="end">{y:.decimals$}</text>"##,
                LEFT - 6.0,
                py + 4.0
            );
            y += step;
        }
        let slot = (RIGHT - LEFT) / self.bars.len().max(1) as f64;
        for (k, b) in self.bars.iter().enumerate() {
            let x = LEFT + slot * k as f64;
            let v = if b.value.is_finite() { b.value } else { 0.0 };
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}</title></rect>"#,
                x + slot / 6.0,
                sy(v),
                (slot * 2.0 / 3.0).max(1.0),
                BOTTOM - sy(v),
                escape(&b.colour),
                escape(&b.tip)
            );
            let _ = write!(
                s,
                r#"<text transform="translate({:.1} {:.1}) rotate(-90)" text-anchor="end">{}</text>"#,
                x + slot / 2.0 + 4.0,
                BOTTOM + 6.0,
                escape(&b.name)
            );
        }
        let _ = write!(
            s,
            r##"<polyline points="{LEFT},{TOP} {LEFT},{BOTTOM} {RIGHT},{BOTTOM}" fill="none" stroke="#333"/><text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
            (TOP + BOTTOM) / 2.0,
            escape(&self.y_label)
        );
        for (k, (name, colour)) in self.legend.iter().enumerate() {
            let y = TOP + 8.0 + 18.0 * k as f64;
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                RIGHT + 16.0,
                y - 6.0,
                escape(colour),
                RIGHT + 34.0,
                y + 4.0,
                escape(name)
            );
        }
        if self.bars.is_empty() {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">no data</text>"#,
                (LEFT + RIGHT) / 2.0,
                (TOP + BOTTOM) / 2.0
            );
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_names_tooltips_and_legend() {
        let c = BarChart {
            title: "Margins <x>".into(),
            y_label: "margin".into(),
            bars: vec![
                Bar {
                    name: "v:HEPG2-01".into(),
                    value: 0.5,
                    colour: "#2ca02c".into(),
                    tip: "HEPG2-01: 0.5".into(),
                },
                Bar {
                    name: "t:U2OS-04".into(),
                    value: 1.5,
                    colour: "#d62728".into(),
                    tip: "U2OS-04: 1.5".into(),
                },
            ],
            legend: vec![("correct".into(), "#2ca02c".into())],
        };
        let svg = c.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<title>").count(), 3, "title and 2 tooltips");
        assert!(svg.contains("Margins &lt;x&gt;"));
        assert!(svg.contains("v:HEPG2-01") && svg.contains("t:U2OS-04"));
        assert!(svg.contains(">correct</text>"));
        assert!(!svg.contains("no data"));
        let empty = BarChart {
            bars: Vec::new(),
            ..c
        };
        assert!(empty.svg().contains("no data"));
    }
}
