//! Semantic checks of a typed experiment against the plugin registry. Every finding points
//! at the user's text (file:line:column), says what was expected, and suggests the near miss.

use std::collections::HashMap;

use crate::diag::{Diagnostic, Reporter};
use crate::plugin::check::{check_value, type_phrase};
use crate::plugin::manifest::Parameter;
use crate::plugin::{Kind, Plugin, Registry, Role};
use crate::suggest;
use crate::yaml::{Node, Path};

use super::model::{Experiment, Link, PluginConfig, PortMapping, ServiceType, Test, parse_rate};
use super::panther_keys as pk;
use super::plan;

/// The document's reporter plus the registry the checks look plugins up in.
struct Ctx<'a> {
    rep: Reporter<'a>,
    reg: &'a Registry,
}

impl<'a> std::ops::Deref for Ctx<'a> {
    type Target = Reporter<'a>;
    fn deref(&self) -> &Reporter<'a> {
        &self.rep
    }
}

impl std::ops::DerefMut for Ctx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.rep
    }
}

fn set(d: &mut Diagnostic, expected: impl Into<String>, help: Option<String>) {
    d.expected = Some(expected.into());
    if help.is_some() {
        d.help = help;
    }
}

/// `matrix:` checked against the registry, each finding at the value it is about.
fn matrix_block(c: &mut Ctx, m: &crate::experiment::model::MatrixBlock) {
    use crate::matrix::{Peer, Spec, SpecError};
    let mp = Path::root().key("matrix");
    let spec = Spec {
        protocol: m.protocol.clone(),
        servers: m.servers.iter().map(|s| Peer::parse(s)).collect(),
        clients: m.clients.iter().map(|s| Peer::parse(s)).collect(),
        cases: m.cases.clone(),
        network_environment: m
            .network_environment
            .clone()
            .unwrap_or_else(|| "localhost".into()),
        timeout: m.timeout.unwrap_or(60.0),
        repeat: m.repeat.unwrap_or(1),
        jobs: 1,
        shard: None,
        server_config: m.server_config.clone().into_iter().collect(),
        client_config: m.client_config.clone().into_iter().collect(),
    };
    let Err(e) = spec.resolve(c.reg) else {
        return;
    };
    // The value the finding is about: a server, client or case by its text, else the key.
    let find = |list: &[String], key: &str, pred: &dyn Fn(&str) -> bool| {
        list.iter()
            .position(|x| pred(x))
            .map(|i| mp.key(key).index(i))
            .unwrap_or_else(|| mp.key(key))
    };
    let at = match &e {
        SpecError::UnknownProtocol(..) => mp.key("protocol"),
        SpecError::UnknownEnvironment(..) => mp.key("network_environment"),
        SpecError::UnknownImplementation(name, _) => {
            let is = |x: &str| Peer::parse(x).implementation == *name;
            if m.servers.iter().any(|x| is(x)) {
                find(&m.servers, "servers", &is)
            } else {
                find(&m.clients, "clients", &is)
            }
        }
        SpecError::WrongRole(label, what, _) => {
            let key = if *what == "server" {
                "servers"
            } else {
                "clients"
            };
            let list = if *what == "server" {
                &m.servers
            } else {
                &m.clients
            };
            find(list, key, &|x: &str| Peer::parse(x).label() == *label)
        }
        SpecError::NoSharedAlpn { client, .. } => find(&m.clients, "clients", &|x: &str| {
            Peer::parse(x).label() == *client
        }),
        SpecError::NoSharedProtocol { peer, .. } => {
            let is = |x: &str| Peer::parse(x).label() == *peer;
            if m.servers.iter().any(|x| is(x)) {
                find(&m.servers, "servers", &is)
            } else {
                find(&m.clients, "clients", &is)
            }
        }
        SpecError::UnknownVersion(_, v, _) => find(&m.servers, "servers", &|x: &str| {
            Peer::parse(x).version.as_deref() == Some(v.as_str())
        }),
        SpecError::UnknownCase(_, case, _) => find(&m.cases, "cases", &|x: &str| x == case),
        SpecError::Empty(_) | SpecError::Shard(_) | SpecError::Setting(_) => mp.clone(),
    };
    c.err(&at, e.to_string());
}

pub fn validate(exp: &Experiment, root: &Node, file: &str, reg: &Registry) -> Vec<Diagnostic> {
    let mut c = Ctx {
        rep: Reporter::new(file, root),
        reg,
    };
    let tests_path = Path::root().key("tests");
    if exp.tests.is_empty() && exp.matrix.is_none() {
        let d = c.err(&tests_path, "`tests` is empty");
        set(
            d,
            "at least one test: `- name: …` (or a `matrix:` for `panther matrix`)",
            None,
        );
    }
    if let Some(m) = &exp.matrix {
        matrix_block(&mut c, m);
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, t) in exp.tests.iter().enumerate() {
        let tp = tests_path.index(i);
        if t.name.trim().is_empty() {
            let d = c.err(&tp.key("name"), "test name is empty");
            set(d, "a short unique name", None);
        }
        if let Some(&first) = seen.get(t.name.as_str()) {
            let line = root
                .span_at(&tests_path.index(first).key("name"), false)
                .line;
            let d = c.err(
                &tp.key("name"),
                format!("test name `{}` is already used (line {line})", t.name),
            );
            set(
                d,
                "unique test names",
                Some("rename one of the tests".into()),
            );
        } else {
            seen.insert(&t.name, i);
        }
        test(&mut c, t, &tp);
    }
    c.rep.out
}

/// One `pre_commands`/`post_commands` argv: a program name, and no NUL anywhere (an argv
/// element cannot carry one; the run would fail where validation said yes).
fn step_command(c: &mut Ctx, cmd: &[String], at: &Path) {
    let example = "an argv list such as [\"ip\", \"link\"]";
    match cmd.first() {
        None => {
            let d = c.err(at, "empty command");
            set(d, example, None);
        }
        Some(p) if p.trim().is_empty() => {
            let d = c.err(&at.index(0), "the program name is empty");
            set(d, example, None);
        }
        Some(_) => {}
    }
    for (j, a) in cmd.iter().enumerate() {
        if a.contains('\0') {
            let d = c.err(&at.index(j), "contains a NUL character");
            set(d, "text without NUL: a command line cannot carry one", None);
        }
    }
}

fn test(c: &mut Ctx, t: &Test, tp: &Path) {
    if t.iterations == 0 {
        let d = c.err(&tp.key("iterations"), "`iterations` is 0");
        set(d, "1 or more", None);
    }
    positive(c, t.timeout, &tp.key("timeout"), "timeout");
    positive(c, t.steps.wait, &tp.key("steps").key("wait"), "steps.wait");
    for (which, cmds) in [
        ("pre_commands", &t.steps.pre_commands),
        ("post_commands", &t.steps.post_commands),
    ] {
        for (i, cmd) in cmds.iter().enumerate() {
            step_command(c, cmd, &tp.key("steps").key(which).index(i));
        }
    }

    // The plugins this test combines, for incompatible_with.
    let mut used: Vec<(&Plugin, Path)> = Vec::new();

    // Network environment.
    let np = tp.key("network_environment");
    let ne = &t.network_environment;
    if let Some(p) = lookup(c, Kind::NetworkEnvironment, &ne.kind, &np.key("type"), None) {
        plugin_config(c, p, &ne.plugin_config, &np.key("plugin_config"), &[]);
        let supports_link = p.manifest.network.as_ref().is_some_and(|n| n.link);
        if let Some(link) = &ne.link {
            let lp = np.key("link");
            if !supports_link {
                no_link(c, &ne.kind, &lp);
            }
            link_checks(c, link, &lp);
        }
        let names: Vec<&str> = t.services.keys().map(String::as_str).collect();
        for (svc, link) in &ne.links {
            let lp = np.key("links").key(svc.as_str());
            if !supports_link {
                no_link(c, &ne.kind, &lp);
            }
            if !t.services.contains_key(svc) {
                let d = c.key_err(
                    &lp,
                    format!("`links` names `{svc}`, which is not a service of this test"),
                );
                set(
                    d,
                    format!("one of {}", suggest::one_of(&names)),
                    suggest::did_you_mean(svc, names.iter().copied()),
                );
            }
            link_checks(c, link, &lp);
        }
        used.push((p, np.key("type")));
    }

    // Execution environments.
    for (i, ee) in t.execution_environment.iter().enumerate() {
        let ep = tp.key("execution_environment").index(i);
        if let Some(p) = lookup(
            c,
            Kind::ExecutionEnvironment,
            &ee.kind,
            &ep.key("type"),
            None,
        ) {
            plugin_config(c, p, &ee.plugin_config, &ep.key("plugin_config"), &[]);
            if let Some(f) = ee.slowdown
                && !(1.0..=1000.0).contains(&f)
            {
                let d = c.err(&ep.key("slowdown"), format!("slowdown {f} is out of range"));
                set(
                    d,
                    "a factor from 1 (no stretch) to 1000",
                    Some(format!(
                        "`{}` declares {} (`panther plugins show {}`)",
                        p.name(),
                        p.manifest.wrapper.as_ref().map_or(1.0, |w| w.slowdown),
                        p.name()
                    )),
                );
            }
            if ee.enabled {
                used.push((p, ep.key("type")));
            }
        }
    }

    // Services.
    let sp = tp.key("services");
    if t.services.is_empty() {
        let d = c.err(&sp, "`services` is empty");
        set(
            d,
            "at least one service: `name: {implementation: …, protocol: …}`",
            None,
        );
    }
    let names: Vec<&str> = t.services.keys().map(String::as_str).collect();
    for (name, s) in &t.services {
        let svp = sp.key(name.as_str());
        if !valid_service_name(name) {
            let d = c.key_err(&svp, format!("invalid service name `{name}`"));
            set(
                d,
                "letters, digits, `_` and `-` (it names a folder of the results)",
                None,
            );
        }
        let ip = svp.key("implementation");
        let want = match s.implementation.kind {
            ServiceType::Iut => Kind::Iut,
            ServiceType::Tester => Kind::Tester,
        };
        let plugin = lookup(
            c,
            want,
            &s.implementation.name,
            &ip.key("name"),
            Some(&s.protocol.name),
        );
        if let Some(p) = plugin {
            used.push((p, ip.key("name")));
            plugin_config(
                c,
                p,
                &s.plugin_config,
                &svp.key("plugin_config"),
                pk::IMPLEMENTATION_KNOBS,
            );
            protocol(c, p, s, &svp);
        }
        // Target and dependencies name services of this test.
        let pp = svp.key("protocol");
        match (&s.protocol.target, s.protocol.role) {
            (None, Role::Client) => {
                let d = c.err(&pp, format!("client `{name}` has no `target`"));
                let others: Vec<&str> = names.iter().copied().filter(|n| *n != name).collect();
                set(
                    d,
                    format!(
                        "`target:` naming the service it talks to: {}",
                        suggest::one_of(&others)
                    ),
                    None,
                );
            }
            (Some(target), _) => {
                let tgp = pp.key("target");
                if target == name {
                    let d = c.err(&tgp, format!("service `{name}` targets itself"));
                    set(d, "another service of this test", None);
                } else if let Some(ts) = t.services.get(target) {
                    if ts.protocol.role == Role::Client && s.protocol.role == Role::Client {
                        c.warn(&tgp, format!("target `{target}` is itself a client"))
                            .help = Some("a client usually targets a server".into());
                    }
                    if ts.protocol.name != s.protocol.name {
                        let d = c.err(
                            &tgp,
                            format!(
                                "`{name}` speaks {} but its target `{target}` speaks {}",
                                s.protocol.name, ts.protocol.name
                            ),
                        );
                        set(d, "a target speaking the same protocol", None);
                    } else {
                        shared_alpn(c, (name, s), (target, ts), &tgp);
                    }
                } else {
                    let others: Vec<&str> = names.iter().copied().filter(|n| *n != name).collect();
                    let d = c.err(
                        &tgp,
                        format!("target `{target}` is not a service of test `{}`", t.name),
                    );
                    let help = suggest::did_you_mean(target, others.iter().copied());
                    set(d, format!("one of {}", suggest::one_of(&others)), help);
                }
            }
            (None, _) => {}
        }
        for (k, dep) in s.depends_on.iter().enumerate() {
            if !t.services.contains_key(dep) || dep == name {
                let d = c.err(
                    &svp.key("depends_on").index(k),
                    format!(
                        "`depends_on` names `{dep}`, which is not another service of this test"
                    ),
                );
                let help = suggest::did_you_mean(dep, names.iter().copied());
                set(d, format!("one of {}", suggest::one_of(&names)), help);
            }
        }
        positive(c, s.timeout, &svp.key("timeout"), "timeout");
        for (k, port) in s.ports.iter().enumerate() {
            if let Err(e) = PortMapping::parse(port) {
                let d = c.err(
                    &svp.key("ports").index(k),
                    format!("bad port mapping `{port}`: {e}"),
                );
                set(d, "`host:container` such as \"8080:80\", or one port", None);
            }
        }
        for key in s.environment.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                let d = c.key_err(
                    &svp.key("environment").key(key.as_str()),
                    format!("bad environment variable name `{key}`"),
                );
                set(d, "a name without `=`", None);
            }
        }
    }

    if let Err(cycle) = plan::start_order(t) {
        let first = &cycle[0];
        let d = c.err(
            &sp.key(first.as_str()).key("protocol"),
            format!(
                "services depend on each other in a cycle: {}",
                cycle.join(" → ")
            ),
        );
        set(
            d,
            "targets and depends_on that form no loop",
            Some(
                "a server may target its client (it starts first), but `depends_on` may not loop"
                    .into(),
            ),
        );
    }

    // Assertions name properties of a protocol used in the test.
    for (k, a) in t.assertions.iter().enumerate() {
        let ap = tp.key("assertions").index(k);
        if let Some(svc) = &a.service
            && !t.services.contains_key(svc)
        {
            let d = c.err(
                &ap.key("service"),
                format!("`{svc}` is not a service of this test"),
            );
            set(
                d,
                format!("one of {}", suggest::one_of(&names)),
                suggest::did_you_mean(svc, names.iter().copied()),
            );
        }
        let protos: Vec<&str> = match &a.service {
            Some(s) => t
                .services
                .get(s)
                .map(|s| vec![s.protocol.name.as_str()])
                .unwrap_or_default(),
            None => t
                .services
                .values()
                .map(|s| s.protocol.name.as_str())
                .collect(),
        };
        let props: Vec<&str> = protos
            .iter()
            .filter_map(|p| c.reg.protocol(p))
            .filter_map(|p| p.manifest.protocol.as_ref())
            .flat_map(|s| s.properties.iter().map(|p| p.name.as_str()))
            .collect();
        if !props.is_empty() && !props.contains(&a.property.as_str()) {
            let d = c.err(
                &ap.key("property"),
                format!("unknown property `{}`", a.property),
            );
            let help = suggest::did_you_mean(&a.property, props.iter().copied());
            set(
                d,
                format!(
                    "a property of {}: {}",
                    protos.join(", "),
                    suggest::one_of(&props)
                ),
                help,
            );
        }
    }

    // Plugins that cannot run on this machine: fine to write a config for, worth knowing.
    for (p, path) in &used {
        if let Some(reason) = p.availability.reason() {
            let d = c.warn(
                path,
                format!("`{}` cannot run on this machine: {reason}", p.name()),
            );
            // Installing does not help what only root can do.
            d.help = p
                .manifest
                .install
                .summary()
                .filter(|_| !reason.starts_with("needs root"))
                .map(|s| format!("install it with: {s}"));
        }
    }

    // Plugins that refuse to be combined.
    for (p, path) in &used {
        for other in &p.manifest.incompatible_with {
            if let Some((_, opath)) = used.iter().find(|(q, _)| q.name() == other) {
                let line = c.root.span_at(opath, false).line;
                let d = c.err(
                    path,
                    format!("`{}` cannot be used with `{other}` (line {line})", p.name()),
                );
                set(
                    d,
                    "compatible plugins in one test",
                    Some(format!("see `panther plugins show {}`", p.name())),
                );
            }
        }
    }
}

fn no_link(c: &mut Ctx, kind: &str, lp: &Path) {
    let d = c.key_err(
        lp,
        format!("network environment `{kind}` does not emulate links"),
    );
    set(
        d,
        "an environment whose manifest has `network.link: true`",
        Some("remove it or use `localhost` or `netns`".into()),
    );
}

/// Delays in milliseconds, probabilities from 0 to 1, a parseable rate.
fn link_checks(c: &mut Ctx, link: &Link, lp: &Path) {
    for (key, v, hi) in [
        ("delay_ms", link.delay_ms, 60_000.0),
        ("jitter_ms", link.jitter_ms, 60_000.0),
        ("loss", link.loss, 1.0),
        ("duplicate", link.duplicate, 1.0),
        ("reorder", link.reorder, 1.0),
    ] {
        if !(0.0..=hi).contains(&v) {
            let what = if hi == 1.0 {
                "a probability from 0 to 1".to_string()
            } else {
                format!("milliseconds from 0 to {hi}")
            };
            let shown = written(c, &lp.key(key)).unwrap_or_else(|| v.to_string());
            let d = c.err(&lp.key(key), format!("`{key}` is {shown}"));
            set(
                d,
                what,
                (hi == 1.0 && v > 1.0 && v <= 100.0)
                    .then(|| format!("a percentage? write {}", v / 100.0)),
            );
        }
    }
    if let Some(r) = &link.rate
        && let Err(e) = parse_rate(r)
    {
        let d = c.err(&lp.key("rate"), format!("bad rate: {e}"));
        set(
            d,
            "a rate such as `10mbit`, `512kbit` or a number of bits per second",
            None,
        );
    }
}

/// A service name becomes a folder and a lane label: keep it simple.
fn valid_service_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && n != ".."
}

/// A plain scalar as the user wrote it: messages quote `18446744073709551616`, not the float
/// it became (`18446744073709552000`).
fn written(c: &Ctx, path: &Path) -> Option<String> {
    match &c.root.at(path)?.value {
        crate::yaml::Value::Scalar(s) if s.plain => Some(s.text.clone()),
        _ => None,
    }
}

fn positive(c: &mut Ctx, v: Option<f64>, path: &Path, what: &str) {
    if let Some(v) = v
        && !(v > 0.0 && v <= crate::run::ready::MAX_SECONDS)
    {
        let shown = written(c, path).unwrap_or_else(|| v.to_string());
        let d = c.err(path, format!("`{what}` is {shown}"));
        set(
            d,
            "a positive number of seconds, at most 31536000 (a year)",
            None,
        );
    }
}

/// Finds a plugin of `kind`, or reports what exists: PANTHER's plugin panther lacks (why,
/// and the nearest one it has), the same name under another kind, a near miss, or the full
/// list. `protocol`: what the service speaks, to pick the nearest plugin.
fn lookup<'r>(
    c: &mut Ctx<'r>,
    kind: Kind,
    name: &str,
    path: &Path,
    protocol: Option<&str>,
) -> Option<&'r Plugin> {
    let reg = c.reg;
    if let Some(p) = reg.get(&[kind], name) {
        return Some(p);
    }
    let names = reg.names(&[kind]);
    let what = kind.as_str().replace('_', " ");
    if let Some(m) = pk::missing(name) {
        let nearest = m
            .nearest
            .iter()
            .filter(|(proto, _)| proto.is_empty() || Some(*proto) == protocol)
            .find_map(|(_, n)| reg.find(n))
            .or_else(|| {
                let proto = protocol?;
                reg.by_kind(&[kind])
                    .find(|p| p.manifest.protocols.iter().any(|x| x.name == proto))
            });
        let tail = match (nearest, protocol) {
            (Some(n), _) => {
                let blurb = pk::NEAREST_BLURB
                    .iter()
                    .find(|(k, _)| *k == n.name())
                    .map(|(_, b)| b.to_string())
                    .unwrap_or_else(|| n.manifest.description.clone());
                format!("nearest: `{}` ({blurb})", n.name())
            }
            (None, Some(proto)) => format!("no {what} speaking `{proto}` is installed"),
            (None, None) => format!("no {what} like it is installed"),
        };
        let d = c.err(
            path,
            format!(
                "plugin `{name}` is not available in panther: {}; {tail}",
                m.reason
            ),
        );
        set(
            d,
            format!("{what} plugins: {}", suggest::one_of(&names)),
            Some(
                "`panther plugins list` shows what is installed; `--plugin-dir DIR` adds more"
                    .into(),
            ),
        );
        return None;
    }
    if let Some(other) = reg.find(name) {
        let d = c.err(
            path,
            format!(
                "`{name}` is a {} plugin, not an {what}",
                other.kind().as_str().replace('_', " ")
            ),
        );
        let hint = match (kind, other.kind()) {
            (Kind::Iut, Kind::Tester) => {
                Some("write `type: testers` in `implementation` (PANTHER's spelling; `tester` works too)".to_string())
            }
            (Kind::Tester, Kind::Iut) => Some("write `type: iut` in `implementation`".to_string()),
            _ => None,
        };
        set(
            d,
            format!("{what} plugins: {}", suggest::one_of(&names)),
            hint,
        );
        return None;
    }
    let d = c.err(path, format!("unknown {what} `{name}`"));
    let help = suggest::did_you_mean(name, names.iter().copied()).or_else(|| {
        Some("`panther plugins list` shows what is installed; `--plugin-dir DIR` adds more".into())
    });
    set(d, format!("one of {}", suggest::one_of(&names)), help);
    None
}

/// The ALPNs a service offers for its protocol: its plugin's list, or every one the
/// protocol declares. None when the plugin or protocol is unknown (reported elsewhere).
fn alpn_of(c: &Ctx, s: &super::model::Service) -> Option<Vec<String>> {
    let p = c.reg.find(&s.implementation.name)?;
    let all = c
        .reg
        .protocol(&s.protocol.name)?
        .manifest
        .protocol
        .as_ref()?
        .alpn
        .clone();
    let own = p
        .manifest
        .protocols
        .iter()
        .find(|x| x.name == s.protocol.name)
        .map(|x| x.alpn_as(s.protocol.role).to_vec())
        .unwrap_or_default();
    Some(if own.is_empty() { all } else { own })
}

/// A client and its target must share an application protocol, or no handshake can
/// complete (TLS aborts with no_application_protocol, RFC 7301 §3.2).
fn shared_alpn(
    c: &mut Ctx,
    (name, s): (&str, &super::model::Service),
    (target, ts): (&str, &super::model::Service),
    at: &Path,
) {
    let (Some(mine), Some(theirs)) = (alpn_of(c, s), alpn_of(c, ts)) else {
        return;
    };
    if mine.is_empty() || theirs.is_empty() || mine.iter().any(|a| theirs.contains(a)) {
        return;
    }
    let d = c.err(
        at,
        format!(
            "`{name}` ({}) and its target `{target}` ({}) share no ALPN: {} offers {} and {} accepts {}",
            s.implementation.name,
            ts.implementation.name,
            s.implementation.name,
            mine.join(", "),
            ts.implementation.name,
            theirs.join(", ")
        ),
    );
    set(
        d,
        "a client and server with a common application protocol",
        Some("`panther plugins show NAME` lists each implementation's ALPNs".into()),
    );
}

fn protocol(c: &mut Ctx, p: &Plugin, s: &super::model::Service, svp: &Path) {
    let pp = svp.key("protocol");
    let pr = &s.protocol;
    let m = &p.manifest;
    let spoken: Vec<&str> = m.protocols.iter().map(|x| x.name.as_str()).collect();
    if !spoken.contains(&pr.name.as_str()) {
        let d = c.err(
            &pp.key("name"),
            format!("`{}` does not speak `{}`", m.name, pr.name),
        );
        let help = suggest::did_you_mean(&pr.name, spoken.iter().copied());
        set(
            d,
            format!("a protocol of `{}`: {}", m.name, suggest::one_of(&spoken)),
            help,
        );
        return;
    }
    let Some(proto) = c
        .reg
        .protocol(&pr.name)
        .and_then(|pp| pp.manifest.protocol.clone())
    else {
        return;
    };
    if let Some(v) = &pr.version
        && !p.supports_version(&pr.name, v, &proto.versions)
    {
        let ok: Vec<&str> = proto
            .versions
            .iter()
            .map(String::as_str)
            .filter(|x| p.supports_version(&pr.name, x, &proto.versions))
            .collect();
        let d = c.err(
            &pp.key("version"),
            format!("`{}` does not support {} version `{v}`", m.name, pr.name),
        );
        set(
            d,
            format!("one of {}", suggest::one_of(&ok)),
            suggest::did_you_mean(v, ok.iter().copied()),
        );
    }
    if !m.roles.contains(&pr.role) {
        let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
        let d = c.err(
            &pp.key("role"),
            format!("`{}` cannot be a {}", m.name, pr.role),
        );
        let help = match p.kind() {
            Kind::Tester => Some("testers here act as clients of the IUT".into()),
            _ => None,
        };
        set(
            d,
            format!("a role of `{}`: {}", m.name, suggest::one_of(&roles)),
            help,
        );
    }
}

/// Keys must be parameters of the plugin and values must match their types and ranges;
/// required parameters without a default must be given.
/// `panther_knobs`: PANTHER's tester knobs, which its builder moves into `plugin_config`;
/// one the plugin does not declare is a warning, not an error.
fn plugin_config(c: &mut Ctx, p: &Plugin, cfg: &PluginConfig, path: &Path, panther_knobs: &[&str]) {
    let params = &p.manifest.parameters;
    for (k, v) in cfg {
        let kp = path.key(k.as_str());
        match params.get(k) {
            None if panther_knobs.contains(&k.as_str()) => {
                let span = c.root.span_at(&kp, true);
                let d = Diagnostic::warning(
                    c.file,
                    span,
                    format!(
                        "`{k}` is a PANTHER tester knob; `{}` has no such parameter, so it is ignored",
                        p.name()
                    ),
                )
                .help(format!(
                    "PANTHER moves `implementation.{k}` into plugin_config; `panther plugins show {}` lists its parameters",
                    p.name()
                ));
                c.rep.out.push(d);
            }
            None => {
                let names: Vec<&str> = params.keys().map(String::as_str).collect();
                let d = c.key_err(&kp, format!("`{}` has no parameter `{k}`", p.name()));
                let expected = if names.is_empty() {
                    "no plugin_config: this plugin takes no parameters".to_string()
                } else {
                    format!("one of {}", suggest::one_of(&names))
                };
                set(d, expected, suggest::did_you_mean(k, names.iter().copied()));
            }
            Some(param) => {
                if let Err(mut e) = check_value(param, v) {
                    if v.is_f64()
                        && let Some(text) = written(c, &kp)
                        && text.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                    {
                        let float = crate::plugin::check::json_kind(v);
                        e = e.replace(&float, &format!("the integer {text}, which is too large"));
                    }
                    let d = c.err(&kp, format!("`{k}`: {e}"));
                    set(d, expected_of(param), None);
                }
            }
        }
    }
    for (k, param) in params {
        if param.required && param.default.is_none() && !cfg.contains_key(k) {
            let d = c.err(path, format!("`{}` needs parameter `{k}`", p.name()));
            set(
                d,
                format!("`{k}`: {} ({})", type_phrase(param.ty), param.description),
                None,
            );
        }
    }
}

fn expected_of(p: &Parameter) -> String {
    let mut s = type_phrase(p.ty).to_string();
    match (p.min, p.max) {
        (Some(lo), Some(hi)) => s.push_str(&format!(" from {lo} to {hi}")),
        (Some(lo), None) => s.push_str(&format!(" of at least {lo}")),
        (None, Some(hi)) => s.push_str(&format!(" of at most {hi}")),
        _ => {}
    }
    if let Some(ch) = &p.choices {
        s = format!("one of {}", suggest::one_of(ch));
    }
    s
}
