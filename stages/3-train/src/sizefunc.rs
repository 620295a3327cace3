//! `--pl-size-func`: the fraction of validation and test wells pseudo-labelled
//! by progress x in (0, 1], as an arithmetic expression in x (`0.6*x+0.4`).
//! A tiny parser instead of `eval`: x, numbers, + - * / ^, parentheses, unary
//! minus; nothing else. Parsed at start-up so a bad expression fails before
//! epoch 0.
//! No crate serves: expression crates (evalexpr, meval) accept far more than this grammar.

use std::fmt;
use std::str::FromStr;

use crate::error::TrainError;

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    X,
    Num(f64),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
}

/// A parsed size function.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeFunc {
    text: String,
    expr: Expr,
}

impl SizeFunc {
    pub fn eval(&self, x: f64) -> f64 {
        fn go(e: &Expr, x: f64) -> f64 {
            match e {
                Expr::X => x,
                Expr::Num(v) => *v,
                Expr::Neg(a) => -go(a, x),
                Expr::Bin(op, a, b) => {
                    let (a, b) = (go(a, x), go(b, x));
                    match op {
                        '+' => a + b,
                        '-' => a - b,
                        '*' => a * b,
                        '/' => a / b,
                        _ => a.powf(b),
                    }
                }
            }
        }
        go(&self.expr, x)
    }
}

impl fmt::Display for SizeFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.skip();
        self.s.get(self.i).copied()
    }
    fn err(&self, what: &str) -> String {
        format!("{what} at position {}", self.i + 1)
    }
    // sum := term (('+'|'-') term)*
    fn sum(&mut self) -> Result<Expr, String> {
        let mut a = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            a = Expr::Bin(op as char, Box::new(a), Box::new(self.term()?));
        }
        Ok(a)
    }
    // term := unary (('*'|'/') unary)*
    fn term(&mut self) -> Result<Expr, String> {
        let mut a = self.unary()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            a = Expr::Bin(op as char, Box::new(a), Box::new(self.unary()?));
        }
        Ok(a)
    }
    // unary := '-' unary | power
    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(b'-') {
            self.i += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.power()
    }
    // power := atom ('^' unary)?   (right associative)
    fn power(&mut self) -> Result<Expr, String> {
        let a = self.atom()?;
        if self.peek() == Some(b'^') {
            self.i += 1;
            return Ok(Expr::Bin('^', Box::new(a), Box::new(self.unary()?)));
        }
        Ok(a)
    }
    fn atom(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(b'x') => {
                self.i += 1;
                Ok(Expr::X)
            }
            Some(b'(') => {
                self.i += 1;
                let e = self.sum()?;
                if self.peek() != Some(b')') {
                    return Err(self.err("expected ')'"));
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                // exponent: 1e-3
                if self.i < self.s.len() && (self.s[self.i] == b'e' || self.s[self.i] == b'E') {
                    self.i += 1;
                    if self.i < self.s.len() && (self.s[self.i] == b'-' || self.s[self.i] == b'+') {
                        self.i += 1;
                    }
                    while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                        self.i += 1;
                    }
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                t.parse()
                    .map(Expr::Num)
                    .map_err(|_| format!("{t:?} is not a number"))
            }
            Some(c) => Err(self.err(&format!("unexpected {:?}", c as char))),
            None => Err(self.err("unexpected end")),
        }
    }
}

impl FromStr for SizeFunc {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut p = Parser {
            s: s.as_bytes(),
            i: 0,
        };
        let bad = |m: String| {
            TrainError::Flag {
            flag: "--pl-size-func",
            message: format!("{s:?}: {m}; expected an expression in x with numbers, + - * / ^ and parentheses, e.g. 0.6*x+0.4"),
        }
        };
        let expr = p.sum().map_err(bad)?;
        if p.peek().is_some() {
            return Err(bad(p.err("unexpected trailing input")));
        }
        let f = Self {
            text: s.to_string(),
            expr,
        };
        for x in [0.01, 0.5, 1.0] {
            if !f.eval(x).is_finite() {
                return Err(bad(format!("not finite at x = {x}")));
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_with_precedence() {
        let f: SizeFunc = "0.6*x+0.4".parse().unwrap();
        assert!((f.eval(0.5) - 0.7).abs() < 1e-12);
        let f: SizeFunc = "-(x - 2) ^ 2 / 4 + 1e-1".parse().unwrap();
        assert!(
            (f.eval(1.0) - (-(1.0f64) / 4.0 + 0.1)).abs() < 1e-12,
            "{}",
            f.eval(1.0)
        );
        let f: SizeFunc = "2^3^2".parse().unwrap();
        assert_eq!(f.eval(0.0), 512.0);
        let f: SizeFunc = "x*x".parse().unwrap();
        assert_eq!(f.eval(0.5), 0.25);
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "0.6*y",
            "__import__('os')",
            "x+",
            "(x",
            "x)",
            "1/(x-x)",
            "sin(x)",
            "x x",
        ] {
            let e = bad.parse::<SizeFunc>().unwrap_err().to_string();
            assert!(e.starts_with("--pl-size-func"), "{bad}: {e}");
        }
    }
}
