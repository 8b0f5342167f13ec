//! A small expression language for objectives and constraints typed on the
//! command line (`optimize --objective ... --eq ... --ineq ...`): parsing,
//! evaluation, and exact gradients by forward-mode dual numbers.
//!
//! Syntax: numbers (`2`, `0.5`, `1e-3`), variables `x0`, `x1`, ... (also
//! written `x[0]`, `x[1]`, ...), the constant `pi`, `+ - * /`, `^` (also
//! `**`, right-associative, binding tighter than unary minus: `-x0^2` is
//! `-(x0^2)`), parentheses, and the functions `sin cos tan exp ln sqrt abs`.
//!
//! Written by hand rather than taken from a crate (exmex, the one with
//! derivatives, was checked): exmex orders variables alphabetically, so `x10`
//! would come before `x2`; it has no `x[i]` form; and its parse errors carry
//! no column, which a one-line CLI error must name. The language is ~200
//! lines of recursive descent; the gradient is exact (forward mode carries
//! `(value, gradient)` through every node), checked against central
//! differences in the tests.

use std::fmt;

/// A parsed expression in the variables `x0 .. x{n-1}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    root: Node,
    n_vars: usize,
}

/// Why an expression did not parse: the 1-based column (in characters) and
/// what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// 1-based column, in characters, of the offending token.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Ln,
    Sqrt,
    Abs,
}

impl Func {
    fn by_name(s: &str) -> Option<Func> {
        Some(match s {
            "sin" => Func::Sin,
            "cos" => Func::Cos,
            "tan" => Func::Tan,
            "exp" => Func::Exp,
            "ln" => Func::Ln,
            "sqrt" => Func::Sqrt,
            "abs" => Func::Abs,
            _ => return None,
        })
    }

    /// The function's value and derivative at `a`.
    fn apply(self, a: f64) -> (f64, f64) {
        match self {
            Func::Sin => (a.sin(), a.cos()),
            Func::Cos => (a.cos(), -a.sin()),
            // d tan a = 1 + tan^2 a
            Func::Tan => {
                let t = a.tan();
                (t, 1.0 + t * t)
            }
            Func::Exp => {
                let e = a.exp();
                (e, e)
            }
            Func::Ln => (a.ln(), 1.0 / a),
            // d sqrt a = 1 / (2 sqrt a)
            Func::Sqrt => {
                let s = a.sqrt();
                (s, 0.5 / s)
            }
            // d|a| = sign(a), taken as 0 at 0 (a subgradient).
            Func::Abs => (a.abs(), if a == 0.0 { 0.0 } else { a.signum() }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(f64),
    Var(usize),
    Neg(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    Call(Func, Box<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Var(usize),
    Op(char),
    LParen,
    RParen,
    End,
}

/// Splits `src` into tokens, each with its 1-based column.
fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |column: usize, message: String| ParseError { column, message };
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: e or E, an optional sign, digits.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let v = text
                .parse::<f64>()
                .map_err(|_| err(col, format!("'{text}' is not a number")))?;
            out.push((Tok::Num(v), col));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            if name == "x" && i < chars.len() && chars[i] == '[' {
                // x[k]
                let mut j = i + 1;
                let ds = j;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                if j == ds || j >= chars.len() || chars[j] != ']' {
                    return Err(err(col, "expected x[index], e.g. x[0]".into()));
                }
                let k: String = chars[ds..j].iter().collect();
                let k = k
                    .parse::<usize>()
                    .map_err(|_| err(col, format!("variable index '{k}' is too large")))?;
                out.push((Tok::Var(k), col));
                i = j + 1;
            } else if let Some(k) = name
                .strip_prefix('x')
                .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
            {
                let k = k
                    .parse::<usize>()
                    .map_err(|_| err(col, format!("variable index '{k}' is too large")))?;
                out.push((Tok::Var(k), col));
            } else {
                out.push((Tok::Name(name), col));
            }
        } else if c == '*' && chars.get(i + 1) == Some(&'*') {
            out.push((Tok::Op('^'), col));
            i += 2;
        } else if "+-*/^".contains(c) {
            out.push((Tok::Op(c), col));
            i += 1;
        } else if c == '(' {
            out.push((Tok::LParen, col));
            i += 1;
        } else if c == ')' {
            out.push((Tok::RParen, col));
            i += 1;
        } else {
            return Err(err(col, format!("unexpected character '{c}'")));
        }
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

/// Recursive descent over the tokens; one method per precedence level.
struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    n_vars: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }
    fn column(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            column: self.column(),
            message: message.into(),
        }
    }
    fn describe(t: &Tok) -> String {
        match t {
            Tok::Num(v) => format!("number {v}"),
            Tok::Name(n) => format!("'{n}'"),
            Tok::Var(k) => format!("'x{k}'"),
            Tok::Op(c) => format!("'{c}'"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::End => "the end of the expression".into(),
        }
    }

    // expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<Node, ParseError> {
        let mut lhs = self.term()?;
        while let Tok::Op(c @ ('+' | '-')) = *self.peek() {
            self.bump();
            let rhs = self.term()?;
            let op = if c == '+' { BinOp::Add } else { BinOp::Sub };
            lhs = Node::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    // term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<Node, ParseError> {
        let mut lhs = self.unary()?;
        while let Tok::Op(c @ ('*' | '/')) = *self.peek() {
            self.bump();
            let rhs = self.unary()?;
            let op = if c == '*' { BinOp::Mul } else { BinOp::Div };
            lhs = Node::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    // unary := ('-' | '+') unary | power
    fn unary(&mut self) -> Result<Node, ParseError> {
        match *self.peek() {
            Tok::Op('-') => {
                self.bump();
                Ok(Node::Neg(Box::new(self.unary()?)))
            }
            Tok::Op('+') => {
                self.bump();
                self.unary()
            }
            _ => self.power(),
        }
    }

    // power := atom ('^' unary)?   (right-associative; 2^-1 is allowed)
    fn power(&mut self) -> Result<Node, ParseError> {
        let base = self.atom()?;
        if *self.peek() == Tok::Op('^') {
            self.bump();
            let exp = self.unary()?;
            return Ok(Node::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    // atom := number | variable | 'pi' | function '(' expr ')' | '(' expr ')'
    fn atom(&mut self) -> Result<Node, ParseError> {
        let col = self.column();
        match self.bump() {
            Tok::Num(v) => Ok(Node::Num(v)),
            Tok::Var(k) => {
                self.n_vars = self.n_vars.max(k + 1);
                Ok(Node::Var(k))
            }
            Tok::LParen => {
                let e = self.expr()?;
                self.expect_rparen()?;
                Ok(e)
            }
            Tok::Name(n) if n == "pi" => Ok(Node::Num(std::f64::consts::PI)),
            Tok::Name(n) => {
                let Some(f) = Func::by_name(&n) else {
                    return Err(ParseError {
                        column: col,
                        message: format!(
                            "unknown name '{n}' (variables are x0, x1, ... or x[0], x[1], ...; \
                             functions sin cos tan exp ln sqrt abs; constant pi)"
                        ),
                    });
                };
                if *self.peek() != Tok::LParen {
                    return Err(self.error(format!("expected '(' after '{n}'")));
                }
                self.bump();
                let arg = self.expr()?;
                self.expect_rparen()?;
                Ok(Node::Call(f, Box::new(arg)))
            }
            t => Err(ParseError {
                column: col,
                message: format!(
                    "expected a number, a variable or '(', found {}",
                    Self::describe(&t)
                ),
            }),
        }
    }

    fn expect_rparen(&mut self) -> Result<(), ParseError> {
        if *self.peek() == Tok::RParen {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!(
                "expected ')', found {}",
                Self::describe(self.peek())
            )))
        }
    }
}

impl Expr {
    /// Parses `src`; the error names the column where it goes wrong.
    pub fn parse(src: &str) -> Result<Expr, ParseError> {
        let toks = tokenize(src)?;
        if toks.len() == 1 {
            return Err(ParseError {
                column: 1,
                message: "empty expression".into(),
            });
        }
        let mut p = Parser {
            toks,
            pos: 0,
            n_vars: 0,
        };
        let root = p.expr()?;
        if *p.peek() != Tok::End {
            return Err(p.error(format!(
                "unexpected {} (missing operator?)",
                Parser::describe(p.peek())
            )));
        }
        Ok(Expr {
            root,
            n_vars: p.n_vars,
        })
    }

    /// One more than the largest variable index used (0 for a constant).
    pub fn n_vars(&self) -> usize {
        self.n_vars
    }

    /// The value at `x`. Variables beyond `x.len()` read as 0, so callers
    /// check [`Expr::n_vars`] against their dimension first.
    pub fn value(&self, x: &[f64]) -> f64 {
        value(&self.root, x)
    }

    /// The value and the exact gradient (length `x.len()`) at `x`.
    pub fn value_and_gradient(&self, x: &[f64]) -> (f64, Vec<f64>) {
        dual(&self.root, x)
    }

    /// The exact gradient at `x`.
    pub fn gradient(&self, x: &[f64]) -> Vec<f64> {
        self.value_and_gradient(x).1
    }
}

fn value(n: &Node, x: &[f64]) -> f64 {
    match n {
        Node::Num(v) => *v,
        Node::Var(k) => x.get(*k).copied().unwrap_or(0.0),
        Node::Neg(a) => -value(a, x),
        Node::Bin(op, a, b) => {
            let (a, b) = (value(a, x), value(b, x));
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => pow(a, b),
            }
        }
        Node::Call(f, a) => f.apply(value(a, x)).0,
    }
}

/// `a^b` with integer exponents by repeated multiplication (exact for
/// negative bases, as `(x0-1)^2` needs), `powf` otherwise.
fn pow(a: f64, b: f64) -> f64 {
    if b.fract() == 0.0 && b.abs() <= 64.0 {
        a.powi(b as i32)
    } else {
        a.powf(b)
    }
}

/// True when the subtree contains no variable (its gradient is zero).
fn is_constant(n: &Node) -> bool {
    match n {
        Node::Num(_) => true,
        Node::Var(_) => false,
        Node::Neg(a) | Node::Call(_, a) => is_constant(a),
        Node::Bin(_, a, b) => is_constant(a) && is_constant(b),
    }
}

/// Forward mode: the value and gradient of the subtree `n` at `x`.
fn dual(n: &Node, x: &[f64]) -> (f64, Vec<f64>) {
    let dim = x.len();
    match n {
        Node::Num(v) => (*v, vec![0.0; dim]),
        Node::Var(k) => {
            let mut g = vec![0.0; dim];
            if let Some(gk) = g.get_mut(*k) {
                *gk = 1.0;
            }
            (x.get(*k).copied().unwrap_or(0.0), g)
        }
        Node::Neg(a) => {
            let (v, mut g) = dual(a, x);
            g.iter_mut().for_each(|d| *d = -*d);
            (-v, g)
        }
        Node::Call(f, a) => {
            let (v, mut g) = dual(a, x);
            // chain rule: d f(a) = f'(a) da
            let (fv, fd) = f.apply(v);
            g.iter_mut().for_each(|d| *d *= fd);
            (fv, g)
        }
        Node::Bin(BinOp::Pow, a, b) if is_constant(b) => {
            // d a^c = c a^(c-1) da, exact also for a <= 0 and integer c.
            let c = value(b, x);
            let (v, mut g) = dual(a, x);
            let fd = if c == 0.0 { 0.0 } else { c * pow(v, c - 1.0) };
            g.iter_mut().for_each(|d| *d *= fd);
            (pow(v, c), g)
        }
        Node::Bin(op, a, b) => {
            let (va, ga) = dual(a, x);
            let (vb, gb) = dual(b, x);
            let z = ga.iter().zip(&gb);
            match op {
                BinOp::Add => (va + vb, z.map(|(p, q)| p + q).collect()),
                BinOp::Sub => (va - vb, z.map(|(p, q)| p - q).collect()),
                // d(ab) = b da + a db
                BinOp::Mul => (va * vb, z.map(|(p, q)| vb * p + va * q).collect()),
                // d(a/b) = (b da - a db) / b^2
                BinOp::Div => (
                    va / vb,
                    z.map(|(p, q)| (vb * p - va * q) / (vb * vb)).collect(),
                ),
                // d a^b = a^b (db ln a + b da / a), a > 0
                BinOp::Pow => {
                    let v = va.powf(vb);
                    (v, z.map(|(p, q)| v * (q * va.ln() + vb * p / va)).collect())
                }
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expression in {} variables", self.n_vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn central(e: &Expr, x: &[f64]) -> Vec<f64> {
        (0..x.len())
            .map(|i| {
                let h = 1e-6 * x[i].abs().max(1.0);
                let (mut p, mut m) = (x.to_vec(), x.to_vec());
                p[i] += h;
                m[i] -= h;
                (e.value(&p) - e.value(&m)) / (2.0 * h)
            })
            .collect()
    }

    #[test]
    fn precedence_and_associativity_follow_the_usual_rules() {
        let v = |s: &str| Expr::parse(s).unwrap().value(&[3.0, 2.0]);
        assert_eq!(v("1 + 2 * 3"), 7.0);
        assert_eq!(v("(1 + 2) * 3"), 9.0);
        assert_eq!(v("2 ^ 3 ^ 2"), 512.0);
        assert_eq!(v("-x0^2"), -9.0);
        assert_eq!(v("2^-1"), 0.5);
        assert_eq!(v("x[0] - x1 - 1"), 0.0);
        assert_eq!(v("8 / 4 / 2"), 1.0);
        assert_eq!(v("x0**2"), 9.0);
        assert_eq!(v("1.5e1 + 2E-1"), 15.2);
        assert!((v("sin(pi/2) + cos(0) + exp(0) + ln(exp(2)) + sqrt(16)") - 9.0).abs() < 1e-14);
        assert_eq!(Expr::parse("x3 + x[10]").unwrap().n_vars(), 11);
    }

    #[test]
    fn gradients_match_central_differences() {
        let x = [0.7, -1.3, 2.1];
        for s in [
            "0.5*((x0-2*x1+x2)^2 + (2*x1-8*x2-8)^2 + (-4*x0+5*x1+9*x2+9)^2)",
            "x0*x1*x2 + x0/x1 - x2^3",
            "sin(x0)*cos(x1) + tan(x2/3) + exp(-x0^2)",
            "ln(1 + x0^2) + sqrt(x2) - abs(x1)",
            "x2^x0 + 2^x1",
            "(1-x0)^2 + 100*(x1-x0^2)^2",
        ] {
            let e = Expr::parse(s).unwrap();
            let g = e.gradient(&x);
            for (a, b) in g.iter().zip(central(&e, &x)) {
                assert!((a - b).abs() <= 1e-7 * b.abs().max(1.0), "{s}: {g:?}");
            }
        }
    }

    #[test]
    fn integer_powers_of_negative_bases_are_exact() {
        let e = Expr::parse("x0^3").unwrap();
        assert_eq!(e.value_and_gradient(&[-2.0]), (-8.0, vec![12.0]));
    }

    #[test]
    fn errors_name_the_column() {
        let col = |s: &str| Expr::parse(s).unwrap_err().column;
        assert_eq!(col("x0 + * 2"), 6);
        assert_eq!(col("(x0 + 1"), 8);
        assert_eq!(col("x0 + y"), 6);
        assert_eq!(col("2 x0"), 3);
        assert_eq!(col("x0 # 1"), 4);
        assert_eq!(col("foo(x0)"), 1);
        assert_eq!(col("sin x0"), 5);
        assert_eq!(col("x[a]"), 1);
        assert_eq!(col("   "), 1);
        let e = Expr::parse("x0 + y").unwrap_err();
        assert!(
            e.to_string().starts_with("column 6: unknown name 'y'"),
            "{e}"
        );
    }
}
