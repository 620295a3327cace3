//! Device selection (`--device auto|cpu|cuda`) shared by every tch stage, so
//! that asking for CUDA where there is none fails loudly instead of silently
//! running on the CPU.

use std::str::FromStr;

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// CUDA device 0 when libtorch sees one, else the CPU.
    Auto,
    Cpu,
    Cuda,
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("--device: expected one of auto, cpu, cuda, got {0:?}")]
    Unknown(String),
    #[error("--device cuda: libtorch sees no CUDA device (cuda available: {available}, devices: {count})")]
    NoCuda { available: bool, count: i64 },
}

impl FromStr for DeviceChoice {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(DeviceError::Unknown(other.to_string())),
        }
    }
}

/// Resolves a choice to a tch device.
pub fn select_device(choice: DeviceChoice) -> Result<tch::Device, DeviceError> {
    match choice {
        DeviceChoice::Cpu => Ok(tch::Device::Cpu),
        DeviceChoice::Auto => Ok(tch::Device::cuda_if_available()),
        DeviceChoice::Cuda => {
            if tch::Cuda::is_available() {
                Ok(tch::Device::Cuda(0))
            } else {
                Err(DeviceError::NoCuda {
                    available: tch::Cuda::is_available(),
                    count: tch::Cuda::device_count(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_choices_and_rejects_others() {
        assert_eq!("cpu".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        let err = "gpu".parse::<DeviceChoice>().unwrap_err().to_string();
        assert!(err.contains("--device") && err.contains("gpu"), "{err}");
    }

    #[test]
    fn cpu_is_always_available() {
        assert_eq!(select_device(DeviceChoice::Cpu).unwrap(), tch::Device::Cpu);
    }
}
