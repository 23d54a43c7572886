//! Command templates: argv elements rendered with minijinja. Checked when a manifest loads so a
//! typo in a variable name is a load error with a position, not a failed run.

use std::collections::BTreeSet;

/// Variables every service template may use (documented in docs/PLUGINS.md).
pub const SERVICE_VARS: &[&str] = &[
    "panther",
    "plugin_dir",
    "service",
    "test",
    "role",
    "protocol",
    "version",
    "host",
    "port",
    "target",
    "target_host",
    "target_port",
    "run_dir",
    "artifact_dir",
    "timeout",
    // QUIC and TLS services (docs/PLUGINS.md): the per-run certificate, the qlog folder,
    // the NSS key log file, and panther's tools folder.
    "cert",
    "key",
    "ca",
    "qlog_dir",
    "keylog",
    "tools",
    // QUIC services: the test's files to serve, and where a client puts what it fetched.
    "www",
    "downloads",
];

/// Variables an execution-environment prefix may use.
pub const WRAPPER_VARS: &[&str] = &[
    "panther",
    "plugin_dir",
    "service",
    "test",
    "run_dir",
    "artifact_dir",
];

/// Whether a string needs rendering at all (most argv elements are literals).
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// The variables a template reads, or the syntax error.
pub fn variables(src: &str) -> Result<BTreeSet<String>, String> {
    if !is_template(src) {
        return Ok(BTreeSet::new());
    }
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let tmpl = env
        .template_from_str(src)
        .map_err(|e| e.detail().unwrap_or("syntax error").to_string())?;
    Ok(tmpl.undeclared_variables(false).into_iter().collect())
}

/// The rendering environment: strict about undefined variables, and booleans print as
/// `true`/`false` (command lines and config files want YAML's spelling, not Python's).
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_formatter(|out, state, value| {
        if value.kind() == minijinja::value::ValueKind::Bool {
            out.write_str(if value.is_true() { "true" } else { "false" })?;
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env
}

/// Render one template with a context; undefined variables are errors.
pub fn render(src: &str, ctx: &serde_json::Value) -> Result<String, String> {
    if !is_template(src) {
        return Ok(src.to_string());
    }
    let env = environment();
    env.render_str(src, minijinja::value::Serde(ctx))
        .map_err(|e| {
            let mut s = e.to_string();
            if let Some(d) = e.detail() {
                s = format!("{s}: {d}");
            }
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_and_renders() {
        let v = variables("--port={{ port }} {{ target_host }}").unwrap();
        assert_eq!(v.into_iter().collect::<Vec<_>>(), ["port", "target_host"]);
        assert!(variables("{{ port ").is_err());
        let ctx = serde_json::json!({"port": 8080});
        assert_eq!(render("--port={{ port }}", &ctx).unwrap(), "--port=8080");
        assert!(render("{{ nope }}", &ctx).is_err());
        let ctx = serde_json::json!({"flag": true, "off": false});
        assert_eq!(
            render("--x={{ flag }},{{ off }}", &ctx).unwrap(),
            "--x=true,false"
        );
    }
}
