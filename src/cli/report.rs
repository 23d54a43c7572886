//! Diagnostics for people: `file:line:col: error: message`, the source line with a caret
//! under the column, then what was expected and the suggestion.

use crate::diag::{Diagnostic, Severity};

pub fn render(d: &Diagnostic, source: Option<&str>) -> String {
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut s = format!("{}:{}:{}: {sev}: {}\n", d.file, d.line, d.column, d.message);
    if let Some(line) = source.and_then(|src| src.lines().nth(d.line.saturating_sub(1) as usize)) {
        let shown: String = line
            .chars()
            .take(160)
            .collect::<String>()
            .replace('\t', " ");
        let num = d.line.to_string();
        let pad = " ".repeat(num.len());
        let caret = " ".repeat(d.column.saturating_sub(1) as usize);
        s.push_str(&format!("{pad} |\n{num} | {shown}\n{pad} | {caret}^\n"));
    }
    if let Some(e) = &d.expected {
        s.push_str(&format!("  expected: {e}\n"));
    }
    if let Some(h) = &d.help {
        s.push_str(&format!("  help: {h}\n"));
    }
    s
}

/// Prints diagnostics to stderr and returns (errors, warnings).
pub fn print_all(diags: &[Diagnostic], source: Option<&str>) -> (usize, usize) {
    let mut counts = (0, 0);
    for d in diags {
        eprint!("{}", render(d, source));
        match d.severity {
            Severity::Error => counts.0 += 1,
            Severity::Warning => counts.1 += 1,
        }
    }
    counts
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A file that could not be read, for people. Only a bad UTF-8 byte has a position; a missing
/// file, a folder or an oversized file is not "at line 1", so it is told as
/// `error: cannot read FILE: No such file or directory` (the OS's words, without its number).
pub fn render_read_error(file: &str, e: &crate::plugin::loader::ReadError) -> String {
    if e.span != crate::yaml::Span::START || e.message.contains("UTF-8") {
        return render(&e.clone().into_diagnostic(file), None);
    }
    let why = e
        .message
        .strip_prefix("cannot read: ")
        .unwrap_or(&e.message);
    let why = match why.rfind(" (os error ") {
        Some(i) if why.ends_with(')') => &why[..i],
        _ => why,
    };
    let mut s = format!("error: cannot read {file}: {why}\n");
    if let Some(h) = &e.help {
        s.push_str(&format!("  help: {h}\n"));
    }
    s
}
