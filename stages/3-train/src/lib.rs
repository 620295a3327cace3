//! rcic-train: the reference training method (docs/method.md sections 2-7) in
//! libtorch. The modules here are the parts that do not depend on the
//! network: the learning-rate schedule, the pseudo-label size function,
//! augmentation, batch mixing, the loss and pseudo-label selection. The
//! training/validation sets, normalisation and locating the preprocess
//! artifact are shared with prediction and live in rcic-core
//! (`splits`, `normalize`, `locate`).

pub mod augment;
pub mod databench;
pub mod divergence;
pub mod error;
pub mod flags;
pub mod loader;
pub mod loss;
pub mod mixing;
pub mod optimizer;
pub mod precision;
pub mod pseudo;
pub mod retention;
pub mod schedule;
pub mod sizefunc;
pub mod trainer;

pub use error::TrainError;
