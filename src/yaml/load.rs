//! saphyr-parser events → [`Node`] tree, with limits so hostile input (alias bombs, huge or
//! deeply nested files) is refused with a position instead of eating memory or the stack.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as PSpan};

use super::node::{MapEntry, Node, Span, Value};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Most nodes a document may hold once aliases are expanded.
    pub max_nodes: usize,
    /// Deepest nesting of lists and maps.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_nodes: 200_000,
            max_depth: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

impl YamlError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
            help: None,
        }
    }
    fn help(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }
}

fn span_of(s: &PSpan) -> Span {
    Span::new(s.start.line() as u32, s.start.col() as u32 + 1)
}

enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
    },
    Map {
        entries: Vec<MapEntry>,
        span: Span,
        anchor: usize,
        key: Option<(String, Span)>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    limits: Limits,
    root: Option<Node>,
}

impl Builder {
    fn count(&mut self, n: usize, span: Span, alias: bool) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            let e = if alias {
                YamlError::new(
                    span,
                    format!(
                        "alias expands the document past {} nodes (a YAML alias bomb?)",
                        self.limits.max_nodes
                    ),
                )
                .help("use fewer or smaller aliases; panther refuses exponential expansion")
            } else {
                YamlError::new(
                    span,
                    format!("document has more than {} nodes", self.limits.max_nodes),
                )
            };
            return Err(e);
        }
        Ok(())
    }

    /// Attach a finished node to its parent (or make it the root).
    fn push(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    let Value::Scalar(s) = node.value else {
                        return Err(YamlError::new(
                            node.span,
                            "a map key must be a plain value, not a list or map",
                        ));
                    };
                    if let Some(prev) = entries.iter().find(|e| e.key == s.text) {
                        return Err(YamlError::new(
                            node.span,
                            format!(
                                "duplicate key `{}` (first defined at line {})",
                                s.text, prev.key_span.line
                            ),
                        )
                        .help("remove one of the two, or merge them"));
                    }
                    *key = Some((s.text, node.span));
                }
                Some((k, ks)) => entries.push(MapEntry {
                    key: k,
                    key_span: ks,
                    value: node,
                }),
            },
        }
        Ok(())
    }
}

/// Parse one YAML document. An empty document is a null scalar at 1:1.
pub fn parse(text: &str, limits: Limits) -> Result<Node, YamlError> {
    if text.len() > limits.max_bytes {
        return Err(YamlError::new(
            Span::START,
            format!(
                "file is {:.1} MiB, over the {:.0} MiB limit for panther's YAML files",
                text.len() as f64 / (1024.0 * 1024.0),
                limits.max_bytes as f64 / (1024.0 * 1024.0)
            ),
        )
        .help("is this the right file? experiment configs and manifests are a few KiB"));
    }
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        limits,
        root: None,
    };
    let mut parser = Parser::new_from_str(text);
    let mut docs = 0usize;
    while let Some(ev) = parser.next_event() {
        let (ev, pspan) = ev.map_err(|e| scan_error(text, &e))?;
        let span = span_of(&pspan);
        let is_seq = matches!(ev, Event::SequenceStart(..));
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    return Err(
                        YamlError::new(span, "more than one YAML document in this file")
                            .help("keep one document per file (remove the extra `---`)"),
                    );
                }
            }
            Event::Alias(id) => {
                let Some(n) = b.anchors.get(&id).cloned() else {
                    return Err(YamlError::new(span, "alias refers to an unknown anchor"));
                };
                b.count(n.size(), span, true)?;
                let mut n = n;
                relocate(&mut n, span);
                b.push(n, 0)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                b.count(1, span, false)?;
                let mut plain = style == ScalarStyle::Plain;
                if let Some(tag) = tag {
                    match (tag.handle.as_str(), tag.suffix.as_str()) {
                        ("tag:yaml.org,2002:", "str") | ("!!", "str") => plain = false,
                        ("tag:yaml.org,2002:", _) | ("!!", _) => {}
                        (h, s) => {
                            return Err(YamlError::new(
                                span,
                                format!("unsupported YAML tag `{h}{s}`"),
                            )
                            .help("panther reads plain YAML; write the value inline instead of using a tag such as `!include`"));
                        }
                    }
                }
                b.push(Node::scalar(text.into_owned(), plain, span), anchor)?;
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if let Some(tag) = tag
                    && !tag.is_yaml_core_schema()
                {
                    return Err(YamlError::new(
                        span,
                        format!("unsupported YAML tag `{}{}`", tag.handle, tag.suffix),
                    ));
                }
                b.count(1, span, false)?;
                if b.stack.len() >= limits.max_depth {
                    return Err(YamlError::new(
                        span,
                        format!("nesting deeper than {} levels", limits.max_depth),
                    ));
                }
                b.stack.push(if is_seq {
                    Frame::Seq {
                        items: Vec::new(),
                        span,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        span,
                        anchor,
                        key: None,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = b.stack.pop().expect("parser balances start/end events");
                let (node, anchor) = match frame {
                    Frame::Seq {
                        items,
                        span,
                        anchor,
                    } => (
                        Node {
                            value: Value::Seq(items),
                            span,
                        },
                        anchor,
                    ),
                    Frame::Map {
                        entries,
                        span,
                        anchor,
                        ..
                    } => (
                        Node {
                            value: Value::Map(entries),
                            span,
                        },
                        anchor,
                    ),
                };
                b.push(node, anchor)?;
            }
        }
    }
    Ok(b.root
        .unwrap_or_else(|| Node::scalar("", true, Span::START)))
}

/// Something the lenient parser repaired, to be reported as a warning.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlNote {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

/// Each repair parses the file again; real files have a handful.
const MAX_REPAIRS: usize = 64;

/// Like [`parse`], but reads what PyYAML reads where YAML 1.2 is stricter: a comment glued
/// to a quoted value (`type: "TESTERS"# note`) is a comment for PyYAML (PANTHER's loader)
/// and an error for the spec. Each repair is returned as a note at the `#`.
pub fn parse_lenient(text: &str, limits: Limits) -> Result<(Node, Vec<YamlNote>), YamlError> {
    let mut fixed = std::borrow::Cow::Borrowed(text);
    let mut notes = Vec::new();
    loop {
        match parse(&fixed, limits) {
            Ok(n) => return Ok((n, notes)),
            Err(e)
                if notes.len() < MAX_REPAIRS
                    && e.message.contains("comments must be separated") =>
            {
                let Some(at) = byte_offset(&fixed, e.span) else {
                    return Err(e);
                };
                let glued_to_quote = fixed[..at].ends_with(['"', '\'']);
                if !fixed[at..].starts_with('#') || !glued_to_quote {
                    return Err(e);
                }
                // The inserted space shifts only the comment itself, so every later span
                // on this line is still the user's column for what matters.
                fixed.to_mut().insert(at, ' ');
                notes.push(YamlNote {
                    span: e.span,
                    message: "a comment glued to a quoted value (no space before `#`)".into(),
                    help: Some(
                        "PyYAML (PANTHER's loader) reads it as a comment and so does panther; \
                         YAML 1.2 wants a space before `#`"
                            .into(),
                    ),
                });
            }
            Err(e) => return Err(e),
        }
    }
}

/// The byte offset of a 1-based line and column (in characters).
fn byte_offset(text: &str, span: Span) -> Option<usize> {
    let mut start = 0usize;
    for _ in 1..span.line {
        start += text[start..].find('\n')? + 1;
    }
    let line = &text[start..];
    let (off, _) = line.char_indices().nth(span.col.checked_sub(1)? as usize)?;
    Some(start + off)
}

/// Expanded aliases report errors at the alias, where the user can see them.
fn relocate(n: &mut Node, span: Span) {
    n.span = span;
    match &mut n.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|c| relocate(c, span)),
        Value::Map(entries) => entries.iter_mut().for_each(|e| {
            e.key_span = span;
            relocate(&mut e.value, span)
        }),
    }
}

fn scan_error(text: &str, e: &saphyr_parser::ScanError) -> YamlError {
    let m = e.marker();
    let line = m.line().max(1);
    let span = Span::new(line as u32, m.col() as u32 + 1);
    let info = e.info();
    // Tabs are the classic YAML mistake; say so plainly wherever the parser tripped on one
    // (it often notices at the end of the line before the tab).
    let tab_in_indent = |l: usize| {
        let src_line = text.lines().nth(l.checked_sub(1)?)?;
        let indent: String = src_line.chars().take_while(|c| c.is_whitespace()).collect();
        indent
            .find('\t')
            .map(|i| indent[..i].chars().count() as u32 + 1)
    };
    let tab_at = tab_in_indent(line)
        .map(|c| (line, c))
        .or_else(|| tab_in_indent(line + 1).map(|c| (line + 1, c)))
        .or_else(|| info.contains("tab").then_some((line, span.col)));
    if let Some((l, col)) = tab_at {
        return YamlError::new(Span::new(l as u32, col), "tab character in indentation")
            .help("YAML indents with spaces only: replace the tab with spaces");
    }
    if info.contains("flow mapping") || info.contains("flow sequence") {
        return YamlError::new(span, format!("invalid YAML: {info}"))
            .help("a `{` or `[` opened before this point is not closed");
    }
    if info.contains("recursion limit") {
        return YamlError::new(span, "nesting deeper than the parser's recursion limit")
            .help("flatten the structure; configs and manifests need only a few levels");
    }
    YamlError::new(span, format!("invalid YAML: {info}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let n = parse("a: 1\nb:\n  - x\n  - {c: d}\n", Limits::default()).unwrap();
        let b = n.entry("b").unwrap();
        assert_eq!(b.key_span, Span::new(2, 1));
        let items = b.value.as_seq().unwrap();
        assert_eq!(items[0].span, Span::new(3, 5));
        assert_eq!(items[1].get("c").unwrap().span, Span::new(4, 9));
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let e = parse("a: 1\nb: 2\na: 3\n", Limits::default()).unwrap_err();
        assert_eq!(e.span, Span::new(3, 1));
        assert!(e.message.contains("duplicate key `a`"), "{}", e.message);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(&y, Limits::default()).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{}", e.message);
    }

    #[test]
    fn glued_comments_load_as_pyyaml_loads_them() {
        let y = "a:\n  type: \"TESTERS\"# comment\n  b: 'x'#c\n  c: [\"y\"#c\n    ]\n";
        assert!(parse(y, Limits::default()).is_err());
        let (n, notes) = parse_lenient(y, Limits::default()).unwrap();
        let a = n.get("a").unwrap();
        assert_eq!(a.get("type").unwrap().as_str(), Some("TESTERS"));
        assert_eq!(a.get("b").unwrap().as_str(), Some("x"));
        assert_eq!(a.get("type").unwrap().span, Span::new(2, 9));
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert_eq!(notes[0].span, Span::new(2, 18));
        // Only a quote glued to `#` is repaired; other errors stay errors.
        assert!(parse_lenient("a: [b\n", Limits::default()).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let y = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let e = parse(&y, Limits::default()).unwrap_err();
        assert!(e.message.contains("nesting deeper"), "{}", e.message);
    }
}
