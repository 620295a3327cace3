//! libtorch engine (`--engine tch --load CKPT`): the checkpoint's network
//! (architecture from its `rcic.model` metadata) in eval mode, on the CPU or
//! CUDA (with autocast under `--fp16`). Same inputs and outputs as the ONNX
//! model, so both engines feed the same pipeline.

use std::path::Path;

use rcic_model::checkpoint::{load_into, Strictness};
use rcic_model::{Checkpoint, Network};
use tch::{Device, Kind, Tensor};

use crate::engine::{Engine, ModelShape};
use crate::error::PredictError;
use crate::model_info::TrainedWith;

pub struct TchEngine {
    _vs: tch::nn::VarStore,
    net: Network,
    device: Device,
    autocast: bool,
    shape: ModelShape,
    pub trained_with: TrainedWith,
    desc: String,
}

impl TchEngine {
    pub fn open(
        ckpt_path: &Path,
        device: Device,
        fp16: bool,
        threads: usize,
    ) -> Result<Self, PredictError> {
        tch::set_num_threads(threads.max(1) as i32);
        let ckpt = Checkpoint::read(ckpt_path)?;
        let config = ckpt.config.clone().ok_or_else(|| PredictError::File {
            path: ckpt_path.to_path_buf(),
            message:
                "no rcic.model metadata (architecture); --engine tch needs one of our checkpoints"
                    .into(),
        })?;
        let vs = tch::nn::VarStore::new(device);
        let net = Network::new(&vs, &config)?;
        load_into(&vs, &ckpt.tensors, ckpt_path, Strictness::IgnoreExtra)?;
        let shape = ModelShape {
            channels: Some(rcic_core::CHANNELS as i64),
            image_size: None,
            cell_types: Some(config.cell_types),
            classes: config.classes,
        };
        let autocast = fp16 && device.is_cuda();
        let desc = format!(
            "libtorch {device:?}{}, backbone {}",
            if autocast { " autocast fp16" } else { "" },
            config.backbone
        );
        Ok(Self {
            _vs: vs,
            net,
            device,
            autocast,
            shape,
            trained_with: TrainedWith::from_json(
                ckpt.metadata.get("rcic.train").map(String::as_str),
            ),
            desc,
        })
    }
}

impl Engine for TchEngine {
    fn run(
        &mut self,
        images: &[f32],
        n: usize,
        s: usize,
        cells: &[f32],
    ) -> Result<Vec<f32>, PredictError> {
        let x = Tensor::from_slice(images)
            .view([n as i64, rcic_core::CHANNELS as i64, s as i64, s as i64])
            .to_device(self.device);
        let c = Tensor::from_slice(cells)
            .view([n as i64, -1])
            .to_device(self.device);
        let y = tch::no_grad(|| {
            tch::autocast(self.autocast, || self.net.forward_t(&x, &c, false).logits)
        });
        let y = y
            .to_kind(Kind::Float)
            .to_device(Device::Cpu)
            .contiguous()
            .flatten(0, -1);
        Ok(Vec::<f32>::try_from(&y)?)
    }

    fn shape(&self) -> &ModelShape {
        &self.shape
    }

    fn describe(&self) -> String {
        self.desc.clone()
    }
}
