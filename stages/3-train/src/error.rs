//! The train library's errors: a bad flag names the flag and what was
//! expected; data problems name the experiment or file. Also the one-line
//! rendering of an error chain the binary prints, each cause said once.

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{flag} {message}")]
    Flag { flag: &'static str, message: String },
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Core(#[from] rcic_core::CoreError),
    #[error(transparent)]
    Model(#[from] rcic_model::ModelError),
}

/// An error's messages, outermost first, joined by ": ". A cause whose text
/// the line already ends with is left out: errors that print their source
/// inside their own message (`path: what: source`) and also report it as
/// the source would otherwise say it twice.
pub fn chain_message<I, S>(messages: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut line = String::new();
    for m in messages {
        let m = m.as_ref();
        if line.is_empty() {
            line.push_str(m);
        } else if !line.ends_with(m) {
            line.push_str(": ");
            line.push_str(m);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_say_each_cause_once() {
        assert_eq!(
            chain_message([
                "--load",
                "ck/m: No such file or directory (os error 2)",
                "No such file or directory (os error 2)",
            ]),
            "--load: ck/m: No such file or directory (os error 2)"
        );
        assert_eq!(chain_message(["a", "b", "c"]), "a: b: c");
        assert_eq!(chain_message(Vec::<String>::new()), "");
    }
}
