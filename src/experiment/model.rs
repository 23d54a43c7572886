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
    pub tests: Vec<Test>,
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

/// Parses a rate such as `10mbit`, `1.5 Mbit`, `512kbit`, `100` (bits per second).
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` does not start with a number"))?;
    let mult = match unit.trim() {
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

impl Test {
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
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub implementation: Implementation,
    pub protocol: ProtocolRef,
    /// Docker-style `host:container` port mappings.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    Iut,
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
    use super::parse_rate;

    #[test]
    fn rates_parse_with_units() {
        assert_eq!(parse_rate("10mbit"), Ok(10_000_000));
        assert_eq!(parse_rate("1.5 Mbit"), Ok(1_500_000));
        assert_eq!(parse_rate("800"), Ok(800));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("10 furlongs").is_err());
        assert!(parse_rate("0").is_err());
    }
}
