//! PANTHER's spellings, rewritten to ours on the spanned tree before typing. Spans move
//! with their nodes, so later errors still point at the user's text.
//!
//! What happens to a PANTHER key here: its own spelling is accepted silently where PANTHER
//! accepts it (`TESTERS`, `IUT`, `Server`); an alias becomes ours with a warning saying
//! what to write; a key PANTHER knows and panther has no use for is dropped with a warning
//! naming it (tables in `panther_keys`); a key neither knows stays for the typed model,
//! which refuses it with a suggestion.

use crate::diag::Diagnostic;
use crate::suggest;
use crate::yaml::{MapEntry, Node, Resolved, Span, Value};

use super::panther_keys::{self as pk, Unused};
use super::shadow;

mod exec_knobs;
mod steps;

/// Keys an environment item understands itself; anything else PANTHER put at this level is
/// plugin configuration.
const EXEC_KEYS: &[&str] = &["type", "enabled", "plugin_config", "slowdown"];
const NET_KEYS: &[&str] = &[
    "type",
    "link",
    "links",
    "capture",
    "plugin_config",
    "deploy_timeout",
];

struct Norm<'a> {
    file: &'a str,
    out: Vec<Diagnostic>,
}

pub fn normalize(root: &mut Node, file: &str) -> Vec<Diagnostic> {
    let mut n = Norm {
        file,
        out: Vec::new(),
    };
    let Value::Map(top) = &mut root.value else {
        return n.out;
    };
    n.drop_unused(top, pk::TOP_UNUSED);
    if let Some(logging) = map_of(top, "logging") {
        if let Some(level) = logging.iter_mut().find(|e| e.key == "level")
            && let Value::Scalar(s) = &mut level.value.value
        {
            s.text = s.text.to_ascii_uppercase();
        }
        n.drop_unused(logging, pk::LOGGING_UNUSED);
    }
    if let Some(paths) = map_of(top, "paths") {
        n.drop_unused(paths, pk::PATHS_UNUSED);
    }
    if let Some(docker) = map_of(top, "docker") {
        n.docker(docker, pk::DOCKER_KEYS, "docker");
        if let Some(um) = map_of(docker, "user_mapping") {
            n.check_keys(um, pk::DOCKER_USER_MAPPING_KEYS, "docker.user_mapping");
        }
    }
    if let Some(tests) = top.iter_mut().find(|e| e.key == "tests")
        && let Value::Seq(tests) = &mut tests.value.value
    {
        for test in tests {
            n.test(test);
        }
    }
    n.out
}

/// The entries of `key`'s value when it is a map.
fn map_of<'n>(entries: &'n mut [MapEntry], key: &str) -> Option<&'n mut Vec<MapEntry>> {
    match &mut entries.iter_mut().find(|e| e.key == key)?.value.value {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

fn take(entries: &mut Vec<MapEntry>, key: &str) -> Option<MapEntry> {
    let i = entries.iter().position(|e| e.key == key)?;
    Some(entries.remove(i))
}

impl Norm<'_> {
    fn warn(&mut self, span: Span, msg: impl Into<String>, help: impl Into<String>) {
        self.out
            .push(Diagnostic::warning(self.file, span, msg).help(help));
    }

    /// Drops the keys of `table` with a warning naming each.
    fn drop_unused(&mut self, entries: &mut Vec<MapEntry>, table: &[Unused]) {
        let mut i = 0;
        while i < entries.len() {
            match pk::unused_reason(table, &entries[i].key) {
                Some(why) => {
                    let e = entries.remove(i);
                    self.warn(
                        e.key_span,
                        format!("`{}` is PANTHER's; panther does not use it", e.key),
                        why,
                    );
                }
                None => i += 1,
            }
        }
    }

    /// Keys of an opaque block (kept as JSON for the environment that reads it) must be
    /// keys PANTHER declares there.
    fn check_keys(&mut self, entries: &[MapEntry], known: &[&str], what: &str) {
        for e in entries {
            if !known.contains(&e.key.as_str()) {
                self.out.push(
                    Diagnostic::error(
                        self.file,
                        e.key_span,
                        format!("unknown key `{}` in `{what}`", e.key),
                    )
                    .expected(format!("one of {}", suggest::one_of(known)))
                    .help_opt(suggest::did_you_mean(&e.key, known.iter().copied())),
                );
            }
        }
    }

    /// A `docker` block: the legacy `build_docker_image` is today's
    /// `force_build_docker_image`.
    fn docker(&mut self, entries: &mut [MapEntry], known: &[&str], what: &str) {
        let has_new = entries.iter().any(|e| e.key == "force_build_docker_image");
        if !has_new && let Some(e) = entries.iter_mut().find(|e| e.key == "build_docker_image") {
            self.warn(
                e.key_span,
                "`build_docker_image` is PANTHER's older spelling",
                "write `force_build_docker_image`",
            );
            e.key = "force_build_docker_image".into();
        }
        self.check_keys(entries, known, what);
    }

    fn test(&mut self, test: &mut Node) {
        let Value::Map(entries) = &mut test.value else {
            return;
        };
        self.drop_unused(entries, pk::TEST_UNUSED);
        for key in ["timeout", "iterations"] {
            unquote_number(entries, key);
        }

        // `execution_environments` → `execution_environment` (unless both are given: then
        // the typed model reports the unknown key).
        let has_singular = entries.iter().any(|e| e.key == "execution_environment");
        if !has_singular
            && let Some(e) = entries
                .iter_mut()
                .find(|e| e.key == "execution_environments")
        {
            self.warn(
                e.key_span,
                "`execution_environments` is PANTHER's alias",
                "write `execution_environment` (a list)",
            );
            e.key = "execution_environment".into();
        }

        let service_names: Vec<String> = entries
            .iter()
            .find(|e| e.key == "services")
            .and_then(|e| e.value.as_map())
            .map(|m| m.iter().map(|s| s.key.clone()).collect())
            .unwrap_or_default();

        let mut stop = None;
        for e in entries.iter_mut() {
            match e.key.as_str() {
                "execution_environment" => self.execution_environments(&mut e.value),
                "network_environment" => stop = self.network_environment(&mut e.value),
                "services" => {
                    if let Value::Map(services) = &mut e.value.value {
                        for s in services {
                            self.service(s);
                        }
                    }
                }
                "steps" => {
                    if let Value::Map(steps) = &mut e.value.value {
                        unquote_number(steps, "wait");
                        for key in ["pre_commands", "post_commands"] {
                            if let Some(cmds) = steps.iter_mut().find(|e| e.key == key)
                                && let Value::Seq(items) = &mut cmds.value.value
                            {
                                for item in items {
                                    self.command_line(key, item);
                                }
                            }
                        }
                    }
                }
                "assertions" => self.assertions(&mut e.value, &service_names),
                _ => {}
            }
        }
        if let Some(stop) = stop {
            self.stop_time(entries, stop);
        }
    }

    /// Shadow's `general.stop_time` ends the simulation: here it bounds the test.
    fn stop_time(&mut self, entries: &mut Vec<MapEntry>, stop: shadow::StopTime) {
        let text = format!("{}", stop.secs);
        match entries.iter_mut().find(|e| e.key == "timeout") {
            Some(t) => {
                if let Value::Scalar(s) = &mut t.value.value
                    && let Some(cur) = as_number(s.resolve())
                    && cur > stop.secs
                {
                    self.warn(
                        stop.value_span,
                        format!(
                            "the test's `timeout` ({cur} s) is cut to Shadow's stop_time ({text} s)"
                        ),
                        "Shadow stops the whole simulation at stop_time; panther stops the test",
                    );
                    s.text = text;
                    s.plain = true;
                }
            }
            None => entries.push(MapEntry {
                key: "timeout".into(),
                key_span: stop.key_span,
                value: Node::scalar(text, true, stop.value_span),
            }),
        }
    }

    fn execution_environments(&mut self, v: &mut Node) {
        if v.is_null() {
            v.value = Value::Seq(Vec::new());
        }
        if matches!(v.value, Value::Map(_)) {
            self.warn(
                v.span,
                "`execution_environment` is a single map; a list is expected",
                "write it as a list item: `execution_environment: [{type: …}]`",
            );
            let item = std::mem::replace(&mut v.value, Value::Seq(Vec::new()));
            v.value = Value::Seq(vec![Node {
                value: item,
                span: v.span,
            }]);
        }
        if let Value::Seq(items) = &mut v.value {
            for item in items {
                if let Value::Map(m) = &mut item.value {
                    self.drop_unused(m, pk::ENV_BASE_UNUSED);
                }
                let kind = item.get("type").and_then(Node::as_str).unwrap_or("");
                // What `exec_knobs` maps or drops is not announced twice.
                let quiet: Vec<&str> = match kind {
                    "strace" => pk::STRACE_MAPPED
                        .iter()
                        .copied()
                        .chain(pk::STRACE_UNUSED.iter().map(|(k, _)| *k))
                        .collect(),
                    "memcheck" => pk::MEMCHECK_UNUSED
                        .iter()
                        .map(|(k, _)| *k)
                        .chain(["errors_for_leak_kinds"])
                        .collect(),
                    other => pk::exec_unused(other).iter().map(|(k, _)| *k).collect(),
                };
                self.hoist_into_plugin_config(item, EXEC_KEYS, &quiet, "execution environment");
                self.exec_knobs(item);
            }
        }
    }

    fn network_environment(&mut self, v: &mut Node) -> Option<shadow::StopTime> {
        let stop = shadow::convert(v, self.file, &mut self.out);
        if let Some(ty) = v.entry_mut("type")
            && let Value::Scalar(s) = &mut ty.value.value
            && s.text == "localhost_single_container"
        {
            s.text = "localhost".into();
            self.out.push(
                Diagnostic::warning(
                    self.file,
                    ty.value.span,
                    "`localhost_single_container` runs as `localhost`: every service is a process on this machine, with no container",
                )
                .help("write `type: localhost`; use `docker_compose` for containers"),
            );
        }
        if let Value::Map(m) = &mut v.value {
            self.drop_unused(m, pk::ENV_BASE_UNUSED);
        }
        self.hoist_into_plugin_config(v, NET_KEYS, &[], "network environment");
        stop
    }

    /// PANTHER lets environment-specific keys sit next to `type` (`{type: strace,
    /// trace_all_syscalls: true}`); ours live under `plugin_config`, where they are checked
    /// against the plugin's parameters. Moving a key of `quiet` is not announced: a later
    /// step says what becomes of it.
    fn hoist_into_plugin_config(
        &mut self,
        node: &mut Node,
        keep: &[&str],
        quiet: &[&str],
        what: &str,
    ) {
        let Value::Map(entries) = &mut node.value else {
            return;
        };
        let (stay, moved): (Vec<MapEntry>, Vec<MapEntry>) = std::mem::take(entries)
            .into_iter()
            .partition(|e| keep.contains(&e.key.as_str()));
        *entries = stay;
        for m in moved.iter().filter(|m| !quiet.contains(&m.key.as_str())) {
            self.warn(
                m.key_span,
                format!("`{}` sits next to the {what}'s `type`", m.key),
                format!(
                    "PANTHER allows this; panther reads it as `plugin_config.{}`",
                    m.key
                ),
            );
        }
        merge_plugin_config(entries, moved);
        if let Some(pc) = map_of(entries, "plugin_config") {
            self.drop_unused(pc, pk::ENV_BASE_UNUSED);
        }
    }

    fn service(&mut self, svc: &mut MapEntry) {
        let key = svc.key.clone();
        let Value::Map(entries) = &mut svc.value.value else {
            return;
        };
        // PANTHER's builder names a service by its key when `name` is missing; the legacy
        // schema required `name`, so PANTHER's files repeat the key there.
        if let Some(name) = take(entries, "name") {
            let same = name.value.as_str() == Some(key.as_str());
            if !same {
                self.warn(
                    name.key_span,
                    format!(
                        "the service is `{key}` (its key); `name: {}` is ignored",
                        name.value.as_str().unwrap_or("…")
                    ),
                    "targets and results use the key; rename the key to rename the service",
                );
            }
        }
        self.drop_unused(entries, pk::SERVICE_UNUSED);
        unquote_number(entries, "timeout");

        let mut knobs = Vec::new();
        if let Some(imp) = map_of(entries, "implementation") {
            if let Some(ty) = imp.iter_mut().find(|e| e.key == "type")
                && let Value::Scalar(s) = &mut ty.value.value
            {
                // PANTHER lower-cases the type and its enum is `iut|testers`.
                match s.text.to_ascii_lowercase().as_str() {
                    "iut" => s.text = "iut".into(),
                    "testers" | "tester" => s.text = "tester".into(),
                    _ => {}
                }
            }
            let mut i = 0;
            while i < imp.len() {
                if pk::IMPLEMENTATION_KNOBS.contains(&imp[i].key.as_str()) {
                    knobs.push(imp.remove(i));
                } else {
                    i += 1;
                }
            }
        }
        // PANTHER's builder moves them silently; validation warns about each one the
        // plugin does not declare.
        if !knobs.is_empty() {
            merge_plugin_config(entries, knobs);
        }
        if let Some(proto) = map_of(entries, "protocol")
            && let Some(role) = proto.iter_mut().find(|e| e.key == "role")
            && let Value::Scalar(s) = &mut role.value.value
        {
            s.text = s.text.to_ascii_lowercase();
        }
        if let Some(docker) = map_of(entries, "docker") {
            self.docker(docker, pk::SERVICE_DOCKER_KEYS, "docker");
        }
    }
}

/// Adds `moved` to the map's `plugin_config` (creating it at the first moved key); a key
/// already in `plugin_config` wins.
fn merge_plugin_config(entries: &mut Vec<MapEntry>, moved: Vec<MapEntry>) {
    if moved.is_empty() {
        return;
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

fn as_number(r: Resolved<'_>) -> Option<f64> {
    match r {
        Resolved::Int(i) => Some(i as f64),
        Resolved::Float(f) => Some(f),
        _ => None,
    }
}

/// PANTHER's pydantic models coerce `"60"` to 60: a quoted number is read as the number.
fn unquote_number(entries: &mut [MapEntry], key: &str) {
    if let Some(e) = entries.iter_mut().find(|e| e.key == key)
        && let Value::Scalar(s) = &mut e.value.value
        && !s.plain
        && !s.text.trim().is_empty()
        && s.text.trim().parse::<f64>().is_ok()
    {
        s.text = s.text.trim().to_string();
        s.plain = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, Path, parse};

    #[test]
    fn panther_aliases_become_ours_with_warnings() {
        let src = "tests:\n  - name: t\n    execution_environments: {type: strace, trace_all_syscalls: true}\n    services:\n      s: {implementation: {name: x, type: TESTERS}}\n";
        let mut root = parse(src, Limits::default()).unwrap();
        let w = normalize(&mut root, "f.yaml");
        let msgs: Vec<&str> = w.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(w.len(), 3, "{w:#?}");
        let t = Path::root().key("tests").index(0);
        let ee = root.at(&t.key("execution_environment").index(0)).unwrap();
        assert_eq!(ee.get("type").unwrap().as_str(), Some("strace"));
        let pc = ee.get("plugin_config").unwrap();
        assert_eq!(pc.get("trace").unwrap().as_str(), Some("all"));
        assert!(pc.get("trace_all_syscalls").is_none());
        assert!(
            msgs.iter()
                .any(|m| m.contains("`trace_all_syscalls` is PANTHER's strace switch"))
        );
        let ty = root
            .at(&t.key("services").key("s").key("implementation").key("type"))
            .unwrap();
        // PANTHER's own spelling: accepted without a warning.
        assert_eq!(ty.as_str(), Some("tester"));
        assert!(msgs.iter().all(|m| !m.contains("TESTERS")), "{msgs:?}");
        // Warnings point at the user's text.
        assert_eq!((w[0].line, w[0].column), (3, 5));
    }

    #[test]
    fn known_but_unused_keys_are_dropped_by_name() {
        let src = "features: {fast_fail: true}\ntests:\n  - name: t\n    debug_environment: []\n    services:\n      s:\n        name: s\n        secondary_endpoints: [a]\n        implementation: {name: x, type: iut, log_level_events: debug}\n";
        let mut root = parse(src, Limits::default()).unwrap();
        let w = normalize(&mut root, "f.yaml");
        let msgs: Vec<&str> = w.iter().map(|d| d.message.as_str()).collect();
        for key in ["features", "debug_environment", "secondary_endpoints"] {
            assert!(
                msgs.contains(&format!("`{key}` is PANTHER's; panther does not use it").as_str()),
                "{key}: {msgs:?}"
            );
        }
        assert!(root.get("features").is_none());
        let s = root
            .at(&Path::root().key("tests").index(0).key("services").key("s"))
            .unwrap();
        assert!(s.get("name").is_none());
        assert_eq!(
            s.get("plugin_config")
                .and_then(|p| p.get("log_level_events"))
                .and_then(Node::as_str),
            Some("debug")
        );
        // `name` equal to the key needs no warning, nor does moving a tester knob (PANTHER
        // does it too; validation warns when the plugin lacks it).
        assert_eq!(w.len(), 3, "{msgs:?}");
    }

    #[test]
    fn step_lines_become_argv_only_when_no_shell_is_needed() {
        let src = "tests:\n  - name: t\n    steps:\n      pre_commands:\n        - ip link set dev eth0 mtu=1400\n        - FOO=1 ./run\n        - echo ~\n        - echo $HOME\n        - [already, argv]\n";
        let mut root = parse(src, Limits::default()).unwrap();
        let w = normalize(&mut root, "f.yaml");
        let errs: Vec<u32> = w.iter().filter(|d| d.is_error()).map(|d| d.line).collect();
        assert_eq!(errs, [6, 7, 8], "{w:#?}");
        let cmds = root
            .at(&Path::root()
                .key("tests")
                .index(0)
                .key("steps")
                .key("pre_commands"))
            .unwrap()
            .as_seq()
            .unwrap();
        let first: Vec<&str> = cmds[0]
            .as_seq()
            .unwrap()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        assert_eq!(first, ["ip", "link", "set", "dev", "eth0", "mtu=1400"]);
        assert_eq!(cmds[4].as_seq().unwrap().len(), 2);
    }
}
