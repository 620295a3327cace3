//! Line charts as inline SVG, drawn by hand so the page needs no script or
//! library: axes with round ticks, one polyline with point markers per
//! series (a single point still shows), a legend, and shaded bands for
//! epoch ranges (pseudo-labelling). Points carry `<title>` tooltips.

use std::fmt::Write;

use crate::page::escape;

/// Matplotlib's tab10, as the ensemble's figure.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = W - 180.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = H - 44.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub colour: String,
    /// (x, y); non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    /// Numbers; `integer` keeps ticks on whole numbers (epochs).
    Numeric { label: String, integer: bool },
    /// Point i of a series sits at category i.
    Categories(Vec<String>),
}

/// A shaded x range `from..=to`; `label` is its tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub x: XAxis,
    pub y_label: String,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
    /// The legend entry of the shaded bands (shown when there are bands).
    pub band_legend: String,
    /// Start the y axis at 0 (accuracies) instead of near the data.
    pub y_from_zero: bool,
}

/// Round ticks covering `lo..=hi`: (first, last, step), about `target`
/// intervals; steps are 1, 2 or 5 times a power of ten, at least `min_step`.
pub fn nice_ticks(lo: f64, hi: f64, target: usize, min_step: f64) -> (f64, f64, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        let pad = (lo.abs() * 0.1).max(0.5 * min_step.max(1e-9)).max(1e-6);
        (lo - pad, hi + pad)
    };
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let step = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    } * mag;
    let step = step.max(min_step);
    // The tolerance keeps a bound that is a multiple of the step in place.
    let first = (lo / step + 1e-9).floor() * step;
    let last = (hi / step - 1e-9).ceil() * step;
    (first, last, step)
}

/// Decimals that show a tick step exactly enough.
fn decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    }
}

fn text(s: &mut String, x: f64, y: f64, anchor: &str, extra: &str, t: &str) {
    let _ = write!(
        s,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}"{extra}>{}</text>"#,
        escape(t)
    );
}

/// The chart's scales: data ranges and tick steps on both axes.
struct Scale {
    x_lo: f64,
    x_hi: f64,
    x_step: f64,
    categorical: bool,
    y_lo: f64,
    y_hi: f64,
    y_step: f64,
}

impl Scale {
    fn sx(&self, x: f64) -> f64 {
        LEFT + (x - self.x_lo) / (self.x_hi - self.x_lo) * (RIGHT - LEFT)
    }

    fn sy(&self, y: f64) -> f64 {
        BOTTOM - (y - self.y_lo) / (self.y_hi - self.y_lo) * (BOTTOM - TOP)
    }
}

impl LineChart {
    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }

    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11" role="img"><title>{}</title><rect width="{W}" height="{H}" fill="white"/>"#,
            escape(&self.title)
        );
        text(
            &mut s,
            LEFT,
            20.0,
            "start",
            r#" font-size="14" font-weight="bold""#,
            &self.title,
        );
        let pts: Vec<(f64, f64)> = self.points().collect();
        if pts.is_empty() {
            let _ = write!(
                s,
                r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
                RIGHT - LEFT,
                BOTTOM - TOP
            );
            text(
                &mut s,
                (LEFT + RIGHT) / 2.0,
                (TOP + BOTTOM) / 2.0,
                "middle",
                "",
                "no data",
            );
            s.push_str("</svg>");
            return s;
        }
        let sc = self.scale(&pts);
        self.draw_bands(&mut s, &sc);
        self.draw_axes(&mut s, &sc);
        self.draw_series(&mut s, &sc);
        s.push_str("</svg>");
        s
    }

    /// X and Y scales of the (non-empty) finite points.
    fn scale(&self, pts: &[(f64, f64)]) -> Scale {
        // X scale.
        let (x_lo, x_hi, x_step, categorical) = match &self.x {
            XAxis::Categories(c) => (-0.5, c.len().max(1) as f64 - 0.5, 1.0, true),
            XAxis::Numeric { integer, .. } => {
                let xs = pts
                    .iter()
                    .map(|p| p.0)
                    .chain(self.bands.iter().flat_map(|b| [b.from, b.to]));
                let lo = xs.clone().fold(f64::INFINITY, f64::min);
                let hi = xs.fold(f64::NEG_INFINITY, f64::max);
                let (a, b, step) = nice_ticks(lo, hi, 8, if *integer { 1.0 } else { 0.0 });
                if *integer {
                    // Half an epoch of room on both sides; ticks inside.
                    (lo - 0.5, hi + 0.5, step, false)
                } else {
                    (a, b, step, false)
                }
            }
        };
        let x_lo = if x_hi > x_lo { x_lo } else { x_lo - 0.5 };
        let x_hi = if x_hi > x_lo { x_hi } else { x_hi + 0.5 };

        // Y scale.
        let y_min = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let y_max = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let y_min = if self.y_from_zero {
            y_min.min(0.0)
        } else {
            y_min
        };
        let (y_lo, y_hi, y_step) = nice_ticks(y_min, y_max, 5, 0.0);
        Scale {
            x_lo,
            x_hi,
            x_step,
            categorical,
            y_lo,
            y_hi,
            y_step,
        }
    }

    /// Bands under everything.
    fn draw_bands(&self, s: &mut String, sc: &Scale) {
        for b in &self.bands {
            let (x0, x1) = if sc.categorical {
                (sc.sx(b.from - 0.5), sc.sx(b.to + 0.5))
            } else {
                (sc.sx(b.from - 0.5).max(LEFT), sc.sx(b.to + 0.5).min(RIGHT))
            };
            let _ = write!(
                s,
                r##"<rect x="{x0:.1}" y="{TOP}" width="{:.1}" height="{}" fill="#f2c14e" fill-opacity="0.25"><title>{}</title></rect>"##,
                (x1 - x0).max(1.0),
                BOTTOM - TOP,
                escape(&b.label)
            );
        }
    }

    /// Grid, ticks, labels, the axes' lines and the y label.
    fn draw_axes(&self, s: &mut String, sc: &Scale) {
        let (y_lo, y_hi, y_step) = (sc.y_lo, sc.y_hi, sc.y_step);
        let yd = decimals(y_step);
        let mut y = y_lo;
        while y <= y_hi + y_step * 1e-6 {
            let py = sc.sy(y);
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{RIGHT}" y2="{py:.1}" stroke="#e1e1e1"/>"##
            );
            text(
                s,
                LEFT - 6.0,
                py + 4.0,
                "end",
                "",
                &format!("{:.yd$}", y + 0.0),
            );
            y += y_step;
        }
        match &self.x {
            XAxis::Categories(c) => {
                for (i, name) in c.iter().enumerate() {
                    text(s, sc.sx(i as f64), BOTTOM + 16.0, "middle", "", name);
                }
            }
            XAxis::Numeric { label, .. } => {
                let (x_lo, x_hi, x_step) = (sc.x_lo, sc.x_hi, sc.x_step);
                let xd = decimals(x_step);
                let mut x = (x_lo / x_step).ceil() * x_step;
                while x <= x_hi + x_step * 1e-6 {
                    let px = sc.sx(x);
                    let _ = write!(
                        s,
                        r##"<line x1="{px:.1}" y1="{BOTTOM}" x2="{px:.1}" y2="{:.1}" stroke="#333"/>"##,
                        BOTTOM + 4.0
                    );
                    // `+ 0.0` turns -0 into 0.
                    text(
                        s,
                        px,
                        BOTTOM + 16.0,
                        "middle",
                        "",
                        &format!("{:.xd$}", x + 0.0),
                    );
                    x += x_step;
                }
                text(s, (LEFT + RIGHT) / 2.0, BOTTOM + 34.0, "middle", "", label);
            }
        }
        let _ = write!(
            s,
            r##"<polyline points="{LEFT},{TOP} {LEFT},{BOTTOM} {RIGHT},{BOTTOM}" fill="none" stroke="#333"/>"##
        );
        let _ = write!(
            s,
            r#"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            (TOP + BOTTOM) / 2.0,
            escape(&self.y_label)
        );
    }

    /// Series and legend, then the bands' legend entry.
    fn draw_series(&self, s: &mut String, sc: &Scale) {
        for (k, series) in self.series.iter().enumerate() {
            let colour = escape(&series.colour);
            let p: Vec<(f64, f64)> = series
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            if p.len() > 1 {
                let coords: Vec<String> = p
                    .iter()
                    .map(|&(x, y)| format!("{:.1},{:.1}", sc.sx(x), sc.sy(y)))
                    .collect();
                let _ = write!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                    coords.join(" ")
                );
            }
            for &(x, y) in &p {
                let at = match &self.x {
                    XAxis::Categories(c) => c.get(x as usize).cloned().unwrap_or_default(),
                    XAxis::Numeric { label, .. } => format!("{label} {x}"),
                };
                let _ = write!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: {}, {:.5}</title></circle>"#,
                    sc.sx(x),
                    sc.sy(y),
                    escape(&series.name),
                    escape(&at),
                    y
                );
            }
            let ly = TOP + 8.0 + 16.0 * k as f64;
            let _ = write!(
                s,
                r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="3"/>"#,
                RIGHT + 12.0,
                RIGHT + 32.0
            );
            let name: String = if series.name.chars().count() > 24 {
                series.name.chars().take(23).chain(['…']).collect()
            } else {
                series.name.clone()
            };
            text(s, RIGHT + 38.0, ly + 4.0, "start", "", &name);
        }
        if !self.bands.is_empty() {
            let ly = TOP + 8.0 + 16.0 * self.series.len() as f64;
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="20" height="10" fill="#f2c14e" fill-opacity="0.25"/>"##,
                RIGHT + 12.0,
                ly - 5.0
            );
            text(s, RIGHT + 38.0, ly + 4.0, "start", "", &self.band_legend);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(f64, f64)>) -> LineChart {
        LineChart {
            title: "Val <acc>".into(),
            x: XAxis::Numeric {
                label: "epoch".into(),
                integer: true,
            },
            y_label: "accuracy".into(),
            series: vec![Series {
                name: "seed 0 & 1".into(),
                colour: PALETTE[0].into(),
                points,
            }],
            bands: vec![Band {
                from: 2.0,
                to: 3.0,
                label: "epochs 2-3".into(),
            }],
            band_legend: "pseudo-labels".into(),
            y_from_zero: true,
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let close = |got: (f64, f64, f64), want: (f64, f64, f64)| {
            assert!(
                (got.0 - want.0).abs() < 1e-12
                    && (got.1 - want.1).abs() < 1e-12
                    && (got.2 - want.2).abs() < 1e-12,
                "{got:?} != {want:?}"
            )
        };
        close(nice_ticks(0.0, 1.0, 5, 0.0), (0.0, 1.0, 0.2));
        close(nice_ticks(0.0, 0.031, 5, 0.0), (0.0, 0.04, 0.01));
        close(nice_ticks(4.93, 5.21, 5, 0.0), (4.9, 5.3, 0.1));
        close(nice_ticks(0.0, 11.0, 8, 1.0), (0.0, 12.0, 2.0));
        assert_eq!(nice_ticks(0.0, 3.0, 8, 1.0).2, 1.0);
        let (a, b, _) = nice_ticks(2.0, 2.0, 5, 0.0);
        assert!(a < 2.0 && b > 2.0);
        assert_eq!(decimals(0.005), 3);
        assert_eq!(decimals(2.0), 0);
    }

    #[test]
    fn draws_series_points_bands_and_escapes_text() {
        let svg = chart(vec![(0.0, 0.1), (1.0, 0.2), (2.0, f64::NAN), (3.0, 0.4)]).svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 3, "NaN skipped");
        assert_eq!(
            svg.matches(r##"stroke="#1f77b4" stroke-width="2""##)
                .count(),
            1
        );
        assert!(svg.contains("Val &lt;acc&gt;") && svg.contains("seed 0 &amp; 1"));
        assert!(svg.contains("pseudo-labels") && svg.contains("fill-opacity"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn one_point_and_no_points_still_render() {
        let svg = chart(vec![(0.0, 0.5)]).svg();
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(
            !svg.contains(r#"stroke-width="2""#),
            "no line for one point"
        );
        let svg = chart(vec![]).svg();
        assert!(svg.contains("no data"));
    }

    #[test]
    fn categories_label_the_x_axis() {
        let mut c = chart(vec![(0.0, 0.1), (1.0, 0.3)]);
        c.x = XAxis::Categories(vec!["average".into(), "assignment".into()]);
        c.bands.clear();
        let svg = c.svg();
        assert!(svg.contains(">average</text>") && svg.contains(">assignment</text>"));
        assert!(svg.contains("assignment, 0.30000"));
    }
}
