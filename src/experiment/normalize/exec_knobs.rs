//! PANTHER's strace and memcheck options (its plugin schemas, key by key), turned into the
//! bundled plugins' parameters or dropped with a warning naming each.

use crate::diag::Diagnostic;
use crate::yaml::{MapEntry, Node, Resolved, Value};

use super::super::panther_keys as pk;
use super::{Norm, take};

impl Norm<'_> {
    /// PANTHER's strace and memcheck options, turned into the bundled plugins' parameters
    /// or dropped with a warning.
    pub(super) fn exec_knobs(&mut self, item: &mut Node) {
        let kind = item.get("type").and_then(Node::as_str).unwrap_or("");
        let kind = kind.to_string();
        let Some(pc) = item.entry_mut("plugin_config") else {
            return;
        };
        let Value::Map(pc) = &mut pc.value.value else {
            return;
        };
        match kind.as_str() {
            "strace" => self.strace_knobs(pc),
            "memcheck" => self.memcheck_knobs(pc),
            other => self.drop_unused(pc, pk::exec_unused(other)),
        }
    }

    /// `trace_all_syscalls: true` → `trace: all`; otherwise the classes switched on by
    /// `trace_network_syscalls` and `trace_file_syscalls` (`trace: network,file`).
    fn strace_knobs(&mut self, pc: &mut Vec<MapEntry>) {
        let has_trace = pc.iter().any(|e| e.key == "trace");
        let mut switches: Vec<(MapEntry, bool)> = Vec::new();
        for key in pk::STRACE_MAPPED {
            let Some(e) = take(pc, key) else { continue };
            match &e.value.value {
                Value::Scalar(s) if matches!(s.resolve(), Resolved::Bool(_)) => {
                    let on = s.resolve() == Resolved::Bool(true);
                    switches.push((e, on));
                }
                _ => self.bool_expected(&e),
            }
        }
        let on: Vec<&str> = switches
            .iter()
            .filter(|(_, on)| *on)
            .map(|(e, _)| e.key.as_str())
            .collect();
        let value = if on.contains(&"trace_all_syscalls") {
            "all".to_string()
        } else {
            on.iter()
                .map(|k| {
                    if *k == "trace_file_syscalls" {
                        "file"
                    } else {
                        "network"
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        for (e, _) in &switches {
            let help = if has_trace {
                "`trace` is set too and wins".to_string()
            } else if value.is_empty() {
                "all off: panther traces the network calls unless `trace` says otherwise"
                    .to_string()
            } else {
                format!("panther reads the switches as `trace: {value}`")
            };
            self.warn(
                e.key_span,
                format!("`{}` is PANTHER's strace switch", e.key),
                help,
            );
        }
        if !has_trace
            && !value.is_empty()
            && let Some((e, _)) = switches.iter().find(|(_, on)| *on)
        {
            pc.push(MapEntry {
                key: "trace".into(),
                key_span: e.key_span,
                value: Node::scalar(value, false, e.value.span),
            });
        }
        self.drop_unused(pc, pk::STRACE_UNUSED);
    }

    fn bool_expected(&mut self, e: &MapEntry) {
        self.out.push(
            Diagnostic::error(
                self.file,
                e.value.span,
                format!("`{}` is {}", e.key, e.value.kind_name()),
            )
            .expected("true or false"),
        );
    }

    /// `leak_check: yes|true` is `full` (`false` is `no`); `errors_for_leak_kinds` is
    /// `leak_errors`; the rest of PANTHER's memcheck options are dropped by name.
    fn memcheck_knobs(&mut self, pc: &mut Vec<MapEntry>) {
        if let Some(e) = pc.iter_mut().find(|e| e.key == "leak_check")
            && let Value::Scalar(s) = &mut e.value.value
        {
            let ours = match s.resolve() {
                Resolved::Str("yes") | Resolved::Bool(true) => Some("full"),
                Resolved::Bool(false) => Some("no"),
                _ => None,
            };
            if let Some(ours) = ours {
                self.out.push(
                    Diagnostic::warning(
                        self.file,
                        e.value.span,
                        format!("`leak_check: {}` reads as `{ours}`", s.text),
                    )
                    .help(format!("write `leak_check: {ours}` (no, summary or full)")),
                );
                s.text = ours.into();
                s.plain = false;
            }
        }
        let has_ours = pc.iter().any(|e| e.key == "leak_errors");
        if let Some(e) = pc.iter_mut().find(|e| e.key == "errors_for_leak_kinds") {
            let fits = matches!(
                e.value.as_str(),
                Some("none" | "definite" | "definite,possible" | "all")
            );
            if fits && !has_ours {
                self.warn(
                    e.key_span,
                    "`errors_for_leak_kinds` is PANTHER's name",
                    "write `leak_errors`",
                );
                e.key = "leak_errors".into();
            }
        }
        if let Some(i) = pc.iter().position(|e| e.key == "errors_for_leak_kinds") {
            let e = pc.remove(i);
            self.warn(
                e.key_span,
                "`errors_for_leak_kinds` is PANTHER's; panther does not use it here",
                "`leak_errors` (none, definite, definite,possible or all) chooses which leak kinds count",
            );
        }
        self.drop_unused(pc, pk::MEMCHECK_UNUSED);
    }
}
