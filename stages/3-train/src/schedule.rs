//! The learning-rate schedule of `--lr SCHEDULE,v1,e1,v2,e2,...,vn`
//! (docs/method.md section 5): ranges [0,e1), [e1,e2), ..., [e(n-1), epochs),
//! cosine or constant within each, evaluated at fractional epochs so the
//! rate can be set every batch.

use std::fmt;
use std::str::FromStr;

use crate::error::TrainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Cosine,
    Const,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LrSchedule {
    pub shape: Shape,
    /// Value of each range.
    pub values: Vec<f64>,
    /// Start epochs of ranges 2..n (the first starts at 0).
    pub bounds: Vec<f64>,
}

impl FromStr for LrSchedule {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            TrainError::Flag {
            flag: "--lr",
            message: format!("{s:?}: {why}; expected SCHEDULE,v1[,e1,v2,...,vn] with SCHEDULE cosine or const, e.g. cosine,1.5e-4,90,6e-5,150,0"),
        }
        };
        let mut parts = s.split(',');
        let shape = match parts.next().unwrap_or("") {
            "cosine" => Shape::Cosine,
            "const" => Shape::Const,
            _ => return Err(bad("unknown schedule")),
        };
        let nums: Vec<f64> = parts
            .map(|p| {
                p.trim()
                    .parse::<f64>()
                    .map_err(|_| bad(&format!("{p:?} is not a number")))
            })
            .collect::<Result<_, _>>()?;
        if nums.len() % 2 == 0 {
            return Err(bad(
                "values and epochs must alternate, starting and ending with a value",
            ));
        }
        if nums.iter().any(|v| !v.is_finite()) {
            return Err(bad("non-finite number"));
        }
        let values: Vec<f64> = nums.iter().step_by(2).copied().collect();
        let bounds: Vec<f64> = nums.iter().skip(1).step_by(2).copied().collect();
        if values.iter().any(|v| *v < 0.0) {
            return Err(bad("a learning rate is negative"));
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) || bounds.first().is_some_and(|b| *b <= 0.0) {
            return Err(bad("range epochs must increase from above 0"));
        }
        Ok(Self {
            shape,
            values,
            bounds,
        })
    }
}

impl fmt::Display for LrSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            if self.shape == Shape::Cosine {
                "cosine"
            } else {
                "const"
            }
        )?;
        for (i, v) in self.values.iter().enumerate() {
            write!(f, ",{v}")?;
            if let Some(b) = self.bounds.get(i) {
                write!(f, ",{b}")?;
            }
        }
        Ok(())
    }
}

impl LrSchedule {
    /// The rate at fractional epoch `t` (epoch + batch / batches).
    pub fn at(&self, t: f64, epochs: u32) -> f64 {
        let mut start = 0.0;
        for (i, &v) in self.values.iter().enumerate() {
            let end = self.bounds.get(i).copied().unwrap_or(epochs as f64);
            if t < end || i + 1 == self.values.len() {
                return match self.shape {
                    Shape::Const => v,
                    Shape::Cosine => {
                        v * (((t - start) / (end - start) * std::f64::consts::PI).cos() + 1.0) / 2.0
                    }
                };
            }
            start = end;
        }
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winning_schedule_values() {
        // The winning recipe with -e 130: the second cosine runs over [90, 150)
        // and training stops at 130, as in the reference.
        let s: LrSchedule = "cosine,1.5e-4,90,6e-5,150,0".parse().unwrap();
        assert!((s.at(0.0, 130) - 1.5e-4).abs() < 1e-15);
        assert!((s.at(45.0, 130) - 0.75e-4).abs() < 1e-12);
        assert!((s.at(90.0, 130) - 6e-5).abs() < 1e-15);
        assert!((s.at(110.0, 130) - 4.5e-5).abs() < 1e-12);
        assert!((s.at(120.0, 130) - 3e-5).abs() < 1e-12);
        let e = "cosine,1.5e-4,90,6e-5".parse::<LrSchedule>().unwrap();
        assert!(
            e.at(129.999, 130) < 1e-9,
            "a last range ending at --epochs decays to 0"
        );
        let d: LrSchedule = "cosine,1.5e-4".parse().unwrap();
        assert!(
            (d.at(22.5, 90) - 1.5e-4 * (1.0 + (0.25f64 * std::f64::consts::PI).cos()) / 2.0).abs()
                < 1e-15
        );
        let c: LrSchedule = "const,1e-3,5,1e-4".parse().unwrap();
        assert_eq!((c.at(4.99, 10), c.at(5.0, 10)), (1e-3, 1e-4));
    }

    #[test]
    fn malformed_schedules_name_the_flag() {
        for bad in [
            "linear,1",
            "cosine",
            "cosine,1,2",
            "cosine,x",
            "cosine,1,5,2,3,1",
            "cosine,-1",
        ] {
            let e = bad.parse::<LrSchedule>().unwrap_err().to_string();
            assert!(e.starts_with("--lr"), "{bad}: {e}");
        }
    }
}
