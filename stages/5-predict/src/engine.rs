//! What runs the network: a batch of normalised images and one-hot cell
//! types in, logits out (host memory, float32, row-major).

use crate::error::PredictError;

/// The model's input and output sizes, checked against the data before any work.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelShape {
    /// Channels of `image` (6 for RxRx1 models).
    pub channels: Option<i64>,
    /// Fixed image side, None when dynamic.
    pub image_size: Option<i64>,
    /// Width of `cell_type`.
    pub cell_types: Option<i64>,
    /// Width of `logits`.
    pub classes: i64,
}

impl ModelShape {
    /// Errors when the data cannot be fed to the model.
    pub fn check(
        &self,
        image_size: usize,
        cell_types: usize,
        classes: u32,
    ) -> Result<(), PredictError> {
        let mut bad = Vec::new();
        if let Some(c) = self.channels.filter(|&c| c != rcic_core::CHANNELS as i64) {
            bad.push(format!(
                "the model takes {c} channels, the site tensors have {}",
                rcic_core::CHANNELS
            ));
        }
        if let Some(s) = self.image_size.filter(|&s| s != image_size as i64) {
            bad.push(format!("the model takes {s} x {s} images, the site tensors are {image_size} x {image_size} (export with --image-size {image_size}, or preprocess at {s})"));
        }
        if let Some(c) = self.cell_types.filter(|&c| c != cell_types as i64) {
            bad.push(format!(
                "the model's cell_type input has {c} cell types, the data has {cell_types}"
            ));
        }
        if self.classes < classes as i64 {
            bad.push(format!(
                "the model predicts {} classes, the data has {classes}",
                self.classes
            ));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(PredictError::Mismatch(format!(
                "model and data do not fit: {}",
                bad.join("; ")
            )))
        }
    }
}

pub trait Engine {
    /// Logits [n, classes] of images [n, 6, s, s] and cell types [n, cell types].
    fn run(
        &mut self,
        images: &[f32],
        n: usize,
        s: usize,
        cells: &[f32],
    ) -> Result<Vec<f32>, PredictError>;
    fn shape(&self) -> &ModelShape;
    /// Short description for the log.
    fn describe(&self) -> String;
}
