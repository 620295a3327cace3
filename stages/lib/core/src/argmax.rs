//! The predicted class of a row of logits: the index of its largest value,
//! the first one on a tie (as `numpy.argmax` and `torch.argmax` on the
//! CPU pick), a NaN never winning, and 0 for an empty row or a row of NaNs.
//! One definition for every stage that turns scores into a class.

/// The index of the first maximum of `x`, ignoring NaNs; 0 when `x` is
/// empty or holds only NaNs.
pub fn argmax(x: &[f32]) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in x.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_maximum_wins() {
        assert_eq!(argmax(&[0.5, 2.0, -1.0]), 1);
        assert_eq!(argmax(&[3.0, 1.0, 3.0]), 0);
        assert_eq!(argmax(&[1.0, 4.0, 4.0, 2.0]), 1);
        assert_eq!(argmax(&[-3.0, -1.0, -2.0]), 1);
        assert_eq!(argmax(&[7.0]), 0);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), 0);
        assert_eq!(argmax(&[1.0, f32::INFINITY, f32::INFINITY]), 1);
        // 0.0 and -0.0 are equal: the first is kept.
        assert_eq!(argmax(&[-0.0, 0.0]), 0);
    }

    #[test]
    fn a_nan_never_wins() {
        assert_eq!(argmax(&[f32::NAN, 1.0, 0.0]), 1);
        assert_eq!(argmax(&[1.0, f32::NAN, 2.0]), 2);
        assert_eq!(argmax(&[2.0, f32::NAN]), 0);
        assert_eq!(argmax(&[f32::NAN, f32::NEG_INFINITY]), 1);
    }

    #[test]
    fn empty_and_all_nan_rows_give_zero() {
        assert_eq!(argmax(&[]), 0);
        assert_eq!(argmax(&[f32::NAN, f32::NAN]), 0);
    }
}
