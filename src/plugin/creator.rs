//! Scaffolding (`panther plugin new TYPE NAME`, PANTHER's `--create-plugin`): writes a
//! manifest, a README and, for services, a small working program, all of which
//! `panther plugins validate` accepts at once. Templates are minijinja, embedded in the binary.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::suggest;

use super::check::valid_name;
use super::loader;
use super::manifest::{Kind, Transport};
use super::registry::{Registry, user_plugin_dir};

const IUT_YAML: &str = include_str!("scaffold/iut.plugin.yaml.j2");
const TESTER_YAML: &str = include_str!("scaffold/tester.plugin.yaml.j2");
const NETWORK_YAML: &str = include_str!("scaffold/network_environment.plugin.yaml.j2");
const EXECUTION_YAML: &str = include_str!("scaffold/execution_environment.plugin.yaml.j2");
const PROTOCOL_YAML: &str = include_str!("scaffold/protocol.plugin.yaml.j2");
const SERVER_PY: &str = include_str!("scaffold/server.py.j2");
const TESTER_PY: &str = include_str!("scaffold/tester.py.j2");
const README: &str = include_str!("scaffold/README.md.j2");

/// The TYPE argument: PANTHER's `service` means an IUT.
pub const TYPES: &[&str] = &[
    "service",
    "iut",
    "tester",
    "network_environment",
    "execution_environment",
    "protocol",
];

pub fn parse_type(s: &str) -> Result<Kind, String> {
    match s {
        "service" | "iut" => Ok(Kind::Iut),
        "tester" | "testers" => Ok(Kind::Tester),
        other => Kind::parse(other).ok_or_else(|| {
            let help = suggest::did_you_mean(other, TYPES.iter().copied())
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            format!(
                "unknown plugin type `{other}`: expected {}{help}",
                suggest::one_of(TYPES)
            )
        }),
    }
}

/// Why a name cannot be a plugin name, in words, with the obvious fix.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the plugin name is empty".into());
    }
    if name.contains('/') || name.contains('\\') {
        return Err(format!(
            "`{name}` contains a path separator: give a name, not a path (use --dir for the folder)"
        ));
    }
    if name.contains("..") {
        return Err(format!("`{name}` contains `..`"));
    }
    if !valid_name(name) {
        let fixed: String = name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let fixed = fixed
            .trim_start_matches(|c: char| !c.is_ascii_lowercase())
            .to_string();
        let hint = if !fixed.is_empty() && valid_name(&fixed) {
            format!("; try `{fixed}`")
        } else {
            String::new()
        };
        return Err(format!(
            "`{name}` is not a valid plugin name: use a lowercase identifier (a-z, 0-9, _; starting with a letter; at most 64 characters){hint}"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub kind: Kind,
    pub name: String,
    /// For services: the protocol spoken (default `minip`).
    pub protocol: Option<String>,
    /// The plugins root to write under; default `~/.config/panther/plugins`.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// The folder of a new plugin under a plugins root, following PANTHER's tree.
pub fn relative_dir(kind: Kind, name: &str, protocol: &str) -> PathBuf {
    match kind {
        Kind::Iut => PathBuf::from("services/iut").join(protocol).join(name),
        Kind::Tester => PathBuf::from("services/testers").join(name),
        Kind::NetworkEnvironment => PathBuf::from("environments/network_environment").join(name),
        Kind::ExecutionEnvironment => {
            PathBuf::from("environments/execution_environment").join(name)
        }
        Kind::Protocol => PathBuf::from("protocols/client_server").join(name),
    }
}

pub fn create(req: &Request, reg: &Registry) -> Result<Created, String> {
    check_name(&req.name)?;
    let kind = req.kind;
    let same_space = match kind {
        Kind::Iut | Kind::Tester => reg.service(&req.name),
        k => reg.get(&[k], &req.name),
    };
    if let Some(p) = same_space {
        return Err(format!(
            "a {} plugin named `{}` already exists ({}); choose another name",
            p.kind(),
            req.name,
            p.file
        ));
    }

    // Services speak a protocol that must exist; its transport picks the program template.
    let protocol = req.protocol.clone().unwrap_or_else(|| "minip".into());
    let mut transport = Transport::Udp;
    if kind.is_service() {
        let Some(p) = reg.protocol(&protocol) else {
            let names = reg.names(&[Kind::Protocol]);
            let help = suggest::did_you_mean(&protocol, names.iter().copied())
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return Err(format!(
                "unknown protocol `{protocol}`: expected {}{help}",
                suggest::one_of(&names)
            ));
        };
        transport = p
            .manifest
            .protocol
            .as_ref()
            .map(|s| s.transport)
            .unwrap_or(Transport::Udp);
    }

    let root = match &req.dir {
        Some(d) => d.clone(),
        None => user_plugin_dir().ok_or("no home folder to put the plugin in; pass --dir DIR")?,
    };
    let dir = root.join(relative_dir(kind, &req.name, &protocol));
    if dir.exists() {
        return Err(format!(
            "{} already exists; refusing to overwrite it",
            dir.display()
        ));
    }

    let minip = protocol == "minip";
    let udp = transport == Transport::Udp;
    let (manifest_tmpl, extra): (&str, Vec<(&str, &str, &str)>) = match kind {
        Kind::Iut => (
            IUT_YAML,
            vec![(
                "server.py",
                SERVER_PY,
                "the server panther starts (Python, standard library only)",
            )],
        ),
        Kind::Tester => (
            TESTER_YAML,
            vec![(
                "tester.py",
                TESTER_PY,
                "the client that checks its target (exit code = verdict)",
            )],
        ),
        Kind::NetworkEnvironment => (NETWORK_YAML, vec![]),
        Kind::ExecutionEnvironment => (EXECUTION_YAML, vec![]),
        Kind::Protocol => (PROTOCOL_YAML, vec![]),
    };
    let ctx = json!({
        "name": req.name,
        "kind": kind.as_str(),
        "protocol": if kind.is_service() { Some(&protocol) } else { None },
        "minip": minip,
        "udp": udp,
    });
    let manifest = render(manifest_tmpl, &ctx)?;
    // The scaffold must be valid as written: check it with the same loader as discovery.
    let file = dir.join(loader::MANIFEST_FILE).display().to_string();
    let (m, _, _) = loader::load_manifest(&manifest, &file).map_err(|d| {
        let msgs: Vec<String> = d.iter().map(ToString::to_string).collect();
        format!(
            "internal error: the scaffold does not validate:\n{}",
            msgs.join("\n")
        )
    })?;

    let params: Vec<_> = m
        .parameters
        .iter()
        .map(|(k, p)| {
            let default = p
                .default
                .as_ref()
                .map(|d| format!("`{d}`"))
                .unwrap_or_else(|| "—".into());
            (k.clone(), p.ty.as_str(), default, p.description.clone())
        })
        .collect();
    let readme_ctx = json!({
        "name": req.name,
        "kind": kind.as_str(),
        "protocol": if kind.is_service() { Some(&protocol) } else { None },
        "description": m.description,
        "extra_files": extra.iter().map(|(f, _, what)| (f, what)).collect::<Vec<_>>(),
        "parameters": params,
        "example": example(kind, &req.name, &protocol),
        "dir": dir.display().to_string(),
    });
    let readme = render(README, &readme_ctx)?;

    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    let mut write = |name: &str, text: &str| -> Result<(), String> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        files.push(p);
        Ok(())
    };
    write(loader::MANIFEST_FILE, &manifest)?;
    write("README.md", &readme)?;
    for (fname, tmpl, _) in &extra {
        write(fname, &render(tmpl, &ctx)?)?;
    }
    for f in &files {
        if f.extension().is_some_and(|e| e == "py") {
            make_executable(f);
        }
    }
    Ok(Created { dir, files })
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(p) {
        let mut perm = meta.permissions();
        perm.set_mode(perm.mode() | 0o111);
        let _ = std::fs::set_permissions(p, perm);
    }
}

fn render(tmpl: &str, ctx: &serde_json::Value) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let mut out = env
        .render_str(tmpl, minijinja::value::Serde(ctx))
        .map_err(|e| format!("internal error rendering a scaffold: {e}"))?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// An experiment snippet that uses the new plugin with bundled ones.
fn example(kind: Kind, name: &str, protocol: &str) -> String {
    let svc = |n: &str, ty: &str, role: &str, target: Option<&str>| {
        let t = target.map(|t| format!(", target: {t}")).unwrap_or_default();
        format!(
            "      {n}: {{implementation: {{name: {}, type: {ty}}}, protocol: {{name: {protocol}, role: {role}{t}}}}}\n",
            if ty == "iut" && n == "server" {
                name
            } else {
                n
            }
        )
    };
    let head =
        format!("tests:\n  - name: {name}_example\n    network_environment: {{type: localhost}}\n");
    match kind {
        Kind::Iut => {
            let mut s = format!("{head}    services:\n");
            s.push_str(&format!("      server: {{implementation: {{name: {name}, type: iut}}, protocol: {{name: {protocol}, role: server}}}}\n"));
            if protocol == "minip" {
                s.push_str(&svc("tester", "tester", "client", Some("server")).replace(
                    "tester: {implementation: {name: tester",
                    "tester: {implementation: {name: minip_tester",
                ));
            }
            s
        }
        Kind::Tester => {
            let server = if protocol == "minip" {
                "ping_pong"
            } else {
                "YOUR_IUT"
            };
            format!(
                "{head}    services:\n      server: {{implementation: {{name: {server}, type: iut}}, protocol: {{name: {protocol}, role: server}}}}\n      tester: {{implementation: {{name: {name}, type: tester}}, protocol: {{name: {protocol}, role: client, target: server}}}}\n"
            )
        }
        Kind::NetworkEnvironment => format!(
            "tests:\n  - name: {name}_example\n    network_environment:\n      type: {name}\n      link: {{delay_ms: 20}}\n    services:\n      server: {{implementation: {{name: ping_pong, type: iut}}, protocol: {{name: minip, role: server}}}}\n      tester: {{implementation: {{name: minip_tester, type: tester}}, protocol: {{name: minip, role: client, target: server}}}}\n"
        ),
        Kind::ExecutionEnvironment => format!(
            "{head}    execution_environment: [{{type: {name}}}]\n    services:\n      server: {{implementation: {{name: ping_pong, type: iut}}, protocol: {{name: minip, role: server}}}}\n      tester: {{implementation: {{name: minip_tester, type: tester}}, protocol: {{name: minip, role: client, target: server}}}}\n"
        ),
        Kind::Protocol => format!(
            "# a service plugin declares it:\nprotocols:\n  - name: {name}\n# an experiment uses it:\n{head}    services:\n      server: {{implementation: {{name: YOUR_IUT, type: iut}}, protocol: {{name: {name}, version: \"1\", role: server}}}}\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_with_a_fix() {
        assert!(check_name("my_iut").is_ok());
        assert!(
            check_name("../evil")
                .unwrap_err()
                .contains("path separator")
        );
        assert!(check_name("a..b").unwrap_err().contains(".."));
        assert!(check_name("My-IUT").unwrap_err().contains("try `my_iut`"));
        assert!(check_name("9lives").is_err());
        assert_eq!(parse_type("service"), Ok(Kind::Iut));
        assert!(
            parse_type("servce")
                .unwrap_err()
                .contains("did you mean `service`")
        );
    }
}
