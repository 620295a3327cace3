//! rcic-onnx: builds ONNX models and encodes them in protobuf's wire format
//! without a code generator or a protobuf dependency. libtorch has no ONNX
//! exporter, so the export stage describes the network here, node by node.

pub mod builder;
pub mod graph;
pub mod wire;

pub use builder::GraphBuilder;
pub use graph::{Attribute, DataType, Graph, Model, Node, Tensor, ValueInfo};
