//! The spanned tree. Scalars keep their source text so a plain `1.0` can be read as the string
//! "1.0" (a version) or the number 1.0 (a delay), whichever the model asks for.

use std::fmt;

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub const START: Span = Span { line: 1, col: 1 };
    pub fn new(line: u32, col: u32) -> Self {
        Self { line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Plain (unquoted) scalars are resolved by YAML's core schema: null, bool, int, float.
    pub plain: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<MapEntry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A scalar resolved by the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Scalar {
    pub fn resolve(&self) -> Resolved<'_> {
        if !self.plain {
            return Resolved::Str(&self.text);
        }
        let t = self.text.as_str();
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
            "true" | "True" | "TRUE" => return Resolved::Bool(true),
            "false" | "False" | "FALSE" => return Resolved::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return Resolved::Float(f64::INFINITY);
            }
            "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
            _ => {}
        }
        let first = t.as_bytes()[0];
        if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
            if let Some(hex) = t.strip_prefix("0x") {
                if let Ok(v) = i64::from_str_radix(hex, 16) {
                    return Resolved::Int(v);
                }
            } else if let Some(oct) = t.strip_prefix("0o") {
                if let Ok(v) = i64::from_str_radix(oct, 8) {
                    return Resolved::Int(v);
                }
            } else if let Ok(v) = t.parse::<i64>() {
                return Resolved::Int(v);
            } else if is_yaml_float(t)
                && let Ok(v) = t.parse::<f64>()
            {
                return Resolved::Float(v);
            }
        }
        Resolved::Str(t)
    }
}

fn is_yaml_float(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && body.chars().any(|c| c.is_ascii_digit())
}

/// One step of a path from the document root: a map key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// Where a value lives in a document, e.g. `tests[0].services.client.protocol.target`.
/// Semantic errors are found on typed models and located through their path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Path(pub Vec<PathSeg>);

impl Path {
    pub fn root() -> Self {
        Self(Vec::new())
    }
    pub fn key(&self, k: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(PathSeg::Key(k.into()));
        p
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(PathSeg::Index(i));
        p
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                PathSeg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSeg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

impl Node {
    pub fn scalar(text: impl Into<String>, plain: bool, span: Span) -> Self {
        Node {
            value: Value::Scalar(Scalar {
                text: text.into(),
                plain,
            }),
            span,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.resolve() == Resolved::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[MapEntry]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&MapEntry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    pub fn entry_mut(&mut self, key: &str) -> Option<&mut MapEntry> {
        match &mut self.value {
            Value::Map(m) => m.iter_mut().find(|e| e.key == key),
            _ => None,
        }
    }

    /// A short name for the node's type, for "expected a map, found a string" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => "nothing (null)",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) => "an integer",
                Resolved::Float(_) => "a number",
                Resolved::Str(_) => "a string",
            },
        }
    }

    /// The node at `path`, if it exists.
    pub fn at(&self, path: &Path) -> Option<&Node> {
        let mut cur = self;
        for seg in &path.0 {
            cur = match seg {
                PathSeg::Key(k) => cur.get(k)?,
                PathSeg::Index(i) => cur.as_seq()?.get(*i)?,
            };
        }
        Some(cur)
    }

    /// The best position for a problem at `path`: the value if it exists; for a key that is
    /// missing, its closest existing ancestor. With `key = true`, the key itself rather than
    /// its value (for "unknown key" and "duplicate name" errors).
    pub fn span_at(&self, path: &Path, key: bool) -> Span {
        let mut cur = self;
        let mut span = self.span;
        for (i, seg) in path.0.iter().enumerate() {
            let last = i + 1 == path.0.len();
            match seg {
                PathSeg::Key(k) => match cur.entry(k) {
                    Some(e) => {
                        span = if last && key {
                            e.key_span
                        } else {
                            e.value.span
                        };
                        cur = &e.value;
                    }
                    None => return span,
                },
                PathSeg::Index(ix) => match cur.as_seq().and_then(|s| s.get(*ix)) {
                    Some(n) => {
                        span = n.span;
                        cur = n;
                    }
                    None => return span,
                },
            }
        }
        span
    }

    /// Number of nodes in this subtree, used to budget alias expansion.
    pub fn size(&self) -> usize {
        match &self.value {
            Value::Scalar(_) => 1,
            Value::Seq(s) => 1 + s.iter().map(Node::size).sum::<usize>(),
            Value::Map(m) => 1 + m.iter().map(|e| 1 + e.value.size()).sum::<usize>(),
        }
    }
}
