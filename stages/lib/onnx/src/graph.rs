//! ONNX's model structure (ModelProto, GraphProto, NodeProto, TensorProto,
//! ValueInfoProto, AttributeProto) as plain Rust values, with the field
//! numbers of onnx.proto3 in `encode`.

use crate::wire::Writer;

/// ONNX tensor element types (TensorProto.DataType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Float = 1,
    Uint8 = 2,
    Int32 = 6,
    Int64 = 7,
    Float16 = 10,
}

/// A constant tensor (an initializer or a tensor attribute), raw little-endian.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub dims: Vec<i64>,
    pub data_type: DataType,
    pub raw: Vec<u8>,
}

impl Tensor {
    pub fn f32(name: &str, dims: &[i64], values: &[f32]) -> Self {
        assert_eq!(
            dims.iter().product::<i64>() as usize,
            values.len(),
            "tensor {name}: dims and values disagree"
        );
        Self {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Float,
            raw: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    pub fn i64(name: &str, dims: &[i64], values: &[i64]) -> Self {
        assert_eq!(
            dims.iter().product::<i64>() as usize,
            values.len(),
            "tensor {name}: dims and values disagree"
        );
        Self {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Int64,
            raw: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// A tensor from little-endian bytes of `data_type` (e.g. float16 weights).
    pub fn raw(name: &str, dims: &[i64], data_type: DataType, raw: Vec<u8>) -> Self {
        let size = match data_type {
            DataType::Float | DataType::Int32 => 4,
            DataType::Int64 => 8,
            DataType::Float16 => 2,
            DataType::Uint8 => 1,
        };
        assert_eq!(
            dims.iter().product::<i64>() as usize * size,
            raw.len(),
            "tensor {name}: dims and bytes disagree"
        );
        Self {
            name: name.into(),
            dims: dims.to_vec(),
            data_type,
            raw,
        }
    }

    fn encode(&self) -> Writer {
        let mut w = Writer::new();
        w.packed_ints(1, &self.dims);
        w.int(2, self.data_type as i64);
        w.string(8, &self.name);
        w.bytes(9, &self.raw);
        w
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    Float(f32),
    Int(i64),
    String(String),
    Tensor(Tensor),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
}

impl Attribute {
    fn encode(&self, name: &str) -> Writer {
        let mut w = Writer::new();
        w.string(1, name);
        // AttributeProto.type: FLOAT=1, INT=2, STRING=3, TENSOR=4, FLOATS=6, INTS=7.
        match self {
            Attribute::Float(f) => {
                w.float(2, *f);
                w.int(20, 1);
            }
            Attribute::Int(i) => {
                w.int(3, *i);
                w.int(20, 2);
            }
            Attribute::String(s) => {
                w.string(4, s);
                w.int(20, 3);
            }
            Attribute::Tensor(t) => {
                w.message(5, &t.encode());
                w.int(20, 4);
            }
            Attribute::Floats(fs) => {
                w.packed_floats(7, fs);
                w.int(20, 6);
            }
            Attribute::Ints(is) => {
                w.packed_ints(8, is);
                w.int(20, 7);
            }
        }
        w
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub op_type: String,
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<(String, Attribute)>,
}

impl Node {
    pub fn new(op_type: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> Self {
        Self {
            op_type: op_type.into(),
            name: name.into(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: outputs.iter().map(|s| s.to_string()).collect(),
            attributes: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &str, a: Attribute) -> Self {
        self.attributes.push((name.into(), a));
        self
    }

    fn encode(&self) -> Writer {
        let mut w = Writer::new();
        for i in &self.inputs {
            w.string(1, i);
        }
        for o in &self.outputs {
            w.string(2, o);
        }
        w.string(3, &self.name);
        w.string(4, &self.op_type);
        for (n, a) in &self.attributes {
            w.message(5, &a.encode(n));
        }
        w
    }
}

/// A graph input or output: name, element type, shape (None = symbolic
/// dimension named by the string).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueInfo {
    pub name: String,
    pub data_type: DataType,
    pub shape: Vec<Result<i64, String>>,
}

impl ValueInfo {
    fn encode(&self) -> Writer {
        let mut shape = Writer::new();
        for d in &self.shape {
            let mut dim = Writer::new();
            match d {
                Ok(v) => dim.int(1, *v),
                Err(p) => dim.string(2, p),
            }
            shape.message(1, &dim);
        }
        let mut tensor = Writer::new();
        tensor.int(1, self.data_type as i64);
        tensor.message(2, &shape);
        let mut ty = Writer::new();
        ty.message(1, &tensor);
        let mut w = Writer::new();
        w.string(1, &self.name);
        w.message(2, &ty);
        w
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub name: String,
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
}

impl Graph {
    fn encode(&self) -> Writer {
        let mut w = Writer::new();
        for n in &self.nodes {
            w.message(1, &n.encode());
        }
        w.string(2, &self.name);
        for t in &self.initializers {
            w.message(5, &t.encode());
        }
        for i in &self.inputs {
            w.message(11, &i.encode());
        }
        for o in &self.outputs {
            w.message(12, &o.encode());
        }
        w
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub graph: Graph,
    /// Default-domain opset version.
    pub opset: i64,
    pub producer: String,
    /// metadata_props (key, value): e.g. the checkpoint key, TTA in graph.
    pub metadata: Vec<(String, String)>,
}

impl Model {
    pub fn new(graph: Graph) -> Self {
        Self {
            graph,
            opset: 17,
            producer: format!("rcic {}", env!("CARGO_PKG_VERSION")),
            metadata: Vec::new(),
        }
    }

    /// The serialised ModelProto.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.int(1, 8); // ir_version 8 (opset 17 era)
        w.string(2, &self.producer);
        w.message(7, &self.graph.encode());
        let mut opset = Writer::new();
        opset.string(1, "");
        opset.int(2, self.opset);
        w.message(8, &opset);
        for (k, v) in &self.metadata {
            let mut e = Writer::new();
            e.string(1, k);
            e.string(2, v);
            w.message(14, &e);
        }
        w.buf
    }
}
