//! How a stage binary ends on an error: one line `error: ...` on stderr, the
//! error and its causes joined with `: `, each thing said once, then exit
//! status 1. Library errors often repeat their source in their own text
//! (`path: No such file (os error 2)` caused by `No such file (os error
//! 2)`), and a context naming a path is often followed by a cause starting
//! with the same path; printing the plain chain would say those twice.

use std::error::Error;

/// Runs a stage's `run` and ends the process with the error's one-line
/// message and status 1 when it fails.
pub fn main(run: impl FnOnce() -> anyhow::Result<()>) {
    if let Err(e) = run() {
        eprintln!("error: {}", error_chain(e.as_ref()));
        std::process::exit(1);
    }
}

/// `e` and its causes, joined with `: `, without a cause the text already
/// ends with, and without a leading part of a cause (up to a `: `) that
/// the text already ends with.
pub fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let m = c.to_string();
        cause = c.source();
        if m.is_empty() || out.ends_with(&m) {
            continue;
        }
        // The longest `head` of m, ending before a ": ", that `out` ends with.
        let mut rest = m.as_str();
        for (i, _) in m.match_indices(": ").collect::<Vec<_>>().into_iter().rev() {
            if out.ends_with(&m[..i]) {
                rest = &m[i + 2..];
                break;
            }
        }
        if rest.is_empty() || out.ends_with(rest) {
            continue;
        }
        out.push_str(": ");
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(String, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl Error for E {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }
    fn chain(parts: &[&str]) -> E {
        parts
            .iter()
            .rev()
            .fold(None, |src, p| Some(E(p.to_string(), src.map(Box::new))))
            .unwrap()
    }

    #[test]
    fn says_every_part_once() {
        let io = "No such file or directory (os error 2)";
        let e = chain(&["reading checkpoint /a/b", &format!("/a/b: {io}"), io]);
        assert_eq!(error_chain(&e), format!("reading checkpoint /a/b: {io}"));
        let e = chain(&[
            "--model /m.onnx",
            "/m.onnx: ONNX Runtime cannot load the model: gone",
        ]);
        assert_eq!(
            error_chain(&e),
            "--model /m.onnx: ONNX Runtime cannot load the model: gone"
        );
        let e = chain(&["a", "b: c", "d"]);
        assert_eq!(error_chain(&e), "a: b: c: d");
        let e = chain(&[
            "--load",
            "ck/m: No such file (os error 2)",
            "No such file (os error 2)",
        ]);
        assert_eq!(error_chain(&e), "--load: ck/m: No such file (os error 2)");
    }

    #[test]
    fn anyhow_contexts_are_causes() {
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_chain(e.as_ref()), "outer: inner");
    }
}
