//! `panther plugins list|show|validate|install`: the plugin browser, headless.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::json;

use crate::diag::Diagnostic;
use crate::plugin::loader::{bundled_file, read_limited};
use crate::plugin::{Kind, LoadOptions, Plugin, Registry};
use crate::suggest;

use super::report::{plural, render};
use super::{Cli, Format, exit};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List plugins with kind, version and whether they can run on this machine.
    List {
        /// Only this kind: service (an IUT), iut, tester, network_environment,
        /// execution_environment or protocol (the names `plugin new` takes).
        #[arg(long, value_parser = parse_kind, value_name = "KIND")]
        kind: Option<Kind>,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one plugin: description, parameters, requirements, how it runs, its README.
    Show {
        name: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check manifests (all known plugins, or the folder DIR) and report each problem with
    /// file:line:column.
    Validate {
        dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run the plugins' install steps: apt packages, pip packages, Python venvs and cargo
    /// builds into panther's tools folder ($PANTHER_TOOLS_DIR, else
    /// ~/.local/share/panther/tools). Each step is an argv (never a shell line), printed
    /// before it runs and skipped when what it installs is present. Exits 1 with the failing
    /// command's output when a step fails, 2 for an unknown plugin.
    Install {
        /// Plugin names (e.g. ngtcp2 aioquic picoquic quinn quiche).
        #[arg(required = true)]
        names: Vec<String>,
        /// Print the steps (and which are already done) without running anything.
        #[arg(long)]
        dry_run: bool,
        /// Never let sudo ask for a password (`sudo -n`; what the workbench's `i` uses).
        /// Without root, apt runs under sudo; stale package lists get `apt-get update` first.
        #[arg(long)]
        no_prompt: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

/// The kind names every command takes (`plugin new`'s, PANTHER's `service` for an IUT).
fn parse_kind(s: &str) -> Result<Kind, String> {
    crate::plugin::creator::parse_type(s)
}

pub fn run(cli: &Cli, c: &Command) -> i32 {
    match c {
        Command::List { kind, format } => list(&cli.registry(), *kind, *format),
        Command::Show { name, format } => show(&cli.registry(), name, *format),
        Command::Validate { dir, format } => validate(cli, dir.as_ref(), *format),
        Command::Install {
            names,
            dry_run,
            no_prompt,
        } => {
            let prompt = if *no_prompt {
                super::as_root::Prompt::Never
            } else {
                super::as_root::Prompt::Terminal
            };
            super::plugins_install::run(&cli.registry(), names, *dry_run, prompt)
        }
    }
}

/// The text of the file a diagnostic points at, for the caret line.
fn source_of(file: &str) -> Option<String> {
    let p = std::path::Path::new(file);
    if p.exists() {
        return read_limited(p, 1024 * 1024).ok();
    }
    let rel = file.strip_prefix("plugins/")?;
    bundled_file(rel).and_then(|b| String::from_utf8(b.to_vec()).ok())
}

fn print_diags(diags: &[Diagnostic]) {
    for d in diags {
        eprint!("{}", render(d, source_of(&d.file).as_deref()));
    }
}

pub fn plugin_json(p: &Plugin) -> serde_json::Value {
    json!({
        "name": p.name(),
        "kind": p.kind(),
        "category": p.category(),
        "version": p.manifest.version,
        "description": p.manifest.description,
        "origin": p.origin,
        "file": p.file,
        "availability": p.availability.label(),
        "reason": p.availability.reason(),
        "install": p.manifest.install.commands(),
        "protocols": p.manifest.protocols.iter().map(|x| &x.name).collect::<Vec<_>>(),
        "roles": p.manifest.roles,
    })
}

fn list(reg: &Registry, kind: Option<Kind>, format: ListFormat) -> i32 {
    let mut plugins: Vec<&Plugin> = reg
        .plugins()
        .iter()
        .filter(|p| kind.is_none_or(|k| p.kind() == k))
        .collect();
    plugins.sort_by(|a, b| (a.category(), a.name()).cmp(&(b.category(), b.name())));
    match format {
        ListFormat::Json => {
            let doc = json!({
                "plugins": plugins.iter().map(|p| plugin_json(p)).collect::<Vec<_>>(),
                "diagnostics": reg.diagnostics,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("json values serialize")
            );
        }
        ListFormat::Table => {
            let w_name = plugins
                .iter()
                .map(|p| p.name().len())
                .max()
                .unwrap_or(4)
                .max(4);
            let w_cat = plugins
                .iter()
                .map(|p| p.category().len())
                .max()
                .unwrap_or(8)
                .max(8);
            println!(
                "{:w_name$}  {:w_cat$}  {:8}  {:11}  NOTES",
                "NAME", "CATEGORY", "VERSION", "AVAILABLE"
            );
            for p in &plugins {
                let note = p
                    .availability
                    .reason()
                    .map(str::to_string)
                    .unwrap_or_else(|| p.manifest.description.clone());
                println!(
                    "{:w_name$}  {:w_cat$}  {:8}  {:11}  {}",
                    p.name(),
                    p.category(),
                    p.manifest.version,
                    p.availability.label(),
                    note
                );
            }
            print_diags(&reg.diagnostics);
        }
    }
    if crate::diag::has_errors(&reg.diagnostics) {
        exit::BAD_INPUT
    } else {
        exit::OK
    }
}

fn show(reg: &Registry, name: &str, format: Format) -> i32 {
    let Some(p) = reg.find(name) else {
        let names: Vec<&str> = reg.plugins().iter().map(Plugin::name).collect();
        let help = suggest::did_you_mean(name, names.iter().copied())
            .unwrap_or_else(|| "`panther plugins list` shows them all".into());
        eprintln!("error: no plugin named `{name}`\n  help: {help}");
        return exit::BAD_INPUT;
    };
    let m = &p.manifest;
    if format == Format::Json {
        let mut doc = plugin_json(p);
        doc["manifest"] = serde_json::to_value(m).expect("manifest serializes");
        doc["readme"] = json!(p.readme);
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("json values serialize")
        );
        return exit::OK;
    }
    println!("{} {} ({})", m.name, m.version, p.category());
    println!("  {}", m.description);
    println!("  file: {}", p.file);
    match p.availability.reason() {
        Some(r) => println!("  availability: unavailable: {r}"),
        None => println!("  availability: {}", p.availability.label()),
    }
    for c in m.install.commands() {
        println!("  install: {}", c.join(" "));
    }
    if let Some(n) = &m.install.notes {
        println!("  install notes: {n}");
    }
    if !m.protocols.is_empty() {
        let ps: Vec<String> = m
            .protocols
            .iter()
            .map(|x| {
                let mut parts = Vec::new();
                if !x.versions.is_empty() {
                    parts.push(x.versions.join(", "));
                }
                if !x.alpn.is_empty() {
                    parts.push(format!("alpn {}", x.alpn.join(", ")));
                }
                if !x.cases.is_empty() {
                    parts.push(format!("cases {}", x.cases.join(", ")));
                }
                if parts.is_empty() {
                    x.name.clone()
                } else {
                    format!("{} ({})", x.name, parts.join("; "))
                }
            })
            .collect();
        println!("  protocols: {}", ps.join("; "));
        let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
        println!("  roles: {}", roles.join(", "));
    }
    if let Some(s) = &m.protocol {
        println!(
            "  family: {}, transport: {:?}, default port: {}",
            s.family.as_str(),
            s.transport,
            s.default_port
        );
        println!(
            "  versions: {} (default {})",
            s.versions.join(", "),
            s.default_version
        );
        for prop in &s.properties {
            let r = prop
                .reference
                .as_deref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default();
            println!("  property {}: {}{r}", prop.name, prop.description);
        }
    }
    if let Some(w) = &m.wrapper {
        println!(
            "  wraps services with: {} (parser: {})",
            w.argv_prefix.join(" "),
            w.parser
        );
        if w.slowdown > 1.0 {
            println!(
                "  slows a service about ×{}: timeouts are stretched by it",
                w.slowdown
            );
        }
    }
    if let Some(n) = &m.network {
        println!(
            "  driver: {}, link emulation: {}",
            n.driver,
            if n.link { "yes" } else { "no" }
        );
    }
    for (role, spec) in &m.run {
        println!("  run {role}: {}", spec.argv.join(" "));
    }
    if !m.parameters.is_empty() {
        println!("  parameters:");
        let w = m.parameters.keys().map(String::len).max().unwrap_or(4);
        let sw = m
            .parameters
            .values()
            .map(|p| p.signature().len())
            .max()
            .unwrap_or(0);
        for (k, prm) in &m.parameters {
            println!("    {k:w$}  {:sw$}  {}", prm.signature(), prm.description);
        }
    }
    if let Some(r) = &p.readme {
        println!("\n{r}");
    }
    exit::OK
}

fn validate(cli: &Cli, dir: Option<&PathBuf>, format: Format) -> i32 {
    let mut opts: LoadOptions = cli.load_options();
    opts.availability = false;
    if let Some(d) = dir {
        if !d.is_dir() {
            eprintln!(
                "error: {} is not a folder\n  help: give the folder that holds plugin.yaml files",
                d.display()
            );
            return exit::BAD_INPUT;
        }
        // The folder is checked against the bundled protocols, not the user's other plugins.
        opts.user = false;
        opts.dirs = vec![d.clone()];
    }
    let reg = Registry::load(&opts);
    let checked: Vec<&Plugin> = reg
        .plugins()
        .iter()
        .filter(|p| dir.is_none_or(|d| p.dir.as_ref().is_some_and(|pd| pd.starts_with(d))))
        .collect();
    let errors = reg.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = reg.diagnostics.len() - errors;
    match format {
        Format::Json => {
            let doc = json!({
                "ok": errors == 0,
                "plugins": checked.iter().map(|p| json!({"name": p.name(), "kind": p.kind(), "file": p.file})).collect::<Vec<_>>(),
                "diagnostics": reg.diagnostics,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("json values serialize")
            );
        }
        Format::Text => {
            for p in &checked {
                println!("ok  {:22} {:22} {}", p.name(), p.kind().as_str(), p.file);
            }
            print_diags(&reg.diagnostics);
            let summary = format!(
                "{} valid, {}, {}",
                plural(checked.len(), "plugin"),
                plural(errors, "error"),
                plural(warnings, "warning")
            );
            if errors == 0 {
                println!("{summary}")
            } else {
                eprintln!("{summary}")
            }
        }
    }
    if errors == 0 {
        exit::OK
    } else {
        exit::BAD_INPUT
    }
}
