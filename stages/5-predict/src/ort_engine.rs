//! ONNX Runtime engine. The library is loaded at run time (ORT_DYLIB_PATH,
//! else the project venv's `libonnxruntime` found at build time). CPU: the
//! CPU execution provider with `threads` intra-op threads. CUDA: the CUDA
//! execution provider (cuDNN convolution algorithm search `heuristic`, not
//! exhaustive), registered with error-on-failure, and IO binding with the
//! logits bound to host memory; when the loaded runtime has no CUDA
//! provider the error says so (no silent CPU fallback). Bound inputs are
//! tensors this engine owns, reused while the batch shape stays the same:
//! ort clones borrowed views when binding them, under a lock that its own
//! clone takes again (a deadlock when the devices match).

use std::path::{Path, PathBuf};

use ort::ep::ExecutionProvider;
use ort::session::Session;
use ort::value::{Tensor, TensorRef};

use crate::engine::{Engine, ModelShape};
use crate::error::PredictError;
use crate::model_info::ModelMeta;

/// Where libonnxruntime is: ORT_DYLIB_PATH, else the venv's found at build time.
pub fn dylib_path() -> Result<PathBuf, PredictError> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.exists() {
            Ok(p)
        } else {
            Err(PredictError::OrtSetup(format!(
                "ORT_DYLIB_PATH={} does not exist",
                p.display()
            )))
        };
    }
    match option_env!("RCIC_ORT_DEFAULT") {
        Some(p) if Path::new(p).exists() => Ok(PathBuf::from(p)),
        _ => Err(PredictError::OrtSetup("libonnxruntime not found: set ORT_DYLIB_PATH or run `make deps` (the venv's onnxruntime)".into())),
    }
}

fn environment() -> Result<&'static ort::environment::Environment, PredictError> {
    static ENV: std::sync::OnceLock<Result<ort::environment::Environment, String>> =
        std::sync::OnceLock::new();
    let r = ENV.get_or_init(|| {
        let path = dylib_path().map_err(|e| e.to_string())?;
        let b =
            ort::init_from(&path).map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        b.with_name("rcic-predict")
            .build()
            .map_err(|e| e.to_string())
    });
    r.as_ref().map_err(|e| PredictError::OrtSetup(e.clone()))
}

/// Whether the loaded ONNX Runtime has the CUDA execution provider (the
/// library loads; no GPU work). An error says what to install.
pub fn check_cuda() -> Result<PathBuf, PredictError> {
    environment()?;
    let path = dylib_path()?;
    if ort::ep::CUDA::is_available().unwrap_or(false) {
        Ok(path)
    } else {
        Err(PredictError::OrtSetup(format!(
            "--device cuda: the CUDA execution provider is not available in the loaded ONNX Runtime ({}); install onnxruntime-gpu (make deps CUDA=1) and point ORT_DYLIB_PATH at its libonnxruntime, or use --engine tch on GPU machines",
            path.display()
        )))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrtDevice {
    Cpu,
    Cuda,
}

pub struct OrtEngine {
    session: Session,
    shape: ModelShape,
    binding: Option<ort::session::IoBinding>,
    /// The bound inputs (image, cell_type) of the last batch shape.
    bound_inputs: Option<(Tensor<f32>, Tensor<f32>)>,
    pub meta: ModelMeta,
    desc: String,
}

fn dim(d: Option<&i64>) -> Option<i64> {
    d.copied().filter(|&v| v > 0)
}

impl OrtEngine {
    pub fn open(model: &Path, device: OrtDevice, threads: usize) -> Result<Self, PredictError> {
        let env = environment()?;
        let mut b = Session::builder(env)?
            .with_intra_threads(threads.max(1))
            .map_err(ort::Error::from)?;
        if device == OrtDevice::Cuda {
            let cuda = ort::ep::CUDA::default()
                .with_conv_algorithm_search(ort::ep::cuda::ConvAlgorithmSearch::Heuristic);
            check_cuda()?;
            b = b
                .with_execution_providers([cuda.build().error_on_failure()])
                .map_err(|e| PredictError::OrtIn {
                    context: "--device cuda: cannot register the CUDA execution provider".into(),
                    cause: ort::Error::from(e),
                })?;
        }
        let session = b
            .commit_from_file(model)
            .map_err(|cause| PredictError::OrtIn {
                context: format!("{}: ONNX Runtime cannot load the model", model.display()),
                cause,
            })?;
        let find = |outlets: &[ort::value::Outlet], name: &str| -> Result<Vec<i64>, PredictError> {
            let o = outlets.iter().find(|o| o.name() == name).ok_or_else(|| {
                PredictError::Mismatch(format!(
                    "{}: no {name:?} in the model's inputs/outputs ({}); expected a model written by rcic-export",
                    model.display(),
                    outlets.iter().map(|o| o.name().to_string()).collect::<Vec<_>>().join(", ")
                ))
            })?;
            Ok(o.dtype()
                .tensor_shape()
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default())
        };
        let image = find(session.inputs(), "image")?;
        let cell = find(session.inputs(), "cell_type")?;
        let logits = find(session.outputs(), "logits")?;
        let meta_api = session.metadata()?;
        let mut meta = ModelMeta::default();
        for k in meta_api.custom_keys().unwrap_or_default() {
            if let Some(v) = meta_api.custom(&k) {
                meta.props.insert(k, v);
            }
        }
        drop(meta_api);
        let classes = dim(logits.get(1))
            .or_else(|| meta.props.get("rcic.classes").and_then(|s| s.parse().ok()))
            .ok_or_else(|| {
                PredictError::Mismatch(format!(
                    "{}: the logits width is not fixed and rcic.classes is absent",
                    model.display()
                ))
            })?;
        let (h, w) = (dim(image.get(2)), dim(image.get(3)));
        if h != w {
            return Err(PredictError::Mismatch(format!(
                "{}: the model takes {h:?} x {w:?} images; site tensors are square",
                model.display()
            )));
        }
        let shape = ModelShape {
            channels: dim(image.get(1)),
            image_size: h,
            cell_types: dim(cell.get(1)),
            classes,
        };
        let desc = format!(
            "ONNX Runtime {} ({}), {}, TTA inside: {}",
            if device == OrtDevice::Cuda {
                "CUDA"
            } else {
                "CPU"
            },
            dylib_path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            meta.props
                .get("rcic.precision")
                .cloned()
                .unwrap_or_else(|| "fp32".into()),
            meta.tta_inside()
        );
        let binding = if device == OrtDevice::Cuda {
            Some(session.create_binding()?)
        } else {
            None
        };
        Ok(Self {
            session,
            shape,
            binding,
            bound_inputs: None,
            meta,
            desc,
        })
    }

    /// Runs through IO binding (inputs bound per batch, logits bound to host
    /// memory), as CUDA sessions always do; on the CPU this exercises the
    /// same binding code that the CUDA path runs.
    pub fn with_io_binding(mut self) -> Result<Self, PredictError> {
        if self.binding.is_none() {
            self.binding = Some(self.session.create_binding()?);
        }
        Ok(self)
    }

    /// Whether batches go through IO binding.
    pub fn io_binding(&self) -> bool {
        self.binding.is_some()
    }
}

impl Engine for OrtEngine {
    fn run(
        &mut self,
        images: &[f32],
        n: usize,
        s: usize,
        cells: &[f32],
    ) -> Result<Vec<f32>, PredictError> {
        let ct = cells.len() / n.max(1);
        let x_shape = [n, rcic_core::CHANNELS, s, s];
        let out = match self.binding.as_mut() {
            Some(binding) => {
                let fits = |t: &Tensor<f32>, shape: &[usize]| {
                    t.shape()
                        .iter()
                        .map(|&d| d as usize)
                        .eq(shape.iter().copied())
                };
                let (x, c) = match self.bound_inputs.take() {
                    Some((x, c)) if fits(&x, &x_shape) && fits(&c, &[n, ct]) => (x, c),
                    _ => {
                        let host = ort::memory::Allocator::default();
                        (Tensor::new(&host, x_shape)?, Tensor::new(&host, [n, ct])?)
                    }
                };
                let (mut x, mut c) = (x, c);
                x.extract_tensor_mut().1.copy_from_slice(images);
                c.extract_tensor_mut().1.copy_from_slice(cells);
                binding.bind_input("image", &x)?;
                binding.bind_input("cell_type", &c)?;
                self.bound_inputs = Some((x, c));
                let host = ort::memory::MemoryInfo::new(
                    ort::memory::AllocationDevice::CPU,
                    0,
                    ort::memory::AllocatorType::Device,
                    ort::memory::MemoryType::CPUOutput,
                )?;
                binding.bind_output_to_device("logits", &host)?;
                let outs = self.session.run_binding(binding)?;
                let (_, y) = outs["logits"].try_extract_tensor::<f32>()?;
                y.to_vec()
            }
            None => {
                let x = TensorRef::from_array_view((x_shape, images))?;
                let c = TensorRef::from_array_view(([n, ct], cells))?;
                let outs = self
                    .session
                    .run(ort::inputs!["image" => x, "cell_type" => c])?;
                let (_, y) = outs["logits"].try_extract_tensor::<f32>()?;
                y.to_vec()
            }
        };
        if out.len() != n * self.shape.classes as usize {
            return Err(PredictError::OrtSetup(format!(
                "logits of {} values for {n} sites x {} classes",
                out.len(),
                self.shape.classes
            )));
        }
        Ok(out)
    }

    fn shape(&self) -> &ModelShape {
        &self.shape
    }

    fn describe(&self) -> String {
        self.desc.clone()
    }
}
