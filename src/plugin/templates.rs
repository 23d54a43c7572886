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

/// The variables a template reads, or the syntax error. The environment's own globals
/// (`range`, `dict`, `namespace`, …) are functions, not variables, and are left out.
pub fn variables(src: &str) -> Result<BTreeSet<String>, String> {
    if !is_template(src) {
        return Ok(BTreeSet::new());
    }
    let env = environment();
    let tmpl = env
        .template_from_str(src)
        .map_err(|e| e.detail().unwrap_or("syntax error").to_string())?;
    let globals: BTreeSet<&str> = env.globals().map(|(k, _)| k).collect();
    Ok(tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !globals.contains(v.as_str()))
        .collect())
}

/// Instructions one render may execute: far above any real command line or config file,
/// far below what a runaway loop or a recursive macro would take.
pub const FUEL: u64 = 1_000_000;

/// Bytes one render may produce (a `files:` template is read with a 4 MiB limit).
pub const MAX_OUTPUT: usize = 16 << 20;

/// The rendering environment: strict about undefined variables, booleans print as
/// `true`/`false` (command lines and config files want YAML's spelling, not Python's), a
/// bounded amount of work ([`FUEL`]), and no other templates: `include`, `import` and
/// `extends` are errors (a template may only read its own variables).
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_loader(|name| -> Result<Option<String>, minijinja::Error> {
        Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("`{name}`: a panther template cannot include, import or extend another"),
        ))
    });
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

/// A writer that refuses to grow past [`MAX_OUTPUT`].
#[derive(Default)]
struct Capped {
    out: Vec<u8>,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > MAX_OUTPUT {
            self.over = true;
            return Err(std::io::Error::other("output too large"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// "kind: detail" (minijinja's own `Display` repeats the detail after a location that, for
/// one argv element, says nothing).
fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Why a template did not render.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A syntax or evaluation error of the template engine (undefined value, unknown filter,
    /// `1/0`, no fuel left, `include`…): its kind and detail.
    #[error("{}", describe(.0))]
    Engine(#[source] minijinja::Error),
    #[error("the template renders more than {MAX_OUTPUT} bytes")]
    TooLarge,
    #[error(transparent)]
    NotUtf8(#[from] std::string::FromUtf8Error),
}

/// Render one template with a context; undefined variables, unknown filters or tests,
/// arithmetic errors, other templates, more than [`FUEL`] instructions or [`MAX_OUTPUT`]
/// bytes are errors.
pub fn render(src: &str, ctx: &serde_json::Value) -> Result<String, TemplateError> {
    if !is_template(src) {
        return Ok(src.to_string());
    }
    let env = environment();
    let tmpl = env.template_from_str(src).map_err(TemplateError::Engine)?;
    let mut out = Capped::default();
    let done = tmpl.render_captured_to(
        minijinja::Value::from(minijinja::value::Serde(ctx)),
        &mut out,
    );
    match done {
        Err(_) if out.over => Err(TemplateError::TooLarge),
        Err(e) => Err(TemplateError::Engine(e)),
        Ok(_) => Ok(String::from_utf8(out.out)?),
    }
}

/// Values of the right shape for every run variable, so a manifest's templates can be
/// rendered once when it loads: what fails with them (an unknown filter, `1/0`, a runaway
/// macro) would fail at run time too.
pub fn placeholders(vars: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    vars.iter()
        .map(|&v| {
            let val = match v {
                "port" | "target_port" => serde_json::json!(4433),
                "timeout" => serde_json::json!(30.0),
                "host" | "target_host" => serde_json::json!("127.0.0.1"),
                _ => serde_json::json!(format!("/panther/{v}")),
            };
            (v.to_string(), val)
        })
        .collect()
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

    #[test]
    fn a_render_is_bounded_and_reads_no_other_template() {
        let ctx = serde_json::json!({});
        let big = "{% for i in range(100) %}{{ 'x' * 1000000 }}{% endfor %}";
        let e = render(big, &ctx).unwrap_err();
        assert!(matches!(e, TemplateError::TooLarge), "{e}");
        assert!(e.to_string().contains("renders more than"), "{e}");
        let e = render("{% include 'x' %}", &ctx).unwrap_err().to_string();
        assert!(e.contains("cannot include"), "{e}");
        assert!(
            render(
                "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}",
                &ctx
            )
            .unwrap_err()
            .to_string()
            .contains("fuel")
        );
        assert_eq!(variables("{{ range(3) | list }}{{ x }}").unwrap().len(), 1);
    }
}
