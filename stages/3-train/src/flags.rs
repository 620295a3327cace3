//! Start-up checks of the numeric flags, as pure functions: a value the run
//! cannot use (NaN, infinity, out of its range) fails before any file is
//! written, with a message naming the flag, the value and the range, rather
//! than panicking in a worker thread or training into NaN weights later.

use crate::error::TrainError;
use crate::pseudo::progress;
use crate::sizefunc::SizeFunc;

fn flag(flag: &'static str, message: String) -> TrainError {
    TrainError::Flag { flag, message }
}

/// A finite value >= 0.
pub fn non_negative(name: &'static str, v: f64) -> Result<(), TrainError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(flag(name, format!("{v}: expected a finite number >= 0")))
    }
}

/// A finite value in [0, 1] (`upper_included`) or [0, 1).
pub fn fraction(name: &'static str, v: f64, upper_included: bool) -> Result<(), TrainError> {
    let ok = v.is_finite() && v >= 0.0 && (v < 1.0 || (upper_included && v == 1.0));
    if ok {
        Ok(())
    } else {
        let range = if upper_included { "[0, 1]" } else { "[0, 1)" };
        Err(flag(name, format!("{v}: expected a number in {range}")))
    }
}

/// `--classes`, when given: at least 1 (the data's own count is checked
/// once the data is read).
pub fn classes(c: Option<i64>) -> Result<(), TrainError> {
    match c {
        Some(c) if c < 1 => Err(flag(
            "--classes",
            format!("{c}: expected at least 1 (the data's treatments and controls)"),
        )),
        _ => Ok(()),
    }
}

/// `--start-epoch`: 0, or a later epoch of a run resumed from `--load`,
/// below `-e/--epochs`.
pub fn start_epoch(start: u32, epochs: u32, load: bool) -> Result<(), TrainError> {
    if start > 0 && !load {
        return Err(flag(
            "--start-epoch",
            format!("{start}: resuming needs the checkpoint to resume from (--load NAME.<epoch>)"),
        ));
    }
    if start >= epochs {
        return Err(flag(
            "--start-epoch",
            format!(
                "{start}: expected an epoch below -e/--epochs ({epochs}); nothing would be trained"
            ),
        ));
    }
    Ok(())
}

/// `--pl-size-func` at every pseudo-labelling epoch from `first` (the later
/// of `--pl-epoch` and `--start-epoch`) to `epochs - 1`: a fraction in
/// [0, 1] at each epoch's progress x.
pub fn pl_size_fractions(
    f: &SizeFunc,
    pl_epoch: u32,
    first: u32,
    epochs: u32,
) -> Result<(), TrainError> {
    for e in first.max(pl_epoch)..epochs {
        let x = progress(e, pl_epoch, epochs);
        let v = f.eval(x);
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            return Err(flag(
                "--pl-size-func",
                format!(
                    "{:?} is {v} at x = {x} (epoch {e}): expected a fraction in [0, 1] of the validation and test wells at every pseudo-labelling epoch",
                    f.to_string()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: Result<(), TrainError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn non_negative_and_fractions() {
        assert!(non_negative("--mixup", 0.0).is_ok() && non_negative("--mixup", 0.4).is_ok());
        for v in [f64::NAN, f64::INFINITY, -0.1] {
            let e = msg(non_negative("--mixup", v));
            assert!(e.starts_with("--mixup ") && e.contains(">= 0"), "{e}");
        }
        assert!(fraction("--metric-loss-coeff", 1.0, true).is_ok());
        assert!(fraction("--label-smoothing", 0.0, false).is_ok());
        let e = msg(fraction("--label-smoothing", 1.0, false));
        assert!(
            e.contains("--label-smoothing 1") && e.contains("[0, 1)"),
            "{e}"
        );
        for v in [f64::NAN, -0.5, 1.5, f64::NEG_INFINITY] {
            let e = msg(fraction("--metric-loss-coeff", v, true));
            assert!(e.contains("[0, 1]"), "{e}");
        }
    }

    #[test]
    fn classes_and_start_epoch() {
        assert!(classes(None).is_ok() && classes(Some(1)).is_ok());
        for c in [0, -3] {
            assert!(msg(classes(Some(c))).starts_with(&format!("--classes {c}:")));
        }
        assert!(start_epoch(0, 1, false).is_ok() && start_epoch(2, 4, true).is_ok());
        assert!(msg(start_epoch(3, 1, false)).contains("--load"));
        assert!(msg(start_epoch(4, 4, true)).contains("below -e/--epochs (4)"));
    }

    #[test]
    fn size_function_stays_a_fraction_at_every_pl_epoch() {
        let f = |s: &str| s.parse::<SizeFunc>().unwrap();
        assert!(pl_size_fractions(&f("x"), 1, 0, 4).is_ok());
        assert!(pl_size_fractions(&f("0.6*x+0.4"), 0, 0, 90).is_ok());
        // x = 1/4, 2/4, 3/4 at epochs 1, 2, 3 of pseudo-labelling from 1 in 4 epochs.
        let e = msg(pl_size_fractions(&f("2*x"), 1, 0, 4));
        assert_eq!(
            e,
            "--pl-size-func \"2*x\" is 1.5 at x = 0.75 (epoch 3): expected a fraction in [0, 1] of the validation and test wells at every pseudo-labelling epoch"
        );
        assert!(msg(pl_size_fractions(&f("0-x"), 2, 0, 3)).contains("is -0.5 at x = 0.5"));
        // Only the epochs that run: resumed after the bad ones.
        assert!(pl_size_fractions(&f("2*x-1"), 1, 3, 4).is_ok());
        assert!(pl_size_fractions(&f("2*x-1"), 1, 0, 4).is_err());
    }
}
