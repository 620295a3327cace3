//! Reading one channel image: header checks (8-bit grayscale, size) and full
//! decoding straight into the site buffer, with messages that say what was
//! expected.

use std::io::{BufReader, Cursor};
use std::path::Path;

use image::codecs::png::PngDecoder;
use image::{ColorType, ImageDecoder};

/// What a PNG header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    pub color: ColorType,
}

fn describe(c: ColorType) -> String {
    let kind = match c {
        ColorType::L8 => "8-bit grayscale",
        ColorType::L16 => "16-bit grayscale",
        ColorType::La8 => "8-bit grayscale with alpha",
        ColorType::La16 => "16-bit grayscale with alpha",
        ColorType::Rgb8 => "8-bit RGB",
        ColorType::Rgba8 => "8-bit RGBA",
        ColorType::Rgb16 => "16-bit RGB",
        ColorType::Rgba16 => "16-bit RGBA",
        _ => return format!("{c:?}"),
    };
    kind.to_string()
}

/// Checks the colour type; the error names what was found.
pub fn check_color(h: &Header) -> Result<(), String> {
    if h.color == ColorType::L8 {
        Ok(())
    } else {
        Err(format!(
            "{} PNG; expected 8-bit grayscale",
            describe(h.color)
        ))
    }
}

/// Reads only the header (a few hundred bytes).
pub fn read_header(path: &Path) -> Result<Header, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("missing (listed in the CSVs)".into())
        }
        Err(e) => return Err(format!("cannot open: {e}")),
    };
    let d = PngDecoder::new(BufReader::with_capacity(4096, f))
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    let (width, height) = d.dimensions();
    Ok(Header {
        width,
        height,
        color: d.color_type(),
    })
}

fn read_error(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        "missing (listed in the CSVs)".to_string()
    } else {
        format!("cannot read: {e}")
    }
}

/// Reads a whole PNG file (the decoder then works from memory).
pub fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(read_error)
}

/// Reads a whole PNG file into `buf` (replacing what it held), so that a
/// thread reading many files reuses one buffer.
pub fn read_file_into(path: &Path, buf: &mut Vec<u8>) -> Result<(), String> {
    use std::io::Read;
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map(|_| ())
        .map_err(read_error)
}

/// Decodes the bytes of an 8-bit grayscale PNG of `size` x `size` into
/// `out` (`size*size` bytes): by the fast path ([`crate::fastpng`]) when it
/// takes the file, else straight from the `png` crate's rows.
pub fn decode_bytes(bytes: &[u8], size: u32, out: &mut [u8]) -> Result<(), String> {
    if crate::fastpng::decode(bytes, size, out).is_ok() {
        return Ok(());
    }
    let d = PngDecoder::new(Cursor::new(bytes)).map_err(|e| format!("not a readable PNG: {e}"))?;
    let (width, height) = d.dimensions();
    let h = Header {
        width,
        height,
        color: d.color_type(),
    };
    check_color(&h)?;
    if (width, height) != (size, size) {
        return Err(format!(
            "{width}x{height} pixels; expected {size}x{size} like its siblings"
        ));
    }
    d.read_image(out)
        .map_err(|e| format!("corrupt PNG, cannot decode: {e}"))
}

/// Reads and decodes an 8-bit grayscale PNG of `size` x `size` into `out`
/// (`size*size` bytes).
pub fn decode_into(path: &Path, size: u32, out: &mut [u8]) -> Result<(), String> {
    decode_bytes(&read_file(path)?, size, out)
}
