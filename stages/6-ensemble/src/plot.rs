//! The report's figure, one PNG of three panels: accuracy after each step
//! (validation, and test when a truth file is given), per-experiment accuracy
//! after the assignment, and the plate-group assignment margin of every
//! experiment coloured by correctness. Shapes are drawn with plotters'
//! in-memory bitmap backend; text with the public-domain 8x8 font of
//! `font8x8` (plotters without a font engine draws no text), so no system
//! font is needed; the PNG is encoded with `image`.

use plotters::prelude::*;

use crate::error::{EnsembleError, Result};
use crate::groups::Status;
use crate::pipeline::Report;

const W: u32 = 1200;
const H: u32 = 1140;
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const GRAY: RGBColor = RGBColor(150, 150, 150);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// A text to draw after the shapes: (x, y, text, scale, colour, vertical).
type Label = (i32, i32, String, i32, RGBColor, bool);

/// A panel's frame in pixels and its y range.
struct Panel {
    x0: i32,
    x1: i32,
    y0: i32,
    y1: i32,
    lo: f64,
    hi: f64,
}

impl Panel {
    fn y(&self, v: f64) -> i32 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        self.y1 - (t * (self.y1 - self.y0) as f64).round() as i32
    }
}

fn plot_err<E: std::fmt::Debug>(e: E) -> EnsembleError {
    EnsembleError::Plot(format!("{e:?}"))
}

/// Draws the y axis with 5 ticks and grid lines; returns labels.
fn axes<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    p: &Panel,
    title: &str,
    labels: &mut Vec<Label>,
    fmt: &dyn Fn(f64) -> String,
) -> Result<()> {
    for k in 0..=4 {
        let v = p.lo + (p.hi - p.lo) * k as f64 / 4.0;
        let y = p.y(v);
        root.draw(&PathElement::new(vec![(p.x0, y), (p.x1, y)], GRID))
            .map_err(plot_err)?;
        let s = fmt(v);
        labels.push((p.x0 - 6 - 8 * s.len() as i32, y - 4, s, 1, BLACK, false));
    }
    root.draw(&PathElement::new(
        vec![(p.x0, p.y0), (p.x0, p.y1), (p.x1, p.y1)],
        BLACK,
    ))
    .map_err(plot_err)?;
    labels.push((p.x0, p.y0 - 26, title.to_string(), 2, BLACK, false));
    Ok(())
}

/// A y range around `vals` that includes `hi_at_least`.
fn range(vals: &[f64], hi_at_least: f64) -> (f64, f64) {
    let lo = vals.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().cloned().fold(hi_at_least, f64::max);
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(1e-3);
    ((lo - pad).max(0.0).min(hi - 1e-3), hi)
}

/// Renders the figure as PNG bytes.
pub fn render(report: &Report) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; (W * H * 3) as usize];
    let mut labels: Vec<Label> = Vec::new();
    {
        let root = BitMapBackend::with_buffer(&mut buf, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;

        // Panel 1: accuracy by step.
        let steps = &report.steps;
        let val: Vec<Option<f64>> = steps.iter().map(|s| s.val.accuracy).collect();
        let test: Vec<Option<f64>> = steps
            .iter()
            .map(|s| s.test.as_ref().and_then(|t| t.accuracy))
            .collect();
        let all: Vec<f64> = val.iter().chain(&test).flatten().copied().collect();
        let (lo, hi) = range(&all, 1.0);
        let p = Panel {
            x0: 90,
            x1: W as i32 - 40,
            y0: 50,
            y1: 300,
            lo,
            hi,
        };
        axes(&root, &p, "Accuracy by step", &mut labels, &|v| {
            format!("{v:.3}")
        })?;
        let n = steps.len().max(1) as i32;
        let xs: Vec<i32> = (0..n)
            .map(|i| p.x0 + (p.x1 - p.x0) * (2 * i + 1) / (2 * n))
            .collect();
        for (series, colour, name, dy) in [
            (&val, BLUE, "validation", 0),
            (&test, ORANGE, "test (truth)", 14),
        ] {
            let pts: Vec<(i32, i32)> = series
                .iter()
                .zip(&xs)
                .filter_map(|(v, &x)| v.map(|v| (x, p.y(v))))
                .collect();
            if pts.is_empty() {
                continue;
            }
            root.draw(&PathElement::new(pts.clone(), colour.stroke_width(2)))
                .map_err(plot_err)?;
            for (k, &(x, y)) in pts.iter().enumerate() {
                root.draw(&Circle::new((x, y), 4, colour.filled()))
                    .map_err(plot_err)?;
                let v = series.iter().flatten().nth(k).copied().unwrap_or(0.0);
                labels.push((x + 6, y - 12 - dy, format!("{v:.4}"), 1, colour, false));
            }
            labels.push((
                p.x1 - 130,
                p.y0 + 8 + dy,
                format!("- {name}"),
                1,
                colour,
                false,
            ));
        }
        for (s, &x) in steps.iter().zip(&xs) {
            labels.push((
                x - 4 * s.name.len() as i32,
                p.y1 + 8,
                s.name.clone(),
                1,
                BLACK,
                false,
            ));
        }

        // Panel 2: per-experiment accuracy after the assignment.
        let last = steps
            .iter()
            .rev()
            .find(|s| s.name == "assignment")
            .or(steps.last());
        let mut bars: Vec<(String, f64, RGBColor)> = Vec::new();
        if let Some(s) = last {
            bars.extend(
                s.val
                    .per_experiment
                    .iter()
                    .map(|(e, a)| (e.clone(), *a, BLUE)),
            );
            if let Some(t) = &s.test {
                bars.extend(
                    t.per_experiment
                        .iter()
                        .map(|(e, a)| (e.clone(), *a, ORANGE)),
                );
            }
        }
        let (lo, hi) = range(&bars.iter().map(|b| b.1).collect::<Vec<_>>(), 1.0);
        let p = Panel {
            x0: 90,
            x1: W as i32 - 40,
            y0: 380,
            y1: 640,
            lo,
            hi,
        };
        axes(
            &root,
            &p,
            "Accuracy per experiment after assignment",
            &mut labels,
            &|v| format!("{v:.3}"),
        )?;
        labels.push((
            p.x1 - 260,
            p.y0 - 20,
            "blue: validation, orange: test".into(),
            1,
            BLACK,
            false,
        ));
        draw_bars(&root, &p, &bars, &mut labels)?;

        // Panel 3: plate-group margins.
        let bars: Vec<(String, f64, RGBColor)> = report
            .group_assignment
            .iter()
            .map(|g| {
                let st = g
                    .truth_status
                    .filter(|_| g.status == Status::Prediction)
                    .unwrap_or(g.status);
                let c = match st {
                    Status::Correct => GREEN,
                    Status::Incorrect => RED,
                    Status::Prediction => GRAY,
                };
                (
                    format!(
                        "{}:{}",
                        if g.split == "val" { "v" } else { "t" },
                        g.experiment
                    ),
                    g.margin,
                    c,
                )
            })
            .collect();
        let hi = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-3) * 1.05;
        let p = Panel {
            x0: 90,
            x1: W as i32 - 40,
            y0: 770,
            y1: 1030,
            lo: 0.0,
            hi,
        };
        axes(
            &root,
            &p,
            "Plate-group assignment margin",
            &mut labels,
            &|v| format!("{v:.2}"),
        )?;
        labels.push((
            p.x1 - 340,
            p.y0 - 20,
            "green: correct, red: wrong, gray: unknown".into(),
            1,
            BLACK,
            false,
        ));
        draw_bars(&root, &p, &bars, &mut labels)?;
        root.present().map_err(plot_err)?;
    }
    for (x, y, s, scale, c, vertical) in &labels {
        text(&mut buf, *x, *y, s, *scale, *c, *vertical);
    }
    let img = image::RgbImage::from_raw(W, H, buf)
        .ok_or_else(|| EnsembleError::Plot("buffer size".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(plot_err)?;
    Ok(out.into_inner())
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    p: &Panel,
    bars: &[(String, f64, RGBColor)],
    labels: &mut Vec<Label>,
) -> Result<()> {
    let n = bars.len().max(1) as i32;
    let slot = (p.x1 - p.x0) / n;
    for (k, (name, v, c)) in bars.iter().enumerate() {
        let x = p.x0 + slot * k as i32;
        let (a, b) = (x + slot / 6, x + slot - slot / 6);
        root.draw(&Rectangle::new(
            [(a, p.y(*v)), (b.max(a + 1), p.y1)],
            c.filled(),
        ))
        .map_err(plot_err)?;
        // Names read bottom-up under the bar.
        labels.push((
            (a + b) / 2 - 4,
            p.y1 + 6 + 8 * name.len() as i32,
            name.clone(),
            1,
            BLACK,
            true,
        ));
    }
    Ok(())
}

/// Draws `s` into the RGB buffer with the 8x8 font, `scale` pixels per dot;
/// `vertical` rotates it to read bottom-up, starting at (x, y) going up.
fn text(buf: &mut [u8], x: i32, y: i32, s: &str, scale: i32, c: RGBColor, vertical: bool) {
    let mut put = |px: i32, py: i32| {
        if px >= 0 && py >= 0 && (px as u32) < W && (py as u32) < H {
            let o = ((py as u32 * W + px as u32) * 3) as usize;
            buf[o..o + 3].copy_from_slice(&[c.0, c.1, c.2]);
        }
    };
    for (k, ch) in s.chars().enumerate() {
        let glyph = font8x8::legacy::BASIC_LEGACY
            .get(ch as usize)
            .copied()
            .unwrap_or([0; 8]);
        for (gy, bits) in glyph.iter().enumerate() {
            for gx in 0..8 {
                if bits >> gx & 1 == 0 {
                    continue;
                }
                for sy in 0..scale {
                    for sx in 0..scale {
                        let (dx, dy) = ((k as i32 * 8 + gx) * scale + sx, gy as i32 * scale + sy);
                        if vertical {
                            put(x + dy, y - dx);
                        } else {
                            put(x + dx, y + dy);
                        }
                    }
                }
            }
        }
    }
}
