//! The protobuf wire format, as much of it as ONNX needs: varints,
//! length-delimited fields, fixed32 floats, packed repeated integers.
//! No crate serves: Rust's ONNX bindings need protobuf code generation, far more than this.

/// Appends protobuf fields to a byte buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

const VARINT: u32 = 0;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u32) {
        self.varint(((field << 3) | wire) as u64);
    }

    /// An int32/int64/enum field (negative values as 10-byte varints).
    pub fn int(&mut self, field: u32, v: i64) {
        self.tag(field, VARINT);
        self.varint(v as u64);
    }

    pub fn float(&mut self, field: u32, v: f32) {
        self.tag(field, FIXED32);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, LEN);
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub fn string(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }

    /// An embedded message.
    pub fn message(&mut self, field: u32, m: &Writer) {
        self.bytes(field, &m.buf);
    }

    /// A packed repeated int64 field.
    pub fn packed_ints(&mut self, field: u32, vs: &[i64]) {
        let mut inner = Writer::new();
        for &v in vs {
            inner.varint(v as u64);
        }
        self.bytes(field, &inner.buf);
    }

    /// A packed repeated float field.
    pub fn packed_floats(&mut self, field: u32, vs: &[f32]) {
        let bytes: Vec<u8> = vs.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.bytes(field, &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_protobuf() {
        let mut w = Writer::new();
        w.int(1, 150);
        assert_eq!(w.buf, [0x08, 0x96, 0x01]);
        let mut w = Writer::new();
        w.string(2, "testing");
        assert_eq!(
            w.buf,
            [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']
        );
        let mut w = Writer::new();
        w.packed_ints(4, &[3, 270, 86942]);
        assert_eq!(w.buf, [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
        let mut w = Writer::new();
        w.int(1, -1);
        assert_eq!(w.buf.len(), 11);
    }
}
