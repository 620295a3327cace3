//! A graph builder: one method per ONNX operator the export stage uses
//! (opset 17 semantics), each adding a node with a fresh output name and
//! returning that name, so that a network is written as straight-line code.
//! No crate serves: Rust's ONNX crates (tract, ort, candle-onnx) read models, none writes one.

use crate::graph::{Attribute, DataType, Graph, Node, Tensor, ValueInfo};

/// Builds a [`Graph`] node by node.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    pub graph: Graph,
    counter: usize,
}

impl GraphBuilder {
    pub fn new(name: &str) -> Self {
        Self {
            graph: Graph {
                name: name.into(),
                ..Default::default()
            },
            counter: 0,
        }
    }

    pub fn input(
        &mut self,
        name: &str,
        data_type: DataType,
        shape: Vec<Result<i64, String>>,
    ) -> String {
        self.graph.inputs.push(ValueInfo {
            name: name.into(),
            data_type,
            shape,
        });
        name.into()
    }

    /// Marks `value` as the graph output `name` (adding an Identity when they differ).
    pub fn output(
        &mut self,
        value: &str,
        name: &str,
        data_type: DataType,
        shape: Vec<Result<i64, String>>,
    ) {
        if value != name {
            self.graph
                .nodes
                .push(Node::new("Identity", name, &[value], &[name]));
        }
        self.graph.outputs.push(ValueInfo {
            name: name.into(),
            data_type,
            shape,
        });
    }

    /// Adds an initializer and returns its name.
    pub fn constant(&mut self, t: Tensor) -> String {
        let name = t.name.clone();
        self.graph.initializers.push(t);
        name
    }

    pub fn const_i64(&mut self, hint: &str, values: &[i64]) -> String {
        let name = self.fresh(hint);
        self.constant(Tensor::i64(&name, &[values.len() as i64], values))
    }

    /// A fresh value name derived from `hint`.
    pub fn fresh(&mut self, hint: &str) -> String {
        self.counter += 1;
        format!("{hint}_{}", self.counter)
    }

    /// Adds a node of `op` with one output, returns the output's name.
    pub fn op(
        &mut self,
        op: &str,
        hint: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attribute)>,
    ) -> String {
        let out = self.fresh(hint);
        let mut n = Node::new(op, &out, inputs, &[&out]);
        for (k, a) in attrs {
            n = n.attr(k, a);
        }
        self.graph.nodes.push(n);
        out
    }

    /// Conv with square kernel/stride/padding; `bias` optional.
    pub fn conv(
        &mut self,
        hint: &str,
        x: &str,
        w: &str,
        bias: Option<&str>,
        kernel: i64,
        stride: i64,
        pad: i64,
        groups: i64,
    ) -> String {
        let mut inputs = vec![x, w];
        inputs.extend(bias);
        self.op(
            "Conv",
            hint,
            &inputs,
            vec![
                ("kernel_shape", Attribute::Ints(vec![kernel, kernel])),
                ("strides", Attribute::Ints(vec![stride, stride])),
                ("pads", Attribute::Ints(vec![pad, pad, pad, pad])),
                ("group", Attribute::Int(groups)),
            ],
        )
    }

    /// Inference-mode BatchNormalization over dim 1 (2-d or 4-d input).
    pub fn batch_norm(
        &mut self,
        hint: &str,
        x: &str,
        scale: &str,
        bias: &str,
        mean: &str,
        var: &str,
        eps: f32,
    ) -> String {
        self.op(
            "BatchNormalization",
            hint,
            &[x, scale, bias, mean, var],
            vec![("epsilon", Attribute::Float(eps))],
        )
    }

    pub fn relu(&mut self, x: &str) -> String {
        self.op("Relu", "relu", &[x], vec![])
    }

    pub fn max_pool(&mut self, x: &str, kernel: i64, stride: i64, pad: i64) -> String {
        self.op(
            "MaxPool",
            "maxpool",
            &[x],
            vec![
                ("kernel_shape", Attribute::Ints(vec![kernel, kernel])),
                ("strides", Attribute::Ints(vec![stride, stride])),
                ("pads", Attribute::Ints(vec![pad, pad, pad, pad])),
            ],
        )
    }

    /// AveragePool without padding (so count_include_pad does not matter), floor mode.
    pub fn avg_pool(&mut self, x: &str, kernel: i64, stride: i64) -> String {
        self.op(
            "AveragePool",
            "avgpool",
            &[x],
            vec![
                ("kernel_shape", Attribute::Ints(vec![kernel, kernel])),
                ("strides", Attribute::Ints(vec![stride, stride])),
            ],
        )
    }

    pub fn global_avg_pool(&mut self, x: &str) -> String {
        self.op("GlobalAveragePool", "gap", &[x], vec![])
    }

    pub fn flatten(&mut self, x: &str, axis: i64) -> String {
        self.op(
            "Flatten",
            "flatten",
            &[x],
            vec![("axis", Attribute::Int(axis))],
        )
    }

    pub fn concat(&mut self, xs: &[&str], axis: i64) -> String {
        if xs.len() == 1 {
            return xs[0].to_string();
        }
        self.op("Concat", "concat", xs, vec![("axis", Attribute::Int(axis))])
    }

    /// y = x @ w^T (+ b): Gemm with transB = 1 (the PyTorch Linear layout).
    pub fn linear(&mut self, hint: &str, x: &str, w: &str, b: Option<&str>) -> String {
        let mut inputs = vec![x, w];
        inputs.extend(b);
        self.op("Gemm", hint, &inputs, vec![("transB", Attribute::Int(1))])
    }

    pub fn add(&mut self, a: &str, b: &str) -> String {
        self.op("Add", "add", &[a, b], vec![])
    }

    pub fn cast(&mut self, x: &str, to: DataType) -> String {
        self.op(
            "Cast",
            "cast",
            &[x],
            vec![("to", Attribute::Int(to as i64))],
        )
    }

    pub fn transpose(&mut self, x: &str, perm: &[i64]) -> String {
        self.op(
            "Transpose",
            "transpose",
            &[x],
            vec![("perm", Attribute::Ints(perm.to_vec()))],
        )
    }

    /// Gather along `axis` with constant int64 indices.
    pub fn gather(&mut self, x: &str, indices: &[i64], axis: i64) -> String {
        let idx = self.const_i64("idx", indices);
        self.op(
            "Gather",
            "gather",
            &[x, &idx],
            vec![("axis", Attribute::Int(axis))],
        )
    }

    /// Slice with constant starts/ends/axes/steps.
    pub fn slice(
        &mut self,
        x: &str,
        starts: &[i64],
        ends: &[i64],
        axes: &[i64],
        steps: &[i64],
    ) -> String {
        let s = self.const_i64("starts", starts);
        let e = self.const_i64("ends", ends);
        let a = self.const_i64("axes", axes);
        let st = self.const_i64("steps", steps);
        self.op("Slice", "slice", &[x, &s, &e, &a, &st], vec![])
    }

    pub fn reshape(&mut self, x: &str, shape: &[i64]) -> String {
        let s = self.const_i64("shape", shape);
        self.op("Reshape", "reshape", &[x, &s], vec![])
    }

    /// ReduceMean over constant axes (an attribute in opset 17).
    pub fn reduce_mean(&mut self, x: &str, axes: &[i64], keepdims: bool) -> String {
        self.op(
            "ReduceMean",
            "mean",
            &[x],
            vec![
                ("axes", Attribute::Ints(axes.to_vec())),
                ("keepdims", Attribute::Int(keepdims as i64)),
            ],
        )
    }

    pub fn finish(self) -> Graph {
        self.graph
    }
}
