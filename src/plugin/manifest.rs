//! `plugin.yaml`: what a plugin is, typed. Plugins are data, not code: a manifest declares
//! what the plugin supports, its parameters (which drive both validation and the TUI form),
//! what it needs on this machine, how to launch it, and how to read its output.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// What a plugin is for. The folder it lives in follows from its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Iut,
    Tester,
    NetworkEnvironment,
    ExecutionEnvironment,
    Protocol,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Iut,
        Kind::Tester,
        Kind::NetworkEnvironment,
        Kind::ExecutionEnvironment,
        Kind::Protocol,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Iut => "iut",
            Kind::Tester => "tester",
            Kind::NetworkEnvironment => "network_environment",
            Kind::ExecutionEnvironment => "execution_environment",
            Kind::Protocol => "protocol",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_service(self) -> bool {
        matches!(self, Kind::Iut | Kind::Tester)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part a service plays in a protocol exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Server,
    Client,
    Peer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
            Role::Peer => "peer",
        }
    }
    /// Roles that connect to another service and so need a `target`.
    pub fn needs_target(self) -> bool {
        matches!(self, Role::Client)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub kind: Kind,
    pub version: String,
    pub description: String,
    /// Services: the protocols (and, optionally, the subset of versions) they speak.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<ProtocolSupport>,
    /// Services: the roles they can take.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub parameters: IndexMap<String, Parameter>,
    #[serde(default)]
    pub requires: Requires,
    #[serde(default)]
    pub install: Install,
    /// Services: how to launch each role.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub run: IndexMap<Role, RunSpec>,
    /// Templates rendered into the service's run folder before it starts (config files that
    /// name the allocated port, for programs that take no such flag).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileSpec>,
    #[serde(default)]
    pub phases: Phases,
    /// Rules that turn output lines into events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventRule>,
    /// Plugin names this one cannot be combined with in one test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incompatible_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Protocols: family, transport, versions, default port, properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ProtocolSpec>,
    /// Network environments: which built-in driver implements it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkSpec>,
    /// Execution environments: the argv prefix that wraps a service, and its output parser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapper: Option<WrapperSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSupport {
    pub name: String,
    /// Empty means every version the protocol plugin declares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Application protocols (TLS ALPN) the service speaks over it; empty means every one
    /// the protocol plugin declares. A client and its target must share one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    /// The interop cases (quic-interop-runner's names: handshake, transfer, …) it supports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<String>,
    /// The ALPNs it accepts as a server, when fewer than `alpn` (quic_tester's server speaks
    /// only hq-interop; as a client it speaks HTTP/3 too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_alpn: Vec<String>,
}

impl ProtocolSupport {
    /// The ALPNs it speaks in `role` (empty: every one the protocol declares).
    pub fn alpn_as(&self, role: Role) -> &[String] {
        if role == Role::Server && !self.server_alpn.is_empty() {
            &self.server_alpn
        } else {
            &self.alpn
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Port,
    List,
    Map,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Port => "port",
            ParamType::List => "list",
            ParamType::Map => "map",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    #[serde(rename = "type")]
    pub ty: ParamType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    pub description: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
}

impl Parameter {
    /// `integer = 0 (required)`: the type, the default and whether it must be given, as the
    /// CLI and the plugin browser list it.
    pub fn signature(&self) -> String {
        let def = self
            .default
            .as_ref()
            .map(|d| format!(" = {d}"))
            .unwrap_or_default();
        let req = if self.required { " (required)" } else { "" };
        format!("{}{def}{req}", self.ty.as_str())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// Programs that must be on PATH.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binaries: Vec<String>,
    /// Python modules that `python3` must be able to import.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub python_modules: Vec<String>,
    /// Files under panther's tools folder (`{{ tools }}`, where `panther plugins install`
    /// puts venvs and cargo builds), e.g. `quinn/bin/hq-server`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Needs root (network namespaces, packet capture).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub root: bool,
    /// Needs a container engine reachable through its socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Docker,
}

/// Install recipes, shown to the user in full before anything runs. `panther plugins install`
/// turns them into argv steps (`crate::plugin::install`), never a shell line.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Install {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apt: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pip: Vec<String>,
    /// Python virtual environments made in the tools folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub venv: Vec<VenvInstall>,
    /// Rust programs built with `cargo install` into the tools folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cargo: Vec<CargoInstall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A venv at `{{ tools }}/PATH` made by a Python of at least `python` (e.g. "3.12"), with
/// `packages` pip-installed into it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VenvInstall {
    pub path: String,
    #[serde(default = "default_python")]
    pub python: String,
    pub packages: Vec<String>,
}

fn default_python() -> String {
    "3".into()
}

/// `cargo install` of a crates.io crate (`crate` + `version`) or of a folder of the plugin
/// (`path`), into `{{ tools }}/ROOT/bin`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CargoInstall {
    #[serde(default, rename = "crate", skip_serializing_if = "Option::is_none")]
    pub krate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A folder of the plugin holding the crate (with its own Cargo.lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub root: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

impl Install {
    pub fn is_empty(&self) -> bool {
        self.apt.is_empty() && self.pip.is_empty() && self.venv.is_empty() && self.cargo.is_empty()
    }

    /// The exact commands, as argv arrays (never a shell line), with the tools folder of this
    /// machine and the plugin's folder written `PLUGIN_DIR`.
    pub fn commands(&self) -> Vec<Vec<String>> {
        let ctx = crate::plugin::install::Ctx::display();
        crate::plugin::install::steps(self, &ctx)
            .into_iter()
            .map(|s| s.argv)
            .collect()
    }

    /// One line for messages: "apt-get install -y nginx".
    pub fn summary(&self) -> Option<String> {
        let cmds = self.commands();
        if cmds.is_empty() {
            None
        } else {
            Some(
                cmds.iter()
                    .map(|c| c.join(" "))
                    .collect::<Vec<_>>()
                    .join(" && "),
            )
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// argv template; each element is rendered with minijinja, never through a shell.
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Ready>,
    /// How the service is asked to stop at teardown (qlog writers flush on SIGINT, and a
    /// SIGTERM cut their files); without it, SIGINT → SIGTERM → SIGKILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
}

/// A graceful stop: `signal`, then SIGKILL to what is left after `grace_s` seconds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    #[serde(default = "default_stop_signal")]
    pub signal: StopSignal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_s: Option<f64>,
}

fn default_stop_signal() -> StopSignal {
    StopSignal::Sigint
}

/// The signals a service may ask to be stopped with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum StopSignal {
    #[serde(rename = "SIGINT")]
    Sigint,
    #[serde(rename = "SIGTERM")]
    Sigterm,
    #[serde(rename = "SIGHUP")]
    Sighup,
    #[serde(rename = "SIGQUIT")]
    Sigquit,
    #[serde(rename = "SIGUSR1")]
    Sigusr1,
    #[serde(rename = "SIGUSR2")]
    Sigusr2,
}

impl StopSignal {
    pub fn signal(self) -> nix::sys::signal::Signal {
        use nix::sys::signal::Signal;
        match self {
            StopSignal::Sigint => Signal::SIGINT,
            StopSignal::Sigterm => Signal::SIGTERM,
            StopSignal::Sighup => Signal::SIGHUP,
            StopSignal::Sigquit => Signal::SIGQUIT,
            StopSignal::Sigusr1 => Signal::SIGUSR1,
            StopSignal::Sigusr2 => Signal::SIGUSR2,
        }
    }
}

/// How to know a service is ready for its peers. Several conditions may be combined; all
/// must hold.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp_port: Option<String>,
    /// A QUIC server answers on this UDP port: a long-header packet with an unknown version
    /// gets a Version Negotiation back (a bound port is not readiness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quic_port: Option<String>,
    /// A regex matched against stdout and stderr lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        self.tcp_port.is_none()
            && self.udp_port.is_none()
            && self.quic_port.is_none()
            && self.log.is_none()
            && self.file.is_none()
            && self.delay_ms.is_none()
    }
}

/// A file rendered from a template of the plugin folder into the run folder.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Path of the minijinja template, relative to the plugin folder.
    pub template: String,
    /// Where to write it, relative to the service's run folder (`{{ run_dir }}`).
    pub path: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Phases {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prepare: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_run: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_run: Vec<Vec<String>>,
}

impl Phases {
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
        self.prepare
            .iter()
            .map(|c| ("prepare", c))
            .chain(self.pre_run.iter().map(|c| ("pre_run", c)))
            .chain(self.post_run.iter().map(|c| ("post_run", c)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Lifecycle,
    Message,
    Log,
    Metric,
    Marker,
    Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Turns a matching output line into an event. `summary` is a template over the regex's
/// named captures.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventRule {
    #[serde(default = "default_stream")]
    pub stream: Stream,
    #[serde(rename = "match")]
    pub pattern: String,
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

fn default_stream() -> Stream {
    Stream::Both
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    ClientServer,
    PeerToPeer,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::ClientServer => "client_server",
            Family::PeerToPeer => "peer_to_peer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Udp,
    Tcp,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    pub family: Family,
    pub transport: Transport,
    pub default_port: u16,
    pub versions: Vec<String>,
    pub default_version: String,
    pub roles: Vec<Role>,
    /// Properties a tester can check and an experiment can assert.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
    /// Named test cases of an interop matrix (`panther matrix --cases`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub cases: IndexMap<String, MatrixCase>,
    /// Application protocols negotiated with TLS ALPN (QUIC: `h3`, `hq-interop`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
}

/// One case of an interop matrix: what a client is asked to do against each server.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixCase {
    pub description: String,
    /// Parameters set on the client, for each that the client's plugin declares.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub client_config: IndexMap<String, serde_json::Value>,
    /// Parameters set on the server, for each that the server's plugin declares (e.g.
    /// `retry: true`); whether a server can do the case at all is its manifest's `cases`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub server_config: IndexMap<String, serde_json::Value>,
    /// Parameters a client must declare to do this case; a client without them does not
    /// support it (the cell is `unsupported`, said by the client's own manifest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// The link the case runs over (e.g. loss for a loss case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<crate::experiment::model::Link>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Network environments are Rust code; the manifest names which driver implements it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub driver: String,
    /// Whether the environment honours `network_environment.link` impairments.
    #[serde(default)]
    pub link: bool,
}

/// Network drivers compiled into panther.
pub const NETWORK_DRIVERS: &[&str] = &["localhost", "netns", "docker_compose"];

/// Execution-environment output parsers compiled into panther.
pub const WRAPPER_PARSERS: &[&str] =
    &["strace", "valgrind", "time", "pprof", "gdb", "perf", "none"];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WrapperSpec {
    /// argv placed before the service's own argv; templates see `artifact_dir` and `service`.
    pub argv_prefix: Vec<String>,
    #[serde(default = "default_parser")]
    pub parser: String,
    /// Files the wrapper writes, kept with the run's results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// How many times slower a service runs under this wrapper (measured on the MinIP
    /// server, docs/PERFORMANCE.md). The orchestrator stretches readiness waits, the test's
    /// timeout and the services' `*timeout*` parameters by it, so a profiler does not make a
    /// tester miss its answers (PANTHER #66). 1 (the default) stretches nothing.
    #[serde(default = "no_slowdown", skip_serializing_if = "is_no_slowdown")]
    pub slowdown: f64,
}

fn no_slowdown() -> f64 {
    1.0
}

fn is_no_slowdown(f: &f64) -> bool {
    *f == 1.0
}

fn default_parser() -> String {
    "none".into()
}
