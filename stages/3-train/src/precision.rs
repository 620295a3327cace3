//! Mixed precision of the training step, shared by the trainer and the step
//! benchmark: which autocast the forward pass runs under (none on the CPU,
//! float16 or bfloat16 on CUDA) and the dynamic loss scale float16 needs.
//! The scale follows torch.cuda.amp.GradScaler's policy: start at 2^16; when
//! a gradient is not finite, skip the update and halve the scale; after
//! 2000 updates in a row, double it. bfloat16 has float32's range: no
//! scaling, but a non-finite gradient still skips the update.

use tch::Device;

use crate::optimizer::Adam;

/// The precision a run trains in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Fp16,
    Bf16,
}

impl Precision {
    /// `--fp16`/`--bf16` on `device`: half precision only on CUDA.
    pub fn resolve(fp16: bool, bf16: bool, device: Device) -> Self {
        match (device.is_cuda(), fp16 || bf16, bf16) {
            (true, true, true) => Self::Bf16,
            (true, true, false) => Self::Fp16,
            _ => Self::Fp32,
        }
    }

    /// Whether the forward pass runs under CUDA autocast.
    pub fn autocast(self) -> bool {
        self != Self::Fp32
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Fp32 => "float32",
            Self::Fp16 => "float16 with dynamic loss scaling",
            Self::Bf16 => "bfloat16",
        }
    }

    /// Sets libtorch's CUDA autocast dtype for this precision (process-wide).
    pub fn activate(self) {
        match self {
            Self::Fp32 => {}
            Self::Fp16 => rcic_model::set_cuda_autocast_dtype(rcic_model::AutocastDtype::Float16),
            Self::Bf16 => rcic_model::set_cuda_autocast_dtype(rcic_model::AutocastDtype::BFloat16),
        }
    }
}

/// torch's GradScaler defaults.
pub const INIT_SCALE: f64 = 65536.0;
pub const GROWTH_INTERVAL: u32 = 2000;

/// What [`LossScaler::step`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepOutcome {
    Updated,
    /// A gradient was not finite: no update; the scale is now this.
    Skipped {
        scale: f64,
    },
}

/// The loss scale and the finite-gradient check around Adam's update.
#[derive(Debug, Clone, PartialEq)]
pub struct LossScaler {
    scale: f64,
    good_steps: u32,
    growth_interval: u32,
    scaling: bool,
    check: bool,
}

impl LossScaler {
    /// The policy for a precision: float16 scales and checks, bfloat16
    /// checks, float32 does neither (its gradients are used as they are).
    pub fn new(p: Precision) -> Self {
        match p {
            Precision::Fp16 => Self::scaling(INIT_SCALE, GROWTH_INTERVAL),
            Precision::Bf16 => Self {
                scale: 1.0,
                good_steps: 0,
                growth_interval: GROWTH_INTERVAL,
                scaling: false,
                check: true,
            },
            Precision::Fp32 => Self {
                scale: 1.0,
                good_steps: 0,
                growth_interval: GROWTH_INTERVAL,
                scaling: false,
                check: false,
            },
        }
    }

    /// Dynamic scaling from `init` growing every `growth_interval` updates.
    pub fn scaling(init: f64, growth_interval: u32) -> Self {
        Self {
            scale: init,
            good_steps: 0,
            growth_interval: growth_interval.max(1),
            scaling: true,
            check: true,
        }
    }

    /// The factor the loss is multiplied by before `backward`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Updates `opt` with learning rate `lr` from the scaled gradients
    /// (divided by the scale first), or skips the update when a gradient is
    /// not finite; then adjusts the scale.
    pub fn step(&mut self, opt: &mut Adam, lr: f64) -> StepOutcome {
        if self.check && !opt.grads_finite() {
            if self.scaling {
                self.scale /= 2.0;
            }
            self.good_steps = 0;
            return StepOutcome::Skipped { scale: self.scale };
        }
        opt.step(lr, self.scale);
        if self.scaling {
            self.good_steps += 1;
            if self.good_steps >= self.growth_interval {
                self.scale *= 2.0;
                self.good_steps = 0;
            }
        }
        StepOutcome::Updated
    }

    /// (scale, updates since the last change), for the resume state.
    pub fn state(&self) -> (f64, u32) {
        (self.scale, self.good_steps)
    }

    /// Restores [`state`](Self::state) (a scaling policy only; others keep 1).
    pub fn restore(&mut self, scale: f64, good_steps: u32) {
        if self.scaling && scale.is_finite() && scale > 0.0 {
            self.scale = scale;
            self.good_steps = good_steps;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tch::{Kind, Tensor};

    fn param(values: &[f32]) -> Tensor {
        Tensor::from_slice(values).set_requires_grad(true)
    }

    /// Sets the parameter's gradient to `g` through a backward pass.
    fn set_grad(p: &Tensor, g: &[f32]) {
        (p * Tensor::from_slice(g)).sum(Kind::Float).backward();
    }

    fn adam(p: &Tensor) -> Adam {
        let mut m = BTreeMap::new();
        m.insert("w".to_string(), p.shallow_clone());
        Adam::new(m, 0.0)
    }

    #[test]
    fn precision_is_half_only_on_cuda() {
        assert_eq!(
            Precision::resolve(true, false, Device::Cpu),
            Precision::Fp32
        );
        assert_eq!(Precision::resolve(true, true, Device::Cpu), Precision::Fp32);
        assert_eq!(
            Precision::resolve(true, false, Device::Cuda(0)),
            Precision::Fp16
        );
        assert_eq!(
            Precision::resolve(false, true, Device::Cuda(0)),
            Precision::Bf16
        );
        assert_eq!(
            Precision::resolve(false, false, Device::Cuda(0)),
            Precision::Fp32
        );
        assert!(!Precision::Fp32.autocast() && Precision::Bf16.autocast());
        assert_eq!(LossScaler::new(Precision::Fp16).scale(), INIT_SCALE);
        assert_eq!(LossScaler::new(Precision::Bf16).scale(), 1.0);
    }

    #[test]
    fn scaled_update_equals_the_unscaled_one() {
        let (a, b) = (param(&[1.0, -2.0]), param(&[1.0, -2.0]));
        let (mut oa, mut ob) = (adam(&a), adam(&b));
        let mut s = LossScaler::scaling(1024.0, 100);
        set_grad(&a, &[0.5 * 1024.0, -0.25 * 1024.0]);
        set_grad(&b, &[0.5, -0.25]);
        assert_eq!(s.step(&mut oa, 0.1), StepOutcome::Updated);
        LossScaler::new(Precision::Fp32).step(&mut ob, 0.1);
        let (va, vb) = (
            Vec::<f32>::try_from(&a).unwrap(),
            Vec::<f32>::try_from(&b).unwrap(),
        );
        assert_eq!(va, vb);
        assert_ne!(va, vec![1.0, -2.0]);
    }

    #[test]
    fn non_finite_gradients_skip_and_halve_then_good_steps_grow() {
        let p = param(&[1.0, 2.0]);
        let mut o = adam(&p);
        let mut s = LossScaler::scaling(8.0, 2);
        set_grad(&p, &[f32::INFINITY, 1.0]);
        assert_eq!(s.step(&mut o, 0.1), StepOutcome::Skipped { scale: 4.0 });
        assert_eq!(Vec::<f32>::try_from(&p).unwrap(), vec![1.0, 2.0]);
        assert_eq!(o.step, 0);
        o.zero_grad();
        set_grad(&p, &[f32::NAN, 1.0]);
        assert_eq!(s.step(&mut o, 0.1), StepOutcome::Skipped { scale: 2.0 });
        for k in 0..2 {
            o.zero_grad();
            set_grad(&p, &[1.0, 1.0]);
            assert_eq!(s.step(&mut o, 0.1), StepOutcome::Updated);
            assert_eq!(s.scale(), if k == 0 { 2.0 } else { 4.0 });
        }
        assert_eq!(o.step, 2);
        assert_eq!(s.state(), (4.0, 0));
    }

    #[test]
    fn bf16_checks_without_scaling_and_fp32_never_checks() {
        let p = param(&[1.0]);
        let mut o = adam(&p);
        let mut s = LossScaler::new(Precision::Bf16);
        set_grad(&p, &[f32::INFINITY]);
        assert_eq!(s.step(&mut o, 0.1), StepOutcome::Skipped { scale: 1.0 });
        let mut f = LossScaler::new(Precision::Fp32);
        assert_eq!(f.step(&mut o, 0.1), StepOutcome::Updated);
    }

    #[test]
    fn restore_applies_to_scaling_policies_only() {
        let mut s = LossScaler::scaling(INIT_SCALE, GROWTH_INTERVAL);
        s.restore(512.0, 7);
        assert_eq!(s.state(), (512.0, 7));
        s.restore(f64::NAN, 1);
        assert_eq!(s.state(), (512.0, 7));
        let mut b = LossScaler::new(Precision::Bf16);
        b.restore(512.0, 7);
        assert_eq!(b.scale(), 1.0);
    }
}
