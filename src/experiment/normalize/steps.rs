//! PANTHER's test-level lists whose items have another shape here: step commands written
//! as shell lines, and legacy `service_responsive | data_integrity` assertions.

use crate::diag::Diagnostic;
use crate::suggest;
use crate::yaml::{Node, Resolved, Value};

use super::super::panther_keys as pk;
use super::Norm;

impl Norm<'_> {
    /// PANTHER's step commands are shell lines; panther runs argv lists and never a shell.
    /// A line a shell would only split on blanks becomes that list (with a warning); one
    /// that needs a shell (quotes, pipes, variables, globs…) is an error.
    pub(super) fn command_line(&mut self, key: &str, item: &mut Node) {
        let Value::Scalar(s) = &item.value else {
            return;
        };
        let line = s.text.clone();
        // Characters a POSIX shell gives meaning anywhere in a line, plus what it means at
        // the start of a word (`#` comment, `~` home) or of the line (`A=b` assignment).
        const SHELL: &[char] = &[
            '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '{',
            '}', '!',
        ];
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            return;
        }
        let needs_shell = line.contains(SHELL)
            || words.iter().any(|w| w.starts_with(['#', '~']))
            || words[0].contains('=');
        if needs_shell {
            self.out.push(
                Diagnostic::error(
                    self.file,
                    item.span,
                    format!("`{key}` item `{line}` needs a shell"),
                )
                .expected("an argv list such as [\"ip\", \"link\"]")
                .help("PANTHER runs step commands through a shell; panther never does: write the program and its arguments as a list, or put the shell line in a script and list the script"),
            );
            // Typed as its words so this error is the only one; it is never run.
            item.value = Value::Seq(
                words
                    .into_iter()
                    .map(|w| Node::scalar(w, false, item.span))
                    .collect(),
            );
            return;
        }
        let shown = words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(", ");
        self.warn(
            item.span,
            format!("`{key}` item `{line}` is a shell line (PANTHER's form)"),
            format!("panther runs it without a shell as [{shown}]; write that list"),
        );
        let span = item.span;
        item.value = Value::Seq(
            words
                .into_iter()
                .map(|w| Node::scalar(w, false, span))
                .collect(),
        );
    }

    /// PANTHER's legacy assertion items (`{type: service_responsive, service, endpoint,
    /// expected_status}`) are checked, then dropped with a warning: panther already makes a
    /// service that never becomes ready an error. Items in panther's shape stay.
    pub(super) fn assertions(&mut self, v: &mut Node, services: &[String]) {
        let Value::Seq(items) = &mut v.value else {
            return;
        };
        let mut i = 0;
        while i < items.len() {
            let is_panther = items[i].get("type").is_some() && items[i].get("property").is_none();
            if !is_panther {
                i += 1;
                continue;
            }
            let item = items.remove(i);
            self.panther_assertion(&item, services);
        }
    }

    fn panther_assertion(&mut self, item: &Node, services: &[String]) {
        let entries = item.as_map().unwrap_or_default();
        self.check_keys(entries, pk::PANTHER_ASSERTION_KEYS, "assertions");
        let names: Vec<&str> = services.iter().map(String::as_str).collect();
        if let Some(s) = item.get("service")
            && let Some(name) = s.as_str()
            && !names.contains(&name)
        {
            self.out.push(
                Diagnostic::error(
                    self.file,
                    s.span,
                    format!("`{name}` is not a service of this test"),
                )
                .expected(format!("one of {}", suggest::one_of(&names)))
                .help_opt(suggest::did_you_mean(name, names.iter().copied())),
            );
        }
        if let Some(st) = item.get("expected_status") {
            let ok = matches!(&st.value, Value::Scalar(s) if matches!(s.resolve(), Resolved::Int(100..=599)));
            if !ok {
                self.out.push(
                    Diagnostic::error(
                        self.file,
                        st.span,
                        format!("`expected_status` is {}", st.kind_name()),
                    )
                    .expected("an HTTP status code from 100 to 599"),
                );
            }
        }
        let Some(ty) = item.get("type") else { return };
        let kind = ty.as_str().unwrap_or("");
        match kind {
            "service_responsive" => self.warn(
                ty.span,
                "`service_responsive` is PANTHER's assertion; panther checks it on every service",
                "a service that never becomes ready makes the test an error; assert protocol properties with `- property: NAME`",
            ),
            "data_integrity" => self.warn(
                ty.span,
                "`data_integrity` is PANTHER's; panther does not use it",
                "assert protocol properties with `- property: NAME` (`panther plugins show PROTOCOL` lists them)",
            ),
            other => self.out.push(
                Diagnostic::error(
                    self.file,
                    ty.span,
                    format!("unknown assertion type `{other}`"),
                )
                .expected(format!(
                    "PANTHER's {}, or panther's `property: NAME`",
                    suggest::one_of(pk::PANTHER_ASSERTION_TYPES)
                ))
                .help_opt(suggest::did_you_mean(
                    other,
                    pk::PANTHER_ASSERTION_TYPES.iter().copied(),
                )),
            ),
        }
    }
}
