//! The rcic network, described once as data ([`ModelConfig`]) and realised
//! in libtorch (tch) for training ([`Network`]); the export stage realises
//! the same description as an ONNX graph. Also: checkpoints (safetensors
//! with the reference's state-dict names), torchvision ImageNet weights
//! (`--pretrained`, `.pth` or safetensors), and the runtime plumbing every
//! tch user shares (device selection).

pub mod autocast;
pub mod checkpoint;
pub mod config;
pub mod densenet;
pub mod device;
pub mod error;
pub mod input_size;
pub mod layers;
pub mod net;
pub mod overrides;
pub mod pretrained;
pub mod pth;
pub mod raw;
pub mod resnet;
pub mod safetensors;

pub use autocast::{cuda_autocast_dtype, set_cuda_autocast_dtype, AutocastDtype};
pub use checkpoint::{Checkpoint, Strictness};
pub use config::{
    BackboneKind, ConfigDifference, DenseNetConfig, ModelConfig, ResBlock, ResNetConfig,
};
pub use device::{select_device, DeviceChoice, DeviceError};
pub use error::ModelError;
pub use net::{Network, Output};
pub use overrides::ConfigOverrides;
pub use pretrained::{load_pretrained, PretrainedReport};
pub use raw::{DType, RawTensor};
