//! Stops a diverging run instead of publishing NaN checkpoints. In float32 a
//! non-finite training loss means the weights are (or are about to be)
//! lost: the run stops at that batch. Under mixed precision the loss scaler
//! skips the steps whose gradients overflow (a transient and expected
//! event), so only a loss that stays non-finite for
//! [`MIXED_PRECISION_LIMIT`] batches in a row stops the run. Before a
//! checkpoint is published its weights are checked too: a step can turn
//! weights non-finite on the last batch of an epoch, before any loss shows it.

use std::collections::BTreeMap;

use tch::Tensor;

use crate::precision::Precision;

/// Consecutive non-finite losses tolerated under float16/bfloat16 autocast.
pub const MIXED_PRECISION_LIMIT: u32 = 100;

/// Counts non-finite losses and says when the run must stop.
#[derive(Debug, Clone, PartialEq)]
pub struct LossGuard {
    limit: u32,
    run: u32,
}

impl LossGuard {
    /// float32 stops at the first non-finite loss; mixed precision after
    /// [`MIXED_PRECISION_LIMIT`] in a row.
    pub fn new(p: Precision) -> Self {
        Self::with_limit(match p {
            Precision::Fp32 => 1,
            Precision::Fp16 | Precision::Bf16 => MIXED_PRECISION_LIMIT,
        })
    }

    /// Stops after `limit` (at least 1) non-finite losses in a row.
    pub fn with_limit(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            run: 0,
        }
    }

    /// Records one batch's loss: Err(number of non-finite losses in a row)
    /// when the run must stop.
    pub fn check(&mut self, loss: f64) -> Result<(), u32> {
        if loss.is_finite() {
            self.run = 0;
            return Ok(());
        }
        self.run += 1;
        if self.run >= self.limit {
            Err(self.run)
        } else {
            Ok(())
        }
    }
}

/// The first variable (by name) holding a NaN or an infinity, if any.
pub fn first_non_finite(vars: &BTreeMap<String, Tensor>) -> Option<&str> {
    vars.iter()
        .find(|(_, t)| t.is_floating_point() && t.isfinite().all().int64_value(&[]) == 0)
        .map(|(k, _)| k.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float32_stops_at_once_mixed_precision_after_a_run() {
        let mut g = LossGuard::new(Precision::Fp32);
        assert_eq!(g.check(2.5), Ok(()));
        assert_eq!(g.check(f64::NAN), Err(1));
        let mut g = LossGuard::new(Precision::Fp16);
        for _ in 0..MIXED_PRECISION_LIMIT - 1 {
            assert_eq!(g.check(f64::INFINITY), Ok(()));
        }
        // A finite loss resets the count.
        assert_eq!(g.check(1.0), Ok(()));
        for _ in 0..MIXED_PRECISION_LIMIT - 1 {
            assert_eq!(g.check(f64::NAN), Ok(()));
        }
        assert_eq!(g.check(f64::NAN), Err(MIXED_PRECISION_LIMIT));
        assert_eq!(LossGuard::new(Precision::Bf16), LossGuard::with_limit(100));
    }

    #[test]
    fn finds_the_first_non_finite_variable() {
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), Tensor::from_slice(&[1.0f32, 2.0]));
        m.insert("n".to_string(), Tensor::from_slice(&[3i64]));
        assert_eq!(first_non_finite(&m), None);
        m.insert("z".to_string(), Tensor::from_slice(&[1.0f32, f32::NAN]));
        m.insert("b".to_string(), Tensor::from_slice(&[f32::INFINITY]));
        assert_eq!(first_non_finite(&m), Some("b"));
    }
}
