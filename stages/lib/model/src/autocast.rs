//! The CUDA autocast precision. `tch::autocast` switches mixed precision on
//! and off but always in float16; bfloat16 (no loss scaling needed, same
//! range as float32) needs libtorch's `at::autocast::set_autocast_dtype`,
//! which tch does not wrap. It is a plain C++ function of two 8-bit enums
//! (`c10::DeviceType`, `c10::ScalarType`), called here through its Itanium
//! C++ ABI symbol, which Linux builds of libtorch export; the setting is
//! process-wide and read back by [`cuda_autocast_dtype`].

/// Precision of the CUDA autocast regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutocastDtype {
    Float16,
    BFloat16,
}

// c10::DeviceType::CUDA and the c10::ScalarType numbers (torch/headeronly).
const CUDA: i8 = 1;
const HALF: i8 = 5;
const BFLOAT16: i8 = 15;

extern "C" {
    #[link_name = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"]
    fn at_set_autocast_dtype(device: i8, dtype: i8);
    #[link_name = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE"]
    fn at_get_autocast_dtype(device: i8) -> i8;
}

/// Sets the dtype CUDA autocast regions compute in (libtorch's default is
/// float16). Has no effect on CPU work.
pub fn set_cuda_autocast_dtype(dtype: AutocastDtype) {
    let d = match dtype {
        AutocastDtype::Float16 => HALF,
        AutocastDtype::BFloat16 => BFLOAT16,
    };
    // SAFETY: a libtorch function taking two enums by value; no pointers.
    unsafe { at_set_autocast_dtype(CUDA, d) }
}

/// The dtype CUDA autocast regions compute in (None: neither half type).
pub fn cuda_autocast_dtype() -> Option<AutocastDtype> {
    // SAFETY: as above, a getter of a process-wide setting.
    match unsafe { at_get_autocast_dtype(CUDA) } {
        HALF => Some(AutocastDtype::Float16),
        BFLOAT16 => Some(AutocastDtype::BFloat16),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_autocast_dtype_round_trips() {
        // libtorch's default for CUDA autocast is float16.
        assert_eq!(cuda_autocast_dtype(), Some(AutocastDtype::Float16));
        set_cuda_autocast_dtype(AutocastDtype::BFloat16);
        assert_eq!(cuda_autocast_dtype(), Some(AutocastDtype::BFloat16));
        set_cuda_autocast_dtype(AutocastDtype::Float16);
        assert_eq!(cuda_autocast_dtype(), Some(AutocastDtype::Float16));
    }
}
