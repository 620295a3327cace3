//! The one timestamp format of every stage's log (`YYYY-MM-DDTHH:MM:SSZ`,
//! UTC): RFC 3339 from the `time` crate, to the second.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn timestamp() -> String {
    let now = OffsetDateTime::now_utc();
    format_unix(now.unix_timestamp())
}

/// A Unix time in seconds as `YYYY-MM-DDTHH:MM:SSZ` (years 0000-9999; a
/// time outside them is written as its seconds since the epoch).
pub fn format_unix(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{secs}s since 1970-01-01T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_dates() {
        assert_eq!(super::format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::format_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::format_unix(1_795_874_399), "2026-11-28T13:59:59Z");
        assert_eq!(super::format_unix(-1), "1969-12-31T23:59:59Z");
        assert_eq!(super::format_unix(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn now_has_the_shape() {
        let t = super::timestamp();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
