//! Adam with L2 weight decay added to the gradient (not decoupled), written
//! out so that its state (moments, step count) can be checkpointed and a
//! resumed run continues exactly; the update is `torch.optim.Adam`'s formula
//! (bias-corrected moments, denominator sqrt(v)/sqrt(1-b2^t) + eps), computed
//! with few temporaries.
//! No crate serves: tch's optimizer state cannot be saved and restored bit-exactly.

use std::collections::BTreeMap;

use tch::{Kind, Tensor};

pub struct Adam {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Steps taken.
    pub step: i64,
    /// (name, parameter, first moment, second moment), sorted by name.
    params: Vec<(String, Tensor, Tensor, Tensor)>,
}

impl Adam {
    /// Over the trainable variables (name -> tensor) of a var store.
    pub fn new(trainable: BTreeMap<String, Tensor>, weight_decay: f64) -> Self {
        let params = trainable
            .into_iter()
            .map(|(n, p)| {
                let m = p.zeros_like().detach();
                let v = p.zeros_like().detach();
                (n, p, m, v)
            })
            .collect();
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            step: 0,
            params,
        }
    }

    /// Clears gradients.
    pub fn zero_grad(&mut self) {
        for (_, p, _, _) in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// One update with learning rate `lr`; gradients divided by `grad_scale` first.
    pub fn step(&mut self, lr: f64, grad_scale: f64) {
        self.step += 1;
        let bc1 = 1.0 - self.beta1.powi(self.step as i32);
        let bc2 = 1.0 - self.beta2.powi(self.step as i32);
        let step_size = lr / bc1;
        tch::no_grad(|| {
            for (_, p, m, v) in &mut self.params {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                // The gradient is consumed here (zeroed after the step), so it is
                // updated in place: fewer temporaries, the same arithmetic.
                let mut g = if g.kind() == Kind::Float {
                    g
                } else {
                    g.to_kind(Kind::Float)
                };
                if grad_scale != 1.0 {
                    let _ = g.g_div_scalar_(grad_scale);
                }
                if self.weight_decay != 0.0 {
                    let _ = g.g_add_(&(p.to_kind(Kind::Float) * self.weight_decay));
                }
                let _ = m
                    .g_mul_scalar_(self.beta1)
                    .g_add_(&(&g * (1.0 - self.beta1)));
                let _ = v
                    .g_mul_scalar_(self.beta2)
                    .addcmul_(&g, &(&g * (1.0 - self.beta2)));
                let mut denom = v.sqrt();
                let _ = denom.g_div_scalar_(bc2.sqrt()).g_add_scalar_(self.eps);
                // update = m / denom * step_size, computed into denom.
                let _ = denom.reciprocal_().g_mul_(&*m).g_mul_scalar_(step_size);
                let _ = p.g_sub_(&denom.to_kind(p.kind()));
            }
        });
    }

    /// Whether every gradient is finite (mixed precision skips the update
    /// otherwise). One reduction per gradient, one device sync in all.
    pub fn grads_finite(&self) -> bool {
        let flags: Vec<Tensor> = self
            .params
            .iter()
            .map(|(_, p, _, _)| p.grad())
            .filter(|g| g.defined())
            .map(|g| g.isfinite().all())
            .collect();
        flags.is_empty() || Tensor::stack(&flags, 0).all().int64_value(&[]) == 1
    }

    /// Moments as named tensors, for checkpoints.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (n, _, m, v) in &self.params {
            out.push((format!("adam.m.{n}"), m.shallow_clone()));
            out.push((format!("adam.v.{n}"), v.shallow_clone()));
        }
        out
    }

    /// Restores moments saved by [`state`](Self::state); names must match.
    pub fn load_state(
        &mut self,
        tensors: &BTreeMap<String, Tensor>,
        step: i64,
    ) -> Result<(), String> {
        let mut missing = Vec::new();
        tch::no_grad(|| {
            for (n, _, m, v) in &mut self.params {
                match (
                    tensors.get(&format!("adam.m.{n}")),
                    tensors.get(&format!("adam.v.{n}")),
                ) {
                    (Some(a), Some(b)) if a.size() == m.size() && b.size() == v.size() => {
                        m.copy_(a);
                        v.copy_(b);
                    }
                    _ => missing.push(n.clone()),
                }
            }
        });
        if !missing.is_empty() {
            return Err(format!(
                "optimizer state lacks or mis-shapes {} parameter(s): {}",
                missing.len(),
                missing.join(", ")
            ));
        }
        self.step = step;
        Ok(())
    }
}
