//! A tensor as bytes: element type, shape and little-endian data. The
//! common currency of the file readers (safetensors, `.pth`) and writers,
//! converted to and from tch tensors at the edge.

use tch::{Device, Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    /// safetensors' name.
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "F64",
            DType::F32 => "F32",
            DType::F16 => "F16",
            DType::BF16 => "BF16",
            DType::I64 => "I64",
            DType::I32 => "I32",
            DType::I16 => "I16",
            DType::I8 => "I8",
            DType::U8 => "U8",
            DType::Bool => "BOOL",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "F64" => DType::F64,
            "F32" => DType::F32,
            "F16" => DType::F16,
            "BF16" => DType::BF16,
            "I64" => DType::I64,
            "I32" => DType::I32,
            "I16" => DType::I16,
            "I8" => DType::I8,
            "U8" => DType::U8,
            "BOOL" => DType::Bool,
            _ => return None,
        })
    }

    pub fn kind(self) -> Kind {
        match self {
            DType::F64 => Kind::Double,
            DType::F32 => Kind::Float,
            DType::F16 => Kind::Half,
            DType::BF16 => Kind::BFloat16,
            DType::I64 => Kind::Int64,
            DType::I32 => Kind::Int,
            DType::I16 => Kind::Int16,
            DType::I8 => Kind::Int8,
            DType::U8 => Kind::Uint8,
            DType::Bool => Kind::Bool,
        }
    }

    pub fn from_kind(k: Kind) -> Option<Self> {
        Some(match k {
            Kind::Double => DType::F64,
            Kind::Float => DType::F32,
            Kind::Half => DType::F16,
            Kind::BFloat16 => DType::BF16,
            Kind::Int64 => DType::I64,
            Kind::Int => DType::I32,
            Kind::Int16 => DType::I16,
            Kind::Int8 => DType::I8,
            Kind::Uint8 => DType::U8,
            Kind::Bool => DType::Bool,
            _ => return None,
        })
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F64 | DType::F32 | DType::F16 | DType::BF16)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    pub dtype: DType,
    pub shape: Vec<i64>,
    pub data: Vec<u8>,
}

impl RawTensor {
    pub fn numel(&self) -> usize {
        self.shape.iter().product::<i64>() as usize
    }

    /// A CPU tch tensor holding a copy of the data.
    pub fn to_tch(&self) -> Tensor {
        Tensor::from_data_size(&self.data, &self.shape, self.dtype.kind())
    }

    /// Copies a tch tensor (any device, any layout) to bytes.
    pub fn from_tch(t: &Tensor) -> Self {
        let dtype = DType::from_kind(t.kind())
            .unwrap_or_else(|| panic!("tensor kind {:?} has no byte form", t.kind()));
        let t = t.detach().to_device(Device::Cpu).contiguous();
        let n = t.numel();
        let mut data = vec![0u8; n * dtype.size()];
        t.copy_data_u8(&mut data, n);
        Self {
            dtype,
            shape: t.size(),
            data,
        }
    }

    /// The values as f32 (floats converted by libtorch).
    pub fn to_f32(&self) -> Vec<f32> {
        if self.dtype == DType::F32 {
            return self
                .data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
        }
        let t = self.to_tch().to_kind(Kind::Float).flatten(0, -1);
        Vec::<f32>::try_from(&t).expect("f32 tensor")
    }
}
