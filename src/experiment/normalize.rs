//! PANTHER's spellings, rewritten to ours on the spanned tree before typing, each with a
//! warning that says what to write instead. Spans move with their nodes, so later errors
//! still point at the user's text.

use crate::diag::Diagnostic;
use crate::yaml::{MapEntry, Node, Value};

/// Keys an environment item understands itself; anything else PANTHER put at this level is
/// plugin configuration.
const EXEC_KEYS: &[&str] = &["type", "enabled", "plugin_config"];
const NET_KEYS: &[&str] = &["type", "link", "plugin_config", "deploy_timeout"];

pub fn normalize(root: &mut Node, file: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(level) = root
        .entry_mut("logging")
        .and_then(|e| e.value.entry_mut("level"))
        && let Value::Scalar(s) = &mut level.value.value
    {
        s.text = s.text.to_ascii_uppercase();
    }
    let Some(tests) = root.entry_mut("tests") else {
        return out;
    };
    let Value::Seq(tests) = &mut tests.value.value else {
        return out;
    };
    for test in tests {
        normalize_test(test, file, &mut out);
    }
    out
}

fn normalize_test(test: &mut Node, file: &str, out: &mut Vec<Diagnostic>) {
    let Value::Map(entries) = &mut test.value else {
        return;
    };

    // `execution_environments` → `execution_environment` (unless both are given: then the
    // typed model reports the unknown key).
    let has_singular = entries.iter().any(|e| e.key == "execution_environment");
    if !has_singular
        && let Some(e) = entries
            .iter_mut()
            .find(|e| e.key == "execution_environments")
    {
        out.push(
            Diagnostic::warning(
                file,
                e.key_span,
                "`execution_environments` is PANTHER's alias",
            )
            .help("write `execution_environment` (a list)"),
        );
        e.key = "execution_environment".into();
    }

    for e in entries.iter_mut() {
        match e.key.as_str() {
            "execution_environment" => {
                if e.value.is_null() {
                    e.value.value = Value::Seq(Vec::new());
                }
                if matches!(e.value.value, Value::Map(_)) {
                    out.push(
                        Diagnostic::warning(
                            file,
                            e.value.span,
                            "`execution_environment` is a single map; a list is expected",
                        )
                        .help("write it as a list item: `execution_environment: [{type: …}]`"),
                    );
                    let item = std::mem::replace(&mut e.value.value, Value::Seq(Vec::new()));
                    let span = e.value.span;
                    e.value.value = Value::Seq(vec![Node { value: item, span }]);
                }
                if let Value::Seq(items) = &mut e.value.value {
                    for item in items {
                        hoist_into_plugin_config(
                            item,
                            EXEC_KEYS,
                            "execution environment",
                            file,
                            out,
                        );
                    }
                }
            }
            "network_environment" => {
                hoist_into_plugin_config(&mut e.value, NET_KEYS, "network environment", file, out)
            }
            "services" => {
                if let Value::Map(services) = &mut e.value.value {
                    for s in services {
                        normalize_service(&mut s.value, file, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// PANTHER lets environment-specific keys sit next to `type` (`{type: strace,
/// trace_all_syscalls: true}`); ours live under `plugin_config`, where they are checked
/// against the plugin's parameters.
fn hoist_into_plugin_config(
    node: &mut Node,
    keep: &[&str],
    what: &str,
    file: &str,
    out: &mut Vec<Diagnostic>,
) {
    let Value::Map(entries) = &mut node.value else {
        return;
    };
    let (stay, moved): (Vec<MapEntry>, Vec<MapEntry>) = std::mem::take(entries)
        .into_iter()
        .partition(|e| keep.contains(&e.key.as_str()));
    *entries = stay;
    if moved.is_empty() {
        return;
    }
    for m in &moved {
        out.push(
            Diagnostic::warning(
                file,
                m.key_span,
                format!("`{}` sits next to the {what}'s `type`", m.key),
            )
            .help(format!(
                "PANTHER allows this; panther reads it as `plugin_config.{}`",
                m.key
            )),
        );
    }
    match entries.iter_mut().find(|e| e.key == "plugin_config") {
        Some(pc) => {
            if let Value::Map(pcm) = &mut pc.value.value {
                for m in moved {
                    if !pcm.iter().any(|e| e.key == m.key) {
                        pcm.push(m);
                    }
                }
            }
        }
        None => {
            let span = moved[0].key_span;
            entries.push(MapEntry {
                key: "plugin_config".into(),
                key_span: span,
                value: Node {
                    value: Value::Map(moved),
                    span,
                },
            });
        }
    }
}

fn normalize_service(svc: &mut Node, file: &str, out: &mut Vec<Diagnostic>) {
    let Some(ty) = svc
        .entry_mut("implementation")
        .and_then(|i| i.value.entry_mut("type"))
    else {
        return;
    };
    let Value::Scalar(s) = &mut ty.value.value else {
        return;
    };
    let canonical = match s.text.to_ascii_lowercase().as_str() {
        "iut" => "iut",
        "tester" | "testers" => "tester",
        _ => return,
    };
    if s.text != canonical {
        out.push(
            Diagnostic::warning(
                file,
                ty.value.span,
                format!("`type: {}` is PANTHER's spelling", s.text),
            )
            .help(format!("write `type: {canonical}`")),
        );
        s.text = canonical.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, Path, parse};

    #[test]
    fn panther_aliases_become_ours_with_warnings() {
        let src = "tests:\n  - name: t\n    execution_environments: {type: strace, trace_all_syscalls: true}\n    services:\n      s: {implementation: {name: x, type: IUT}}\n";
        let mut root = parse(src, Limits::default()).unwrap();
        let w = normalize(&mut root, "f.yaml");
        assert_eq!(w.len(), 4, "{w:#?}");
        let t = Path::root().key("tests").index(0);
        let ee = root.at(&t.key("execution_environment").index(0)).unwrap();
        assert_eq!(ee.get("type").unwrap().as_str(), Some("strace"));
        let pc = ee.get("plugin_config").unwrap();
        assert_eq!(pc.get("trace_all_syscalls").unwrap().as_str(), Some("true"));
        let ty = root
            .at(&t.key("services").key("s").key("implementation").key("type"))
            .unwrap();
        assert_eq!(ty.as_str(), Some("iut"));
        // Warnings point at the user's text.
        assert_eq!((w[0].line, w[0].column), (3, 5));
    }
}
