//! Checks one manifest on its own: names, kind-specific sections, parameter defaults, command
//! templates and event rules. Cross-plugin checks (does the protocol exist?) are the registry's.

use crate::diag::{Diagnostic, Reporter};
use crate::suggest;
use crate::yaml::{Node, Path};

use super::manifest::{Kind, Manifest, NETWORK_DRIVERS, ParamType, Parameter, WRAPPER_PARSERS};
use super::templates;
use serde_json::Value;

/// Lowercase identifier: letters, digits, underscores; starts with a letter.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 64
}

type Ctx<'a> = Reporter<'a>;

/// Template syntax and variables of one argv element or env value, then one trial render with
/// [`trial_context`]: what fails then (an unknown filter or test, `1/0`, `include`, a runaway
/// macro, a huge repetition) fails at run time too, and is better said here with a position.
fn template(c: &mut Ctx, path: &Path, src: &str, allowed: &[&str], params: &[&str], ctx: &Value) {
    if src.contains('\0') {
        c.err(path, "contains a NUL character").expected =
            Some("text without NUL: a command line cannot carry one".into());
        return;
    }
    match templates::variables(src) {
        Err(e) => {
            let d = c.err(path, format!("invalid template `{src}`: {e}"));
            d.expected = Some("a minijinja template such as `--port={{ port }}`".into());
        }
        Ok(vars) => {
            let mut unknown = false;
            for v in vars {
                if !allowed.contains(&v.as_str()) && !params.contains(&v.as_str()) {
                    unknown = true;
                    let all: Vec<&str> = allowed.iter().chain(params.iter()).copied().collect();
                    let help = suggest::did_you_mean(&v, all.iter().copied());
                    let d = c.err(path, format!("unknown template variable `{v}`"));
                    d.expected =
                        Some("a parameter of this plugin or one of panther's run variables".into());
                    d.help = help.or_else(|| Some(format!("declare `{v}` under `parameters`")));
                }
            }
            if !unknown && let Err(e) = templates::render(src, ctx) {
                c.err(path, format!("template `{src}` cannot be rendered: {e}"))
                    .expected = Some(
                    "a template that renders with every run variable set (no include, import or extends)"
                        .into(),
                );
            }
        }
    }
}

/// The values a manifest's templates are trial-rendered with: placeholders for the run
/// variables, and each parameter's default (or a value of its type).
pub fn trial_context(m: &Manifest, allowed: &[&str]) -> Value {
    let mut ctx = templates::placeholders(allowed);
    for (k, p) in &m.parameters {
        let v = p.default.clone().unwrap_or_else(|| match p.ty {
            ParamType::String => Value::String(format!("<{k}>")),
            ParamType::Integer | ParamType::Port => Value::from(1),
            ParamType::Number => Value::from(1.0),
            ParamType::Boolean => Value::Bool(false),
            ParamType::List => Value::Array(Vec::new()),
            ParamType::Map => Value::Object(serde_json::Map::new()),
        });
        ctx.insert(k.clone(), v);
    }
    Value::Object(ctx)
}

pub fn check(m: &Manifest, root: &Node, file: &str) -> Vec<Diagnostic> {
    let mut c = Ctx::new(file, root);
    let p = Path::root();
    if !valid_name(&m.name) {
        c.err(&p.key("name"), format!("invalid plugin name `{}`", m.name))
            .expected =
            Some("a lowercase identifier: a-z, 0-9 and _, starting with a letter".into());
    }
    if m.description.trim().is_empty() {
        c.err(&p.key("description"), "description is empty")
            .expected = Some("one sentence saying what the plugin is".into());
    }
    let params: Vec<&str> = m.parameters.keys().map(String::as_str).collect();
    let service_ctx = trial_context(m, templates::SERVICE_VARS);
    let wrapper_ctx = trial_context(m, templates::WRAPPER_VARS);

    // Sections belong to kinds.
    let wrong = |present: bool, key: &str, owner: &str, c: &mut Ctx| {
        if present {
            c.key_err(
                &p.key(key),
                format!(
                    "`{key}` is only for {owner} plugins, and this one is `{}`",
                    m.kind
                ),
            );
        }
    };
    wrong(
        m.protocol.is_some() && m.kind != Kind::Protocol,
        "protocol",
        "protocol",
        &mut c,
    );
    wrong(
        m.network.is_some() && m.kind != Kind::NetworkEnvironment,
        "network",
        "network_environment",
        &mut c,
    );
    wrong(
        m.wrapper.is_some() && m.kind != Kind::ExecutionEnvironment,
        "wrapper",
        "execution_environment",
        &mut c,
    );
    wrong(
        !m.run.is_empty() && !m.kind.is_service(),
        "run",
        "iut and tester",
        &mut c,
    );
    wrong(
        !m.protocols.is_empty() && !m.kind.is_service(),
        "protocols",
        "iut and tester",
        &mut c,
    );
    wrong(
        !m.roles.is_empty() && !m.kind.is_service(),
        "roles",
        "iut and tester",
        &mut c,
    );

    match m.kind {
        Kind::Iut | Kind::Tester => {
            if m.protocols.is_empty() {
                c.err(
                    &p.key("protocols"),
                    format!("an {} plugin must list the protocols it speaks", m.kind),
                )
                .expected = Some("protocols: [{name: minip}]".into());
            }
            if m.roles.is_empty() {
                c.err(&p.key("roles"), "a service plugin must list its roles")
                    .expected = Some("roles: [server] (server, client or peer)".into());
            }
            for (ri, role) in m.roles.iter().enumerate() {
                if !m.run.contains_key(role) {
                    let at = if m.run.is_empty() {
                        p.key("roles").index(ri)
                    } else {
                        p.key("run")
                    };
                    c.err(
                        &at,
                        format!("role `{role}` is declared but `run.{role}` is missing"),
                    )
                    .expected = Some(format!(
                        "run.{role}.argv: the command that starts the {role}"
                    ));
                }
            }
            for (role, spec) in &m.run {
                let rp = p.key("run").key(role.as_str());
                if !m.roles.contains(role) {
                    c.key_err(
                        &rp,
                        format!("`run.{role}` is given but `{role}` is not in `roles`"),
                    );
                }
                if spec.argv.is_empty() {
                    c.err(&rp.key("argv"), "argv is empty").expected =
                        Some("the program and its arguments".into());
                } else if spec.argv[0].trim().is_empty() {
                    c.err(&rp.key("argv").index(0), "the program name is empty")
                        .expected = Some("a program name or path, such as `nginx`".into());
                }
                for (i, a) in spec.argv.iter().enumerate() {
                    template(
                        &mut c,
                        &rp.key("argv").index(i),
                        a,
                        templates::SERVICE_VARS,
                        &params,
                        &service_ctx,
                    );
                }
                for (k, v) in &spec.env {
                    if k.is_empty() || k.contains(['=', '\0']) {
                        c.key_err(
                            &rp.key("env").key(k),
                            format!(
                                "`{}` cannot be an environment variable's name",
                                k.escape_debug()
                            ),
                        )
                        .expected = Some("a name without `=` or NUL, such as `RUST_LOG`".into());
                    }
                    template(
                        &mut c,
                        &rp.key("env").key(k),
                        v,
                        templates::SERVICE_VARS,
                        &params,
                        &service_ctx,
                    );
                }
                if let Some(g) = spec.stop.as_ref().and_then(|s| s.grace_s)
                    && !(g > 0.0 && g <= crate::run::ready::MAX_SECONDS)
                {
                    c.err(&rp.key("stop").key("grace_s"), format!("`grace_s` is {g}"))
                        .expected =
                        Some("a positive number of seconds, at most 31536000 (a year)".into());
                }
                if let Some(r) = &spec.ready {
                    let rp = rp.key("ready");
                    if r.is_empty() {
                        c.err(&rp, "readiness probe is empty").expected = Some(
                            "one of tcp_port, udp_port, quic_port, log, file, delay_ms".into(),
                        );
                    }
                    for (k, v) in [
                        ("tcp_port", &r.tcp_port),
                        ("udp_port", &r.udp_port),
                        ("quic_port", &r.quic_port),
                        ("file", &r.file),
                    ] {
                        if let Some(v) = v {
                            template(
                                &mut c,
                                &rp.key(k),
                                v,
                                templates::SERVICE_VARS,
                                &params,
                                &service_ctx,
                            );
                        }
                    }
                    if let Some(t) = r.timeout_s
                        && !(t > 0.0 && t <= crate::run::ready::MAX_SECONDS)
                    {
                        c.err(&rp.key("timeout_s"), format!("`timeout_s` is {t}"))
                            .expected =
                            Some("a positive number of seconds, at most 31536000 (a year)".into());
                    }
                    if let Some(f) = &r.file {
                        let p = std::path::Path::new(f);
                        if p.is_absolute()
                            || p.components()
                                .any(|c| matches!(c, std::path::Component::ParentDir))
                        {
                            c.err(
                                &rp.key("file"),
                                format!("`{f}` leaves the service's folder"),
                            )
                            .expected = Some(
                                "a path relative to the service's folder, without `..`".into(),
                            );
                        }
                    }
                    if let Some(re) = &r.log
                        && let Err(e) = regex_syntax::Parser::new().parse(re)
                    {
                        c.err(
                            &rp.key("log"),
                            format!("invalid regex: {}", first_line(&e.to_string())),
                        );
                    }
                }
            }
        }
        Kind::Protocol => {
            match &m.protocol {
                None => {
                    c.err(&p, "a protocol plugin needs a `protocol` section").expected =
                    Some("protocol: {family, transport, default_port, versions, default_version, roles}".into());
                }
                Some(spec) => {
                    let pp = p.key("protocol");
                    if spec.versions.is_empty() {
                        c.err(&pp.key("versions"), "a protocol needs at least one version");
                    }
                    if !spec.versions.contains(&spec.default_version) {
                        let help = suggest::did_you_mean(
                            &spec.default_version,
                            spec.versions.iter().map(String::as_str),
                        );
                        let d = c.err(
                            &pp.key("default_version"),
                            format!(
                                "default_version `{}` is not in `versions`",
                                spec.default_version
                            ),
                        );
                        d.expected = Some(suggest::one_of(&spec.versions));
                        d.help = help;
                    }
                    if spec.roles.is_empty() {
                        c.err(&pp.key("roles"), "a protocol needs at least one role");
                    }
                }
            }
        }
        Kind::NetworkEnvironment => match &m.network {
            None => {
                c.err(&p, "a network_environment plugin needs a `network` section")
                    .expected = Some(format!(
                    "network: {{driver: {}}}",
                    NETWORK_DRIVERS.join("|")
                ));
            }
            Some(n) => {
                if !NETWORK_DRIVERS.contains(&n.driver.as_str()) {
                    let help = suggest::did_you_mean(&n.driver, NETWORK_DRIVERS.iter().copied());
                    let d = c.err(
                        &p.key("network").key("driver"),
                        format!("unknown network driver `{}`", n.driver),
                    );
                    d.expected = Some(format!(
                        "a driver built into this panther: {}",
                        suggest::one_of(NETWORK_DRIVERS)
                    ));
                    d.help = help;
                }
            }
        },
        Kind::ExecutionEnvironment => match &m.wrapper {
            None => {
                c.err(
                    &p,
                    "an execution_environment plugin needs a `wrapper` section",
                )
                .expected = Some("wrapper: {argv_prefix: [strace, -f], parser: strace}".into());
            }
            Some(w) => {
                let wp = p.key("wrapper");
                if w.argv_prefix.is_empty() {
                    c.err(&wp.key("argv_prefix"), "argv_prefix is empty");
                }
                for (i, a) in w.argv_prefix.iter().enumerate() {
                    template(
                        &mut c,
                        &wp.key("argv_prefix").index(i),
                        a,
                        templates::WRAPPER_VARS,
                        &params,
                        &wrapper_ctx,
                    );
                }
                if !(1.0..=1000.0).contains(&w.slowdown) {
                    c.err(
                        &wp.key("slowdown"),
                        format!("slowdown {} is out of range", w.slowdown),
                    )
                    .expected = Some("a factor from 1 (no slowdown) to 1000".into());
                }
                if !WRAPPER_PARSERS.contains(&w.parser.as_str()) {
                    let help = suggest::did_you_mean(&w.parser, WRAPPER_PARSERS.iter().copied());
                    let d = c.err(
                        &wp.key("parser"),
                        format!("unknown output parser `{}`", w.parser),
                    );
                    d.expected = Some(suggest::one_of(WRAPPER_PARSERS));
                    d.help = help;
                }
            }
        },
    }

    for (phase, cmd) in m.phases.all() {
        let _ = phase;
        if cmd.is_empty() {
            c.err(&p.key("phases"), "a phase command is empty");
        }
    }

    for (name, param) in &m.parameters {
        let pp = p.key("parameters").key(name.as_str());
        if !valid_name(name) {
            c.key_err(&pp, format!("invalid parameter name `{name}`"))
                .expected = Some("a lowercase identifier".into());
        }
        let reserved = if m.kind == Kind::ExecutionEnvironment {
            templates::WRAPPER_VARS
        } else {
            templates::SERVICE_VARS
        };
        if reserved.contains(&name.as_str()) {
            c.key_err(
                &pp,
                format!("parameter `{name}` has the name of a run variable"),
            )
            .expected = Some(format!("a name other than {}", suggest::one_of(reserved)));
        }
        if param.description.trim().is_empty() {
            c.err(&pp.key("description"), "parameter description is empty");
        }
        check_parameter(&mut c, &pp, param);
    }

    for (i, rule) in m.events.iter().enumerate() {
        let rp = p.key("events").index(i);
        // Parsed, not compiled: loading checks every manifest at each start, and the syntax
        // is what a plugin author gets wrong (compiling all of them was a sixth of the
        // workbench's first frame).
        match regex_syntax::Parser::new().parse(&rule.pattern) {
            Err(e) => {
                c.err(
                    &rp.key("match"),
                    format!("invalid regex: {}", first_line(&e.to_string())),
                );
            }
            Ok(hir) => {
                if let Some(s) = &rule.summary {
                    let mut names = Vec::new();
                    capture_names(&hir, &mut names);
                    let mut vars: Vec<&str> = names.iter().map(|n| &**n).collect();
                    vars.push("line");
                    let ctx = Value::Object(templates::placeholders(&vars));
                    template(&mut c, &rp.key("summary"), s, &vars, &[], &ctx);
                }
            }
        }
    }
    for (i, other) in m.incompatible_with.iter().enumerate() {
        if other == &m.name {
            c.err(
                &p.key("incompatible_with").index(i),
                "a plugin cannot be incompatible with itself",
            );
        }
    }
    c.out
}

/// The named groups of a parsed regex, in order.
fn capture_names(hir: &regex_syntax::hir::Hir, out: &mut Vec<Box<str>>) {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => {
            if let Some(n) = &c.name {
                out.push(n.clone());
            }
            capture_names(&c.sub, out);
        }
        HirKind::Repetition(r) => capture_names(&r.sub, out),
        HirKind::Concat(v) | HirKind::Alternation(v) => {
            v.iter().for_each(|h| capture_names(h, out))
        }
        _ => {}
    }
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn check_parameter(c: &mut Ctx, pp: &Path, param: &Parameter) {
    if let (Some(lo), Some(hi)) = (param.min, param.max)
        && lo > hi
    {
        c.err(&pp.key("min"), format!("min {lo} is greater than max {hi}"));
    }
    if param.choices.is_some() && param.ty != ParamType::String {
        c.key_err(&pp.key("enum"), "`enum` is only for string parameters");
    }
    if let Some(d) = &param.default
        && let Err(msg) = check_value(param, d)
    {
        c.err(
            &pp.key("default"),
            format!("default does not fit the parameter: {msg}"),
        );
    }
}

/// `files:` entries: safe relative paths, and templates that exist next to the manifest and
/// use only known variables. `read` fetches a file of the plugin folder (on disk or bundled).
pub fn check_files(
    m: &Manifest,
    root: &Node,
    file: &str,
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<Diagnostic> {
    let mut c = Ctx::new(file, root);
    let params: Vec<&str> = m.parameters.keys().map(String::as_str).collect();
    let ctx = trial_context(m, templates::SERVICE_VARS);
    for (i, f) in m.files.iter().enumerate() {
        let fp = Path::root().key("files").index(i);
        for (key, v) in [("template", &f.template), ("path", &f.path)] {
            // A file, not a folder: `.`, `dir/` or `a/./` name no file to write.
            let bad = v.is_empty()
                || v.starts_with('/')
                || v.ends_with('/')
                || v.contains('\0')
                || v.split('/').any(|s| s == "..")
                || v.rsplit('/').next() == Some(".");
            if bad {
                c.err(
                    &fp.key(key),
                    format!("`{v}` is not a relative path inside the folder"),
                )
                .expected = Some("a relative file path without `..`, such as `nginx.conf`".into());
            }
        }
        if f.template.split('/').any(|s| s == "..") || f.template.starts_with('/') {
            continue;
        }
        match read(&f.template) {
            None => {
                c.err(
                    &fp.key("template"),
                    format!("template `{}` not found next to plugin.yaml", f.template),
                )
                .expected = Some("a file in the plugin folder".into());
            }
            Some(text) => {
                // Whole-file templates: check syntax and variables like argv elements.
                match templates::variables(&text) {
                    Err(e) => {
                        c.err(
                            &fp.key("template"),
                            format!("template `{}` does not parse: {e}", f.template),
                        );
                    }
                    Ok(vars) => {
                        let mut unknown = false;
                        for v in vars {
                            if !templates::SERVICE_VARS.contains(&v.as_str())
                                && !params.contains(&v.as_str())
                            {
                                unknown = true;
                                let all: Vec<&str> = templates::SERVICE_VARS
                                    .iter()
                                    .chain(params.iter())
                                    .copied()
                                    .collect();
                                let d = c.err(
                                    &fp.key("template"),
                                    format!(
                                        "template `{}` uses unknown variable `{v}`",
                                        f.template
                                    ),
                                );
                                d.expected = Some(
                                    "a parameter of this plugin or one of panther's run variables"
                                        .into(),
                                );
                                d.help = suggest::did_you_mean(&v, all.iter().copied());
                            }
                        }
                        if !unknown && let Err(e) = templates::render(&text, &ctx) {
                            c.err(
                                &fp.key("template"),
                                format!("template `{}` cannot be rendered: {e}", f.template),
                            );
                        }
                    }
                }
            }
        }
    }
    c.out
}

/// Checks a value against a parameter's type, range and choices; used for manifest defaults
/// and for `plugin_config` values in experiments.
pub fn check_value(param: &Parameter, v: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value as J;
    let num = match (param.ty, v) {
        (ParamType::String, J::String(s)) => {
            if let Some(ch) = &param.choices
                && !ch.contains(s)
            {
                let help = suggest::did_you_mean(s, ch.iter().map(String::as_str))
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                return Err(format!("`{s}` is not one of {}{help}", suggest::one_of(ch)));
            }
            None
        }
        (ParamType::Integer, J::Number(n)) if n.is_i64() || n.is_u64() => n.as_f64(),
        (ParamType::Port, J::Number(n)) if n.is_u64() => {
            let p = n.as_u64().unwrap();
            if !(1..=65535).contains(&p) {
                return Err(format!("{p} is not a port (1 to 65535)"));
            }
            n.as_f64()
        }
        (ParamType::Number, J::Number(n)) => n.as_f64(),
        (ParamType::Boolean, J::Bool(_)) => None,
        (ParamType::List, J::Array(_)) => None,
        (ParamType::Map, J::Object(_)) => None,
        (ty, other) => {
            return Err(format!(
                "expected {}, found {}",
                type_phrase(ty),
                json_kind(other)
            ));
        }
    };
    if let Some(x) = num {
        if let Some(lo) = param.min
            && x < lo
        {
            return Err(format!("{x} is below the minimum {lo}"));
        }
        if let Some(hi) = param.max
            && x > hi
        {
            return Err(format!("{x} is above the maximum {hi}"));
        }
    }
    Ok(())
}

pub fn type_phrase(ty: ParamType) -> &'static str {
    match ty {
        ParamType::String => "a string",
        ParamType::Integer => "an integer",
        ParamType::Number => "a number",
        ParamType::Boolean => "true or false",
        ParamType::Port => "a port number (1 to 65535)",
        ParamType::List => "a list",
        ParamType::Map => "a map",
    }
}

pub fn json_kind(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => "nothing (null)".into(),
        J::Bool(b) => format!("the boolean {b}"),
        J::Number(n) => format!("the number {n}"),
        J::String(s) => format!("the string \"{s}\""),
        J::Array(_) => "a list".into(),
        J::Object(_) => "a map".into(),
    }
}
