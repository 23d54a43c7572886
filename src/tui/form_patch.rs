//! The form's edits as text patches on the YAML, so comments and layout survive: a
//! parameter set, added or reset, and the network environment switched, each change only
//! the characters it is about (flow `{a: 1}` and block maps alike). What cannot be patched
//! safely returns None; the caller then rewrites the whole text (undoably) instead.

use crate::yaml::{Node, Value};

/// An edit the form made, in terms of the experiment.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `tests[test].services[service].plugin_config[param]` set to `value`, or removed
    /// (back to the default) when `value` is None.
    Param {
        test: usize,
        service: String,
        param: String,
        value: Option<serde_json::Value>,
    },
    /// `tests[test].network_environment.type` set to `kind`.
    Network { test: usize, kind: String },
    /// A service added to `tests[test]` (its text comes from the form's YAML).
    AddService { test: usize, service: String },
    /// A service removed from `tests[test]`.
    DeleteService { test: usize, service: String },
    /// A test added at the end (its text comes from the form's YAML).
    AddTest,
    /// `tests[test]` removed.
    DeleteTest { test: usize },
}

/// `text` with `change` applied, or None when it cannot be done as a patch. `generated`
/// is the form's whole YAML after the change, where added parts are copied from.
pub fn apply(text: &str, change: &Change, generated: &str) -> Option<String> {
    let root = crate::yaml::parse(text, crate::experiment::LIMITS).ok()?;
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let test = |i: usize| root.get("tests")?.as_seq()?.get(i);
    match change {
        Change::AddService { test: i, service } => {
            let from = crate::yaml::parse(generated, crate::experiment::LIMITS).ok()?;
            let gen_lines: Vec<String> = generated.split('\n').map(str::to_string).collect();
            let services = |r: &Node| r.get("tests")?.as_seq()?.get(*i)?.get("services").cloned();
            let src = services(&from)?;
            let e = src.entry(service)?;
            let new = copy_block(&gen_lines, e.key_span)?;
            let dst = services(&root)?;
            let last = dst.as_map()?.last()?;
            if is_flow(&lines, &dst) {
                return None;
            }
            insert_block(&mut lines, last.key_span, &new)?;
        }
        Change::DeleteService { test: i, service } => {
            let services = test(*i)?.get("services")?;
            let e = services.entry(service)?;
            if is_flow(&lines, services) || services.as_map()?.len() == 1 {
                return None;
            }
            let r = block(&lines, e.key_span)?;
            lines.drain(r);
        }
        Change::AddTest => {
            let from = crate::yaml::parse(generated, crate::experiment::LIMITS).ok()?;
            let gen_lines: Vec<String> = generated.split('\n').map(str::to_string).collect();
            let new_item = from.get("tests")?.as_seq()?.last()?;
            let new = copy_block(&gen_lines, dash(&gen_lines, new_item.span)?)?;
            let tests = root.get("tests")?;
            if is_flow(&lines, tests) {
                return None;
            }
            let last = tests.as_seq()?.last()?;
            let at = dash(&lines, last.span)?;
            insert_block(&mut lines, at, &new)?;
        }
        Change::DeleteTest { test: i } => {
            let tests = root.get("tests")?;
            if is_flow(&lines, tests) || tests.as_seq()?.len() == 1 {
                return None;
            }
            let r = block(&lines, dash(&lines, test(*i)?.span)?)?;
            lines.drain(r);
        }
        Change::Network { test: i, kind } => {
            let v = test(*i)?.get("network_environment")?.get("type")?;
            replace_scalar(
                &mut lines,
                v,
                &scalar(&serde_json::Value::String(kind.clone()))?,
            )?;
        }
        Change::Param {
            test: i,
            service,
            param,
            value,
        } => {
            let svc = test(*i)?.get("services")?.get(service)?;
            match value {
                Some(v) => set_param(&mut lines, svc, param, &scalar(v)?)?,
                None => remove_param(&mut lines, svc, param)?,
            }
        }
    }
    Some(lines.join("\n"))
}

/// The `- ` of the sequence item whose content starts at `at`.
fn dash(lines: &[String], at: crate::yaml::Span) -> Option<crate::yaml::Span> {
    let chars: Vec<char> = lines
        .get((at.line as usize).saturating_sub(1))?
        .chars()
        .collect();
    let col = (0..((at.col as usize).saturating_sub(1)))
        .rev()
        .find(|&c| chars.get(c) == Some(&'-'))?;
    Some(crate::yaml::Span::new(at.line, col as u32 + 1))
}

/// The lines (0-based range) of the block starting at `at` (a key, or a sequence item's
/// dash): its line, and every line after it indented deeper (blank lines and comments
/// inside included, trailing ones not).
fn block(lines: &[String], at: crate::yaml::Span) -> Option<std::ops::Range<usize>> {
    let first = (at.line as usize).saturating_sub(1);
    let indent = (at.col as usize).saturating_sub(1);
    lines.get(first)?;
    let mut end = first + 1;
    let mut last_content = first;
    while end < lines.len() {
        let l = &lines[end];
        let t = l.trim_start();
        let depth = l.len() - t.len();
        if !t.is_empty() && !t.starts_with('#') {
            if depth <= indent {
                break;
            }
            last_content = end;
        }
        end += 1;
    }
    Some(first..last_content + 1)
}

/// The block at `at` in `lines`, its indentation removed (the first line starts at col 1).
fn copy_block(lines: &[String], at: crate::yaml::Span) -> Option<Vec<String>> {
    let indent = (at.col as usize).saturating_sub(1);
    let r = block(lines, at)?;
    Some(
        lines[r]
            .iter()
            .map(|l| {
                l.chars()
                    .skip(indent.min(l.len() - l.trim_start().len()))
                    .collect()
            })
            .collect(),
    )
}

/// Inserts `new` (unindented) after the block at `sibling`, at the sibling's indentation.
fn insert_block(lines: &mut Vec<String>, sibling: crate::yaml::Span, new: &[String]) -> Option<()> {
    let after = block(lines, sibling)?.end;
    let pad = " ".repeat((sibling.col as usize).saturating_sub(1));
    for (k, l) in new.iter().enumerate() {
        let line = if l.is_empty() {
            String::new()
        } else {
            format!("{pad}{l}")
        };
        lines.insert(after + k, line);
    }
    Some(())
}

/// A JSON scalar as YAML text: numbers and booleans as they are, strings plain when that
/// reads back as the same string, else double-quoted. Lists and maps: None.
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => Some(v.to_string()),
        serde_json::Value::String(s) => {
            // Plain only when YAML reads it back as this string (not a number, bool, null).
            let special = ["null", "true", "false", "yes", "no", "on", "off", "~"];
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
                && !s.starts_with(['-', '.'])
                && s.parse::<f64>().is_err()
                && !special.contains(&s.to_ascii_lowercase().as_str());
            Some(if plain { s.clone() } else { v.to_string() })
        }
        _ => None,
    }
}

/// Sets (or adds) `param` in the service's `plugin_config`, adding the map if it is missing.
fn set_param(lines: &mut Vec<String>, svc: &Node, param: &str, value: &str) -> Option<()> {
    let Some(cfg) = svc.entry("plugin_config") else {
        return add_entry(
            lines,
            svc,
            "plugin_config",
            &format!("{{{param}: {value}}}"),
        );
    };
    match cfg.value.get(param) {
        Some(v) => replace_scalar(lines, v, value),
        None if cfg.value.as_map().is_some() => add_entry(lines, &cfg.value, param, value),
        None => None,
    }
}

/// Removes `param` from a block `plugin_config` (its own line).
fn remove_param(lines: &mut Vec<String>, svc: &Node, param: &str) -> Option<()> {
    let cfg = svc.get("plugin_config")?;
    let e = cfg.as_map()?.iter().find(|e| e.key == param)?;
    let row = (e.key_span.line as usize).saturating_sub(1);
    let single = e.value.span.line == e.key_span.line && scalar_end(lines, &e.value).is_some();
    // A flow map, or the map's last entry (an empty block map would read as null): no.
    if is_flow(lines, cfg) || !single || cfg.as_map()?.len() == 1 {
        return None;
    }
    lines.remove(row);
    Some(())
}

/// Adds `key: value` to a map: inside the braces of a flow map on one line, or as a new
/// line under a block map's last entry (when that entry fits on its line).
fn add_entry(lines: &mut Vec<String>, map: &Node, key: &str, value: &str) -> Option<()> {
    let entries = map.as_map()?;
    if is_flow(lines, map) {
        let row = (map.span.line as usize).saturating_sub(1);
        let open = (map.span.col as usize).saturating_sub(1);
        let chars: Vec<char> = lines.get(row)?.chars().collect();
        let close = close_brace(&chars, open)?;
        let inner: String = chars[open + 1..close].iter().collect();
        let sep = if inner.trim().is_empty() { "" } else { ", " };
        let before: String = chars[..close]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_string();
        let after: String = chars[close..].iter().collect();
        lines[row] = format!("{before}{sep}{key}: {value}{after}");
        return Some(());
    }
    // The new line goes under the last entry, which must end on its own line (a nested
    // block's end is not known here).
    let last = entries.last()?;
    let one_line = last.value.span.line == last.key_span.line
        && (scalar_end(lines, &last.value).is_some() || flow_on_one_line(lines, &last.value));
    if !one_line {
        return None;
    }
    let indent = " ".repeat((last.key_span.col as usize).saturating_sub(1));
    let row = last.key_span.line as usize;
    lines.insert(row, format!("{indent}{key}: {value}"));
    Some(())
}

/// Replaces a one-line scalar's text, keeping what follows it (a comment, a comma).
fn replace_scalar(lines: &mut [String], v: &Node, text: &str) -> Option<()> {
    let end = scalar_end(lines, v)?;
    let row = (v.span.line as usize).saturating_sub(1);
    let start = (v.span.col as usize).saturating_sub(1);
    let chars: Vec<char> = lines.get(row)?.chars().collect();
    let head: String = chars[..start.min(chars.len())].iter().collect();
    let tail: String = chars[end.min(chars.len())..].iter().collect();
    lines[row] = format!("{head}{text}{tail}");
    Some(())
}

/// Where a scalar that starts and ends on its line ends (exclusive, in chars); None for
/// anything else (a map, a list, a block scalar, a quoted one left open).
fn scalar_end(lines: &[String], v: &Node) -> Option<usize> {
    let Value::Scalar(_) = &v.value else {
        return None;
    };
    let chars: Vec<char> = lines
        .get((v.span.line as usize).saturating_sub(1))?
        .chars()
        .collect();
    let start = (v.span.col as usize).saturating_sub(1);
    match chars.get(start)? {
        '"' => quoted_end(&chars, start, '"'),
        '\'' => quoted_end(&chars, start, '\''),
        '|' | '>' | '{' | '[' | '&' | '*' | '!' => None,
        _ => {
            let mut end = start;
            while end < chars.len() {
                let c = chars[end];
                let comment = c == '#' && end > 0 && chars[end - 1] == ' ';
                if comment || c == ',' || c == '}' || c == ']' {
                    break;
                }
                end += 1;
            }
            while end > start && chars[end - 1] == ' ' {
                end -= 1;
            }
            (end > start).then_some(end)
        }
    }
}

fn quoted_end(chars: &[char], start: usize, q: char) -> Option<usize> {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if q == '"' => i += 2,
            c if c == q && q == '\'' && chars.get(i + 1) == Some(&'\'') => i += 2,
            c if c == q => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The `}` closing the flow map opened at `open`, on the same line.
fn close_brace(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, &c) in chars.iter().enumerate().skip(open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn flow_on_one_line(lines: &[String], n: &Node) -> bool {
    let Some(l) = lines.get((n.span.line as usize).saturating_sub(1)) else {
        return false;
    };
    let chars: Vec<char> = l.chars().collect();
    is_flow(lines, n) && close_brace(&chars, (n.span.col as usize).saturating_sub(1)).is_some()
}

/// A flow collection (`{…}` / `[…]`) starts at the node.
fn is_flow(lines: &[String], n: &Node) -> bool {
    lines
        .get((n.span.line as usize).saturating_sub(1))
        .and_then(|l| l.chars().nth((n.span.col as usize).saturating_sub(1)))
        .is_some_and(|c| c == '{' || c == '[')
}
