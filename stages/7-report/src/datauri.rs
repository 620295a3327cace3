//! `data:` URIs that embed images in the HTML page: standard, padded base64
//! (RFC 4648) from the `base64` crate.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Standard padded base64 of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// `data:<mime>;base64,...`
pub fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn every_byte_value_and_the_uri() {
        assert_eq!(encode(&[0xff, 0xfe, 0x00]), "//4A");
        assert_eq!(encode(&[0xfb]), "+w==");
        assert_eq!(data_uri("image/png", b"foo"), "data:image/png;base64,Zm9v");
    }
}
