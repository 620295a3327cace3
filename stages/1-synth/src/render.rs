//! Drawing cells: each cell is an object with an irregular outline, a
//! nucleus with chromatin texture (Hoechst, ch1), nucleoli (Syto14, ch4), a
//! perinuclear reticular ER (ConA, ch2), cortical actin and stress fibres
//! (phalloidin, ch3), mitochondria as puncta and short tubules (MitoTracker,
//! ch5), and a Golgi cluster beside the nucleus plus the plasma membrane (WGA,
//! ch6). The result is a noiseless signal per channel; `acquire` turns it
//! into a microscope image.

use std::f32::consts::TAU;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use crate::phenotype::{apply, CellType, Params, BIO_SD, NP, P};
use crate::preset::CHANNELS;
use crate::texture::Noise;

/// Signal planes of one site, row-major, `size * size` each.
pub struct Planes {
    pub size: usize,
    pub data: [Vec<f32>; CHANNELS],
}

impl Planes {
    pub fn new(size: usize) -> Self {
        Planes {
            size,
            data: std::array::from_fn(|_| vec![0.0; size * size]),
        }
    }

    /// Adds an anisotropic Gaussian spot (sigma `sa` along angle `ang`, `sb`
    /// across it) of peak `amp` to channel `c`.
    #[allow(clippy::too_many_arguments)]
    pub fn splat(&mut self, c: usize, x: f32, y: f32, sa: f32, sb: f32, ang: f32, amp: f32) {
        let n = self.size as i32;
        let ext = 3.0 * sa.max(sb);
        let (x0, x1) = (
            ((x - ext).floor() as i32).max(0),
            ((x + ext).ceil() as i32).min(n - 1),
        );
        let (y0, y1) = (
            ((y - ext).floor() as i32).max(0),
            ((y + ext).ceil() as i32).min(n - 1),
        );
        if x0 > x1 || y0 > y1 {
            return;
        }
        let (ca, sn) = (ang.cos(), ang.sin());
        let (ia, ib) = (0.5 / (sa * sa), 0.5 / (sb * sb));
        let plane = &mut self.data[c];
        for py in y0..=y1 {
            let dy = py as f32 + 0.5 - y;
            for px in x0..=x1 {
                let dx = px as f32 + 0.5 - x;
                let u = dx * ca + dy * sn;
                let v = -dx * sn + dy * ca;
                let e = u * u * ia + v * v * ib;
                if e < 4.5 {
                    plane[(py * n + px) as usize] += amp * (-e).exp();
                }
            }
        }
    }
}

/// What one site's cells are drawn from.
pub struct SiteModel<'a> {
    pub cell_type: &'a CellType,
    /// The well's log-space phenotype (difficulty and well efficiency applied).
    pub delta: Params,
    /// Multiplies the number of cells (phenotype, batch, plate edge, site).
    pub density: f32,
    /// Multiplies cell radius (experiment batch effect).
    pub size_factor: f32,
}

/// Geometric scale: pixels at this image size per pixel at 512.
pub fn geometry_scale(size: usize) -> f32 {
    (size as f32 / 512.0).sqrt()
}

struct Cell {
    cx: f32,
    cy: f32,
    p: Params,
    mitotic: bool,
    rc: f32,
}

/// Draws the cells of one site into fresh planes.
pub fn render(size: usize, model: &SiteModel, rng: &mut ChaCha8Rng) -> Planes {
    let g = geometry_scale(size);
    let base = &model.cell_type.base;
    let mean_rc = base[P::CellRadius as usize] * model.size_factor * g;
    let well = apply(base, &model.delta);
    let area = (size * size) as f32;
    let expected = (model.density * well[P::Density as usize] * 0.7 * area
        / (std::f32::consts::PI * mean_rc * mean_rc))
        .max(0.2);
    let n = (Poisson::new(expected as f64)
        .map(|d| d.sample(rng))
        .unwrap_or(expected as f64) as usize)
        .min(4 * expected as usize + 8);
    let mut planes = Planes::new(size);
    let mut cells: Vec<Cell> = Vec::with_capacity(n);
    for _ in 0..n {
        // Per-cell knockdown efficiency and biological variation.
        let k = (1.0 + 0.3 * rng.sample::<f32, _>(StandardNormal)).clamp(0.0, 2.0);
        let mut d = [0.0f32; NP];
        for i in 0..NP {
            d[i] = k * model.delta[i] + BIO_SD[i] * rng.sample::<f32, _>(StandardNormal);
        }
        let p = apply(base, &d);
        let mitotic = rng.random::<f32>() < p[P::Mitotic as usize];
        let rc =
            p[P::CellRadius as usize] * model.size_factor * g * if mitotic { 0.65 } else { 1.0 };
        let (cx, cy) = if !cells.is_empty() && rng.random::<f32>() < model.cell_type.clustering {
            let o = &cells[rng.random_range(0..cells.len())];
            let a = rng.random::<f32>() * TAU;
            let dist = (o.rc + rc) * rng.random_range(0.75..1.0);
            (o.cx + dist * a.cos(), o.cy + dist * a.sin())
        } else {
            let s = size as f32;
            (
                rng.random_range(-0.1 * s..1.1 * s),
                rng.random_range(-0.1 * s..1.1 * s),
            )
        };
        let cell = Cell {
            cx,
            cy,
            p,
            mitotic,
            rc,
        };
        draw_cell(&mut planes, &cell, g, rng);
        cells.push(cell);
    }
    planes
}

/// A standard normal draw.
fn nrm(r: &mut ChaCha8Rng) -> f32 {
    r.sample(StandardNormal)
}

/// Width of the soft edges of cell and nucleus, in pixels.
const EDGE: f32 = 0.8;

fn draw_cell(pl: &mut Planes, cell: &Cell, g: f32, rng: &mut ChaCha8Rng) {
    let o = Outline::draw(cell, rng);
    let look = Look::draw(cell, &o, g, rng);
    paint_body(pl, &o, &look);
    // Point-like structures, placed in the cell's frame.
    if !cell.mitotic {
        draw_nucleoli(pl, &cell.p, &look, rng);
    }
    draw_mitochondria(pl, cell, &o, &look, g, rng);
    draw_golgi(pl, cell, &o, &look, rng);
}

/// A cell's outline: centre, radius, orientation, elongation and the
/// harmonics 2..4 of its irregular edge.
struct Outline {
    cx: f32,
    cy: f32,
    rc: f32,
    theta: f32,
    ct: f32,
    st: f32,
    /// Square root of the aspect ratio.
    e: f32,
    ha: [f32; 3],
    hb: [f32; 3],
    /// Bound of the harmonics' sum (at most 0.6).
    amax: f32,
}

impl Outline {
    fn draw(cell: &Cell, rng: &mut ChaCha8Rng) -> Self {
        let p = &cell.p;
        let theta = rng.random::<f32>() * TAU;
        let (ct, st) = (theta.cos(), theta.sin());
        let aspect = if cell.mitotic {
            1.05
        } else {
            p[P::CellElong as usize]
        };
        let e = aspect.sqrt();
        // Outline harmonics 2..4.
        let irr = p[P::Irregular as usize] * if cell.mitotic { 0.3 } else { 1.0 };
        let mut ha = [0.0f32; 3];
        let mut hb = [0.0f32; 3];
        for k in 0..3 {
            let s = irr / (1.0 + k as f32 * 0.5);
            ha[k] = s * nrm(rng);
            hb[k] = s * nrm(rng);
        }
        let amax = ha
            .iter()
            .zip(&hb)
            .map(|(a, b)| (a * a + b * b).sqrt())
            .sum::<f32>()
            .min(0.6);
        Outline {
            cx: cell.cx,
            cy: cell.cy,
            rc: cell.rc,
            theta,
            ct,
            st,
            e,
            ha,
            hb,
            amax,
        }
    }

    /// The outline's radius factor in the direction (cos, sin) of the
    /// cell's frame.
    fn shape(&self, cs: f32, sn: f32) -> f32 {
        let (ha, hb) = (&self.ha, &self.hb);
        let (c2, s2) = (cs * cs - sn * sn, 2.0 * cs * sn);
        let (c3, s3) = (c2 * cs - s2 * sn, s2 * cs + c2 * sn);
        let (c4, s4) = (c2 * c2 - s2 * s2, 2.0 * c2 * s2);
        (1.0 + ha[0] * c2 + hb[0] * s2 + ha[1] * c3 + hb[1] * s3 + ha[2] * c4 + hb[2] * s4).max(0.4)
    }

    /// A point of the cell's frame in image coordinates.
    fn to_image(&self, ux: f32, vy: f32) -> (f32, f32) {
        let u = ux * self.e;
        let v = vy / self.e;
        (
            self.cx + u * self.ct - v * self.st,
            self.cy + u * self.st + v * self.ct,
        )
    }
}

/// The nucleus (size, shape, orientation, position) and the cell's stain
/// intensities and textures.
struct Look {
    rn: f32,
    na: f32,
    nb: f32,
    cn: f32,
    sn_: f32,
    nx: f32,
    ny: f32,
    dna: f32,
    dtex: f32,
    rna: f32,
    er: f32,
    er_len: f32,
    etex: f32,
    cortex: f32,
    fibres: f32,
    spacing: f32,
    cf: f32,
    sf: f32,
    fphase: f32,
    wga: f32,
    mito: f32,
    noise: Noise,
    tx: f32,
    ty: f32,
    chrom_f: f32,
    er_f: f32,
    fib_f: f32,
    ring_w: f32,
}

impl Look {
    fn draw(cell: &Cell, o: &Outline, g: f32, rng: &mut ChaCha8Rng) -> Self {
        let p = &cell.p;
        let (cx, cy, rc) = (o.cx, o.cy, o.rc);
        // Nucleus.
        let rn_full = p[P::NucRatio as usize] * rc / if cell.mitotic { 0.65 } else { 1.0 };
        let rn = (rn_full * if cell.mitotic { 0.55 } else { 1.0 }).max(0.6);
        let naspect = p[P::NucElong as usize].sqrt();
        let (na, nb) = (rn * naspect, rn / naspect);
        let nth = o.theta + 0.3 * nrm(rng);
        let (cn, sn_) = (nth.cos(), nth.sin());
        let off = 0.12 * rc;
        let (nx, ny) = (
            cx + off * nrm(rng).clamp(-2.0, 2.0),
            cy + off * nrm(rng).clamp(-2.0, 2.0),
        );
        let dna = p[P::DnaInt as usize] * if cell.mitotic { 2.2 } else { 1.0 };
        let dtex = (p[P::DnaTex as usize] * if cell.mitotic { 1.8 } else { 1.0 }).min(0.95);
        let rna = p[P::RnaInt as usize];
        let er = p[P::ErInt as usize];
        let er_len = (p[P::ErSpread as usize] * rc).max(0.5);
        let etex = p[P::ErTex as usize].min(0.95);
        let cortex = p[P::ActinCortex as usize] * if cell.mitotic { 1.6 } else { 1.0 };
        let fibres = if cell.mitotic {
            0.0
        } else {
            p[P::ActinFibres as usize]
        };
        let spacing = (p[P::FibreSpacing as usize] * g).max(1.3);
        let fth = o.theta + 0.25 * nrm(rng);
        let (cf, sf) = (fth.cos(), fth.sin());
        let fphase = rng.random::<f32>();
        let wga = p[P::WgaMembrane as usize];
        let mito = p[P::MitoInt as usize];
        let noise = Noise::new(rng.random());
        let (tx, ty) = (rng.random::<f32>() * 1000.0, rng.random::<f32>() * 1000.0);
        Look {
            rn,
            na,
            nb,
            cn,
            sn_,
            nx,
            ny,
            dna,
            dtex,
            rna,
            er,
            er_len,
            etex,
            cortex,
            fibres,
            spacing,
            cf,
            sf,
            fphase,
            wga,
            mito,
            noise,
            tx,
            ty,
            chrom_f: 1.0 / (3.0 * g).max(0.9),
            er_f: 1.0 / (4.0 * g).max(1.0),
            fib_f: 1.0 / (10.0 * g).max(1.5),
            ring_w: (2.5 * g).max(0.7),
        }
    }
}

/// The cell's body pixel by pixel: nucleus (DNA, RNA), cytoplasm (ER, RNA,
/// mitochondrial haze), actin cortex and fibres, membrane (WGA).
fn paint_body(pl: &mut Planes, o: &Outline, l: &Look) {
    let n = pl.size as i32;
    let (cx, cy, rc, ct, st, e) = (o.cx, o.cy, o.rc, o.ct, o.st, o.e);
    let &Look {
        rn,
        na,
        nb,
        cn,
        sn_,
        nx,
        ny,
        dna,
        dtex,
        rna,
        er,
        er_len,
        etex,
        cortex,
        fibres,
        spacing,
        cf,
        sf,
        fphase,
        wga,
        mito,
        ref noise,
        tx,
        ty,
        chrom_f,
        er_f,
        fib_f,
        ring_w,
    } = l;
    let reach = rc * e * (1.0 + o.amax) + 2.0 * ring_w + 1.0;
    let x0 = ((cx - reach).floor() as i32).max(0);
    let x1 = ((cx + reach).ceil() as i32).min(n - 1);
    let y0 = ((cy - reach).floor() as i32).max(0);
    let y1 = ((cy + reach).ceil() as i32).min(n - 1);
    let limit = rc * (1.0 + o.amax) + 2.0 * ring_w + 1.0;
    let [ch_dna, ch_er, ch_actin, ch_rna, ch_mito, ch_wga] = &mut pl.data;
    for py in y0..=y1 {
        let fy = py as f32 + 0.5;
        let dy = fy - cy;
        for px in x0..=x1 {
            let fx = px as f32 + 0.5;
            let dx = fx - cx;
            let u = (dx * ct + dy * st) / e;
            let v = (-dx * st + dy * ct) * e;
            let r = (u * u + v * v).sqrt();
            if r > limit {
                continue;
            }
            let (cs, sn) = if r > 1e-4 { (u / r, v / r) } else { (1.0, 0.0) };
            let rm = rc * o.shape(cs, sn);
            let mc = ((rm - r) / EDGE + 0.5).clamp(0.0, 1.0);
            let dr = (r - rm) / ring_w;
            let ring = if dr.abs() < 3.0 {
                (-dr * dr).exp()
            } else {
                0.0
            };
            if mc <= 0.0 && ring < 1e-3 {
                continue;
            }
            // Nucleus coordinates.
            let ndx = fx - nx;
            let ndy = fy - ny;
            let nu = (ndx * cn + ndy * sn_) / na;
            let nv = (-ndx * sn_ + ndy * cn) / nb;
            let q = (nu * nu + nv * nv).sqrt();
            let mn = ((1.0 - q) * rn / EDGE + 0.5).clamp(0.0, 1.0);
            let cyto = mc * (1.0 - mn);
            let i = (py * n + px) as usize;
            if mn > 0.0 {
                let t = noise.value(fx * chrom_f + tx, fy * chrom_f + ty);
                ch_dna[i] += mn * dna * (1.0 + dtex * t);
                ch_rna[i] += mn * rna * 0.35;
            }
            if cyto > 0.0 {
                let dist = (q - 1.0).max(0.0) * rn;
                let falloff = (-dist / er_len).exp();
                let t = noise.ridge(fx * er_f + ty, fy * er_f + tx);
                ch_er[i] += cyto * er * (0.15 + falloff * (1.0 + etex * t));
                ch_rna[i] += cyto * rna * 0.2 * (0.3 + falloff);
                ch_mito[i] += cyto * mito * 0.06;
            }
            if mc > 0.0 {
                let w = (dx * -sf + dy * cf) / spacing + fphase;
                let c = 0.5 + 0.5 * (TAU * w).cos();
                let c2 = c * c;
                let along =
                    0.35 + 0.9 * noise.value((dx * cf + dy * sf) * fib_f + tx, w * 0.5 + ty);
                ch_actin[i] += mc
                    * (0.12 * cortex + fibres * c2 * c2 * along.clamp(0.0, 1.0) * (1.0 - 0.7 * mn));
                ch_wga[i] += mc * wga * 0.12;
            }
            if ring > 0.0 {
                let inner = if r < rm { 1.0 } else { 0.6 };
                ch_actin[i] += cortex * ring * inner;
                ch_wga[i] += wga * 0.9 * ring;
            }
        }
    }
}

/// Nucleoli (ch4), dimming the DNA stain where they sit.
fn draw_nucleoli(pl: &mut Planes, p: &Params, l: &Look, rng: &mut ChaCha8Rng) {
    let lam = p[P::NucleoliCount as usize].max(0.1) as f64;
    let count = Poisson::new(lam)
        .map(|d| d.sample(rng))
        .unwrap_or(lam)
        .clamp(1.0, 8.0) as usize;
    let sig = (0.14 * l.rn * p[P::NucleoliSize as usize]).max(0.45);
    for _ in 0..count {
        let a = rng.random::<f32>() * TAU;
        let rr = 0.55 * rng.random::<f32>().sqrt();
        let (u, v) = (rr * a.cos() * l.na, rr * a.sin() * l.nb);
        let (x, y) = (l.nx + u * l.cn - v * l.sn_, l.ny + u * l.sn_ + v * l.cn);
        pl.splat(3, x, y, sig, sig, 0.0, 1.3 * l.rna);
        pl.splat(0, x, y, sig, sig, 0.0, -0.35 * l.dna);
    }
}

/// Mitochondria (ch5): puncta and short tubules, denser near the nucleus.
fn draw_mitochondria(
    pl: &mut Planes,
    cell: &Cell,
    o: &Outline,
    l: &Look,
    g: f32,
    rng: &mut ChaCha8Rng,
) {
    let p = &cell.p;
    let lam = (p[P::MitoCount as usize]
        * (p[P::CellRadius as usize] / 28.0).powi(2)
        * if cell.mitotic { 0.5 } else { 1.0 })
    .clamp(0.5, 400.0) as f64;
    let count = Poisson::new(lam).map(|d| d.sample(rng)).unwrap_or(lam) as usize;
    let msig = (0.9 * g).max(0.45);
    let rn_rel = (l.rn / o.rc).min(0.9);
    for _ in 0..count {
        let a = rng.random::<f32>() * TAU;
        let t = (0.45 * nrm(rng)).abs().min(0.95);
        let rr = (rn_rel + t * (1.0 - rn_rel)) * o.rc * o.shape(a.cos(), a.sin());
        let (x, y) = o.to_image(rr * a.cos(), rr * a.sin());
        let el = p[P::MitoElong as usize] * (0.25 * nrm(rng)).exp();
        let ang = rng.random::<f32>() * TAU;
        pl.splat(4, x, y, msig * el, msig, ang, 0.9 * l.mito);
    }
}

/// Golgi (ch6): a cluster beside the nucleus (dispersed in mitosis).
fn draw_golgi(pl: &mut Planes, cell: &Cell, o: &Outline, l: &Look, rng: &mut ChaCha8Rng) {
    let p = &cell.p;
    let ga = rng.random::<f32>() * TAU;
    let gsig = (0.1 * o.rc * p[P::GolgiSize as usize]).max(0.5);
    let gint = p[P::GolgiInt as usize];
    let spots = if cell.mitotic { 6 } else { 4 };
    for _ in 0..spots {
        let (x, y) = if cell.mitotic {
            let a = rng.random::<f32>() * TAU;
            let rr = o.rc * 0.7 * rng.random::<f32>();
            (o.cx + rr * a.cos(), o.cy + rr * a.sin())
        } else {
            let d = l.rn * 1.05 + gsig * (1.0 + 0.5 * nrm(rng));
            let a = ga + 0.35 * nrm(rng);
            (l.nx + d * a.cos(), l.ny + d * a.sin())
        };
        let s = gsig * rng.random_range(0.7..1.3);
        let amp = gint * if cell.mitotic { 0.35 } else { 0.8 };
        pl.splat(5, x, y, s * 1.4, s, ga + 1.57, amp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::Key;

    fn site(seed: u64, delta: Params) -> Planes {
        let ct = CellType::of("HUVEC");
        let m = SiteModel {
            cell_type: &ct,
            delta,
            density: 1.0,
            size_factor: 1.0,
        };
        render(64, &m, &mut Key::new(seed, "t").rng())
    }

    #[test]
    fn renders_cells_in_every_channel_deterministically() {
        let a = site(1, [0.0; NP]);
        let b = site(1, [0.0; NP]);
        assert_eq!(a.data, b.data);
        for c in 0..CHANNELS {
            let p = &a.data[c];
            let lit = p.iter().filter(|&&v| v > 0.05).count();
            assert!(lit > 50, "channel {c}: {lit} lit pixels");
            assert!(lit < p.len(), "channel {c} covers everything");
            assert!(p.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn density_phenotype_changes_the_number_of_cells() {
        let mut d = [0.0; NP];
        d[P::Density as usize] = -1.5;
        let few: usize = (0..6)
            .map(|s| site(s, d).data[0].iter().filter(|&&v| v > 0.3).count())
            .sum();
        let many: usize = (0..6)
            .map(|s| {
                site(s, [0.0; NP]).data[0]
                    .iter()
                    .filter(|&&v| v > 0.3)
                    .count()
            })
            .sum();
        assert!(few * 2 < many, "few {few} many {many}");
    }
}
