//! The training loss (docs/method.md section 5): dense cross-entropy on the head
//! logits plus ArcFace (s = 30, m = 0.5) on the metric branch's cosines,
//! weighted 1 - c and c by `--metric-loss-coeff` (default 0.2).

use tch::{Kind, Tensor};

/// Mean over the batch of -sum(target * log_softmax(logits)), in float32.
pub fn dense_cross_entropy(logits: &Tensor, target: &Tensor) -> Tensor {
    let logp = logits.to_kind(Kind::Float).log_softmax(-1, Kind::Float);
    (-(logp * target.to_kind(Kind::Float)))
        .sum_dim_intlist(-1, false, Kind::Float)
        .mean(Kind::Float)
}

/// ArcFace on cosines with dense targets, halved as in the reference.
pub fn arcface(cosine: &Tensor, target: &Tensor, s: f64, m: f64) -> Tensor {
    let (cos_m, sin_m) = (m.cos(), m.sin());
    let th = (std::f64::consts::PI - m).cos();
    let mm = (std::f64::consts::PI - m).sin() * m;
    let cosine = cosine.to_kind(Kind::Float);
    let sine = cosine
        .pow_tensor_scalar(2)
        .neg()
        .g_add_scalar(1.0)
        .clamp_min(0.0)
        .sqrt();
    let phi = &cosine * cos_m - sine * sin_m;
    let phi = phi.where_self(&cosine.gt(th), &(&cosine - mm));
    let t = target.to_kind(Kind::Float);
    let out: Tensor = (&t * phi + (1.0 - &t) * &cosine) * s;
    dense_cross_entropy(&out, &t) / 2.0
}

/// (1 - coeff) * CE(head) + coeff * ArcFace(metric).
pub fn total_loss(logits: &Tensor, cosines: &Tensor, target: &Tensor, metric_coeff: f64) -> Tensor {
    dense_cross_entropy(logits, target) * (1.0 - metric_coeff)
        + arcface(cosines, target, 30.0, 0.5) * metric_coeff
}

/// Fraction of rows whose argmax matches the dense target's argmax.
pub fn accuracy(logits: &Tensor, target: &Tensor) -> f64 {
    logits
        .argmax(-1, false)
        .eq_tensor(&target.argmax(-1, false))
        .to_kind(Kind::Float)
        .mean(Kind::Float)
        .double_value(&[])
}
