//! Diagnostics: every problem panther reports about user input carries a file, a 1-based line
//! and column, what was wrong, what was expected, and a suggestion when one is obvious.
//! One type serves the CLI (text), `--format json`, the TUI (errors at their line) and tests.

use serde::Serialize;
use std::fmt;

use crate::yaml::{Node, Path, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, span, message)
    }

    pub fn warning(file: impl Into<String>, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file, span, message)
    }

    fn new(
        severity: Severity,
        file: impl Into<String>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            file: file.into(),
            line: span.line,
            column: span.col,
            message: message.into(),
            expected: None,
            help: None,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(e) = &self.expected {
            write!(f, "\n  expected: {e}")?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// Errors first, then by position, so the first line printed is the first thing to fix.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (b.severity, &a.file, a.line, a.column).cmp(&(a.severity, &b.file, b.line, b.column))
    });
}

pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// Collects findings about one spanned document, each placed by the path of the node it is
/// about, so checks name *what* is wrong and the tree says *where*.
pub struct Reporter<'a> {
    pub file: &'a str,
    pub root: &'a Node,
    pub out: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    pub fn new(file: &'a str, root: &'a Node) -> Self {
        Reporter {
            file,
            root,
            out: Vec::new(),
        }
    }

    fn push(&mut self, d: Diagnostic) -> &mut Diagnostic {
        self.out.push(d);
        self.out.last_mut().expect("just pushed")
    }

    /// An error at the value at `path`.
    pub fn err(&mut self, path: &Path, msg: impl Into<String>) -> &mut Diagnostic {
        let span = self.root.span_at(path, false);
        self.push(Diagnostic::error(self.file, span, msg))
    }

    /// An error at the key of `path` (unknown keys, duplicate names).
    pub fn key_err(&mut self, path: &Path, msg: impl Into<String>) -> &mut Diagnostic {
        let span = self.root.span_at(path, true);
        self.push(Diagnostic::error(self.file, span, msg))
    }

    pub fn warn(&mut self, path: &Path, msg: impl Into<String>) -> &mut Diagnostic {
        let span = self.root.span_at(path, false);
        self.push(Diagnostic::warning(self.file, span, msg))
    }
}
