//! The rcic network, described once as data and realised in libtorch (tch)
//! for training. This first part holds the runtime plumbing every tch user
//! of the project shares: device selection and thread settings.

pub mod device;

pub use device::{select_device, DeviceChoice, DeviceError};
