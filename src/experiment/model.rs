//! The experiment config, typed, in PANTHER's shape: global settings plus a `tests:` list.
//! Keys PANTHER defines but panther does not act on are accepted (so PANTHER configs load)
//! and kept opaque; anything else is an unknown key with a suggestion.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::plugin::Role;

pub type PluginConfig = IndexMap<String, Json>;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Paths>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// PANTHER's container-build settings; read by the docker environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<Json>,
    /// PANTHER's progress, fast-fail, metrics and observer settings: accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_fail: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observers: Option<Json>,
    /// Required unless the file holds a `matrix:` (which generates its tests).
    #[serde(default)]
    pub tests: Vec<Test>,
    /// An interop matrix (`panther matrix FILE`): panther's addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixBlock>,
}

/// `matrix:`: what `panther matrix` runs, as its flags say it (the flags win over the file).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixBlock {
    pub protocol: String,
    /// IUT[@VERSION] each; default: every IUT of the protocol that serves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Seconds each cell may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "PluginConfig::is_empty")]
    pub server_config: PluginConfig,
    #[serde(default, skip_serializing_if = "PluginConfig::is_empty")]
    pub client_config: PluginConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<LogLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_colors: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_file_logging: Option<bool>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub feature_levels: IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_dir: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Test {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub network_environment: NetworkEnvironment,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub execution_environment: Vec<ExecutionEnvironment>,
    pub services: IndexMap<String, Service>,
    #[serde(default)]
    pub steps: Steps,
    #[serde(default = "one")]
    pub iterations: u32,
    /// Seconds for the whole test (each iteration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_on_failure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_fail_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect_artifacts: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// PANTHER's test-level switch: every service of the test gets a fresh certificate (a
    /// service's own `generate_new_certificates` wins). See [`Test::wants_certificates`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_new_certificates: Option<bool>,
    /// The verdict this test is expected to reach (known-bad IUT versions expect `fail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Pass,
    Inconclusive,
    Fail,
    Error,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkEnvironment {
    #[serde(rename = "type")]
    pub kind: String,
    /// Link impairment between each client and its target (our addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// Per-service impairment, keyed by service name: replaces `link` on the path to and
    /// from that service. Every key names a service of the test.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub links: IndexMap<String, Link>,
    /// Write the test's traffic to `capture.pcap` (PANTHER: shadow_ns
    /// `host_option_defaults.pcap_enabled`, legacy `steps.record_pcap`). See
    /// [`Test::wants_capture`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<bool>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub plugin_config: PluginConfig,
    /// PANTHER's docker-compose deploy timeout (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_timeout: Option<f64>,
}

/// Impairment of the path between a client and its target, applied by the link relay.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    #[serde(default)]
    pub delay_ms: f64,
    #[serde(default)]
    pub jitter_ms: f64,
    /// Probability (0 to 1) that a datagram or segment is dropped.
    #[serde(default)]
    pub loss: f64,
    #[serde(default)]
    pub duplicate: f64,
    #[serde(default)]
    pub reorder: f64,
    /// Bandwidth cap: "10mbit", "512kbit", "1gbit" or bits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// Seed for the impairment's random choices, so runs repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// `"1.5 Mbit"` → (1.5, "mbit"): the leading number and the lower-cased unit after it.
fn number_and_unit(s: &str) -> Result<(f64, String), String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` does not start with a number"))?;
    Ok((n, unit.trim().to_string()))
}

/// Parses a rate such as `10mbit`, `1.5 Mbit`, `512kbit`, `100` (bits per second).
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let (n, unit) = number_and_unit(s)?;
    let mult = match unit.as_str() {
        "" | "bit" | "bps" => 1.0,
        "kbit" | "kbps" => 1e3,
        "mbit" | "mbps" => 1e6,
        "gbit" | "gbps" => 1e9,
        u => return Err(format!("unknown rate unit `{u}`")),
    };
    let bits = n * mult;
    if !(bits >= 1.0 && bits.is_finite()) {
        return Err(format!("`{s}` is not a positive rate"));
    }
    Ok(bits as u64)
}

/// Parses a Shadow time such as `"100s"`, `"1 min"`, `"500 ms"`, `"2h"` or a bare number
/// of seconds, into seconds.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let (n, unit) = number_and_unit(s)?;
    let mult = match unit.as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "ms" | "msec" | "millisecond" | "milliseconds" => 1e-3,
        "us" | "usec" | "microsecond" | "microseconds" => 1e-6,
        "ns" | "nsec" | "nanosecond" | "nanoseconds" => 1e-9,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        u => return Err(format!("unknown time unit `{u}`")),
    };
    let secs = n * mult;
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("`{s}` is not a positive time"));
    }
    Ok(secs)
}

impl Test {
    /// Whether `service` is handed a fresh per-run certificate (`cert`, `key`, `ca`): its
    /// own `generate_new_certificates` when set, else the test's, else only when it speaks
    /// QUIC (TLS 1.3 is part of QUIC: no QUIC service can run without one). An unknown
    /// service gets none.
    pub fn wants_certificates(&self, service: &str) -> bool {
        match self.services.get(service) {
            Some(s) => s
                .generate_new_certificates
                .or(self.generate_new_certificates)
                .unwrap_or(s.protocol.name == "quic"),
            None => false,
        }
    }

    /// Whether any service of the test wants certificates (the run makes one CA per run).
    pub fn any_wants_certificates(&self) -> bool {
        self.services.keys().any(|s| self.wants_certificates(s))
    }

    /// The services that want certificates, in file order: the DNS names for
    /// `run::certs::generate` (one server certificate naming them all).
    pub fn certificate_names(&self) -> Vec<String> {
        self.services
            .keys()
            .filter(|s| self.wants_certificates(s))
            .cloned()
            .collect()
    }

    /// Whether the test's traffic is captured where the environment can:
    /// `network_environment.capture`, else PANTHER's legacy `steps.record_pcap`, else yes
    /// (a capture is what Wireshark and the sequence view's frame numbers read).
    pub fn wants_capture(&self) -> bool {
        self.network_environment
            .capture
            .or(self.steps.record_pcap)
            .unwrap_or(true)
    }

    /// The impairment on the path to and from `service`: its entry in `links`, else the
    /// environment's `link`.
    pub fn link_for(&self, service: &str) -> Option<&Link> {
        self.network_environment
            .links
            .get(service)
            .or(self.network_environment.link.as_ref())
    }

    /// Every plugin the test names: implementations, protocols and environments.
    pub fn plugins(&self) -> Vec<String> {
        let mut out = vec![self.network_environment.kind.clone()];
        out.extend(self.execution_environment.iter().map(|e| e.kind.clone()));
        for s in self.services.values() {
            out.push(s.implementation.name.clone());
            out.push(s.protocol.name.clone());
        }
        out.sort();
        out.dedup();
        out
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionEnvironment {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub plugin_config: PluginConfig,
    /// Overrides the plugin's declared slowdown (`wrapper.slowdown`) for the stretch of
    /// timeouts; 1 turns the stretch off for this wrapper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown: Option<f64>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub implementation: Implementation,
    pub protocol: ProtocolRef,
    /// Docker-style `host:container` port mappings, as written; validation parses each
    /// (a bad one is an error at its position) and [`Service::port_mappings`] types them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Seconds this service may run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub plugin_config: PluginConfig,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub environment: IndexMap<String, String>,
    /// Services that must be ready before this one starts (besides `protocol.target`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    // PANTHER's container-era keys, accepted so its configs load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_new_certificates: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_override: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<Json>,
}

impl Service {
    /// The `ports` that parse (validation has reported the others).
    pub fn port_mappings(&self) -> Vec<PortMapping> {
        self.ports
            .iter()
            .filter_map(|p| PortMapping::parse(p).ok())
            .collect()
    }
}

/// Transport of a port mapping (`/tcp`, `/udp` suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortProto {
    Tcp,
    Udp,
}

/// One `host:container[/proto]` mapping. A single port (`"8080"`) maps to itself. `proto`
/// is None when the mapping names none: the service's protocol transport decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortMapping {
    pub host: u16,
    pub container: u16,
    pub proto: Option<PortProto>,
}

impl PortMapping {
    /// Parses Docker's short syntax as PANTHER writes it: `"5000:5000"`, `"4443:4443/udp"`,
    /// `"8080"`. PANTHER requires both parts to be ports from 1 to 65535.
    pub fn parse(s: &str) -> Result<PortMapping, String> {
        let t = s.trim();
        let (ports, proto) = match t.rsplit_once('/') {
            Some((p, proto)) => {
                let proto = match proto.to_ascii_lowercase().as_str() {
                    "tcp" => PortProto::Tcp,
                    "udp" => PortProto::Udp,
                    other => return Err(format!("unknown transport `/{other}` (tcp or udp)")),
                };
                (p, Some(proto))
            }
            None => (t, None),
        };
        let parts: Vec<&str> = ports.split(':').collect();
        let port = |p: &str| -> Result<u16, String> {
            match p.trim().parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
                _ if p.trim().is_empty() => Err("a port is missing".into()),
                _ => Err(format!("`{}` is not a port (1 to 65535)", p.trim())),
            }
        };
        match parts.as_slice() {
            [one] => {
                let p = port(one)?;
                Ok(PortMapping {
                    host: p,
                    container: p,
                    proto,
                })
            }
            [h, c] => Ok(PortMapping {
                host: port(h)?,
                container: port(c)?,
                proto,
            }),
            _ => Err("too many `:` (an address such as `127.0.0.1:80:80` is not supported)".into()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    Iut,
    /// PANTHER spells it `testers` (its enum is `iut|testers`); both are accepted.
    #[serde(alias = "testers")]
    Tester,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Iut => "iut",
            ServiceType::Tester => "tester",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ServiceType,
    // PANTHER's implementation extras (kept as attributes there); accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_config: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_compatible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gperf_compatible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z3_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_system_models: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolRef {
    pub name: String,
    /// Defaults to the protocol plugin's `default_version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub role: Role,
    /// The service (of the same test) a client talks to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {
    /// Seconds to let the services run when no tester decides the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<f64>,
    /// Commands (argv arrays, never shell lines) run before and after the services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_commands: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_commands: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_pcap: Option<bool>,
}

/// A protocol property a service's run must show (held) or must break (violated).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    pub property: String,
    /// The service whose behaviour is judged; defaults to every IUT of the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default = "holds")]
    pub expect: PropertyOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyOutcome {
    Holds,
    Violated,
}

fn holds() -> PropertyOutcome {
    PropertyOutcome::Holds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_units() {
        assert_eq!(parse_rate("10mbit"), Ok(10_000_000));
        assert_eq!(parse_rate("1.5 Mbit"), Ok(1_500_000));
        assert_eq!(parse_rate("800"), Ok(800));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("10 furlongs").is_err());
        assert!(parse_rate("0").is_err());
    }

    #[test]
    fn shadow_times_parse() {
        assert_eq!(parse_duration("100s"), Ok(100.0));
        assert_eq!(parse_duration("1 min"), Ok(60.0));
        assert_eq!(parse_duration("30"), Ok(30.0));
        assert_eq!(parse_duration("500 ms"), Ok(0.5));
        assert_eq!(parse_duration("2h"), Ok(7200.0));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("10 fortnights").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn port_mappings_parse_or_say_why() {
        let m = PortMapping::parse("5000:4443").unwrap();
        assert_eq!((m.host, m.container, m.proto), (5000, 4443, None));
        let m = PortMapping::parse("8080/udp").unwrap();
        assert_eq!(
            (m.host, m.container, m.proto),
            (8080, 8080, Some(PortProto::Udp))
        );
        assert!(
            PortMapping::parse("8080:99999")
                .unwrap_err()
                .contains("`99999`")
        );
        assert!(PortMapping::parse("a:b").unwrap_err().contains("`a`"));
        assert!(
            PortMapping::parse("1:2:3")
                .unwrap_err()
                .contains("too many")
        );
        assert!(PortMapping::parse("80/sctp").unwrap_err().contains("sctp"));
        assert!(PortMapping::parse(":80").unwrap_err().contains("missing"));
    }
}
