//! rcic-predict: logits of every test site and every validation site of a
//! model's fold (docs/method.md section 8), averaged over the reference's TTA
//! variants, from an ONNX model run by ONNX Runtime (CPU or CUDA) or from a
//! checkpoint run by libtorch; sharded by (experiment, plate), shards merge
//! into the single run's predictions.

pub mod engine;
pub mod error;
pub mod model_info;
pub mod ort_engine;
pub mod output;
pub mod pipeline;
pub mod sites;
pub mod tch_engine;
pub mod tta;

pub use error::PredictError;

/// Bumped when the same inputs would give different predictions.
pub const PREDICT_VERSION: &str = "1";
