//! What a matrix runs: its protocol, servers, clients and cases, resolved against the registry
//! and checked before anything starts (an unknown implementation, a client that cannot talk to
//! a server, an unknown case, an empty matrix and a bad shard are errors, exit 2).

use crate::plugin::{Kind, Plugin, Registry, Role};
use crate::suggest;

/// A server or client: an implementation, and for servers the protocol version it runs
/// (`ping_pong@flaky`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub implementation: String,
    pub version: Option<String>,
}

impl Peer {
    pub fn parse(s: &str) -> Peer {
        match s.split_once('@') {
            Some((i, v)) => Peer {
                implementation: i.trim().to_string(),
                version: Some(v.trim().to_string()),
            },
            None => Peer {
                implementation: s.trim().to_string(),
                version: None,
            },
        }
    }

    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.implementation),
            None => self.implementation.clone(),
        }
    }
}

/// `--shard K/N`: the K-th of N deterministic subsets of the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, SpecError> {
        let bad = || SpecError::Shard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// Whether the cell at `index` (in the matrix's sorted order) is this shard's.
    pub fn owns(&self, index: usize) -> bool {
        index as u64 % u64::from(self.n) == u64::from(self.k - 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// A matrix to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub protocol: String,
    pub servers: Vec<Peer>,
    pub clients: Vec<Peer>,
    pub cases: Vec<String>,
    pub network_environment: String,
    /// Seconds each cell may take.
    pub timeout: f64,
    pub repeat: u32,
    pub jobs: usize,
    pub shard: Option<Shard>,
    /// Parameters set on every server and every client (`--server-config`,
    /// `--client-config`), for each that the plugin declares; a case's own client settings win.
    pub server_config: serde_json::Map<String, serde_json::Value>,
    pub client_config: serde_json::Map<String, serde_json::Value>,
}

/// `KEY=VALUE` as a parameter: VALUE read as YAML (`3`, `true`, `0.1`, `text`).
pub fn parse_setting(s: &str) -> Result<(String, serde_json::Value), SpecError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| SpecError::Setting(s.to_string()))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(SpecError::Setting(s.to_string()));
    }
    let value: serde_json::Value =
        serde_norway::from_str(v.trim()).unwrap_or(serde_json::Value::String(v.trim().into()));
    Ok((k.to_string(), value))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("unknown protocol `{0}`{1}")]
    UnknownProtocol(String, String),
    #[error("unknown implementation `{0}`{1}")]
    UnknownImplementation(String, String),
    #[error("`{0}` cannot be a {1}: its plugin's roles are {2}")]
    WrongRole(String, &'static str, String),
    #[error(
        "`{peer}` does not speak {protocol} (it speaks {speaks}), so it cannot be in a {protocol} matrix"
    )]
    NoSharedProtocol {
        peer: String,
        protocol: String,
        speaks: String,
    },
    #[error(
        "client `{client}` ({client_alpn}) and server `{server}` ({server_alpn}) share no ALPN, so no handshake between them can complete; leave one of them out"
    )]
    NoSharedAlpn {
        server: String,
        client: String,
        server_alpn: String,
        client_alpn: String,
    },
    #[error("protocol {0} has no version `{1}` (it has {2})")]
    UnknownVersion(String, String, String),
    #[error("protocol {0} has no case `{1}`{2}")]
    UnknownCase(String, String, String),
    #[error("the matrix is empty: {0}")]
    Empty(String),
    #[error("`{0}` is not a shard: write K/N with 1 ≤ K ≤ N (e.g. 2/3)")]
    Shard(String),
    #[error("unknown network environment `{0}`{1}")]
    UnknownEnvironment(String, String),
    #[error("`{0}` is not a setting: write KEY=VALUE (e.g. count=5)")]
    Setting(String),
}

impl Spec {
    /// Checks every name against the registry and fills in defaults: without servers, every
    /// IUT of the protocol that can serve; without clients, every tester and IUT that can be a
    /// client; without cases, the protocol's cases.
    pub fn resolve(mut self, reg: &Registry) -> Result<Spec, SpecError> {
        let proto = reg
            .protocol(&self.protocol)
            .and_then(|p| p.manifest.protocol.clone())
            .ok_or_else(|| {
                let names: Vec<&str> = reg
                    .plugins()
                    .iter()
                    .filter(|p| p.kind() == Kind::Protocol)
                    .map(|p| p.name())
                    .collect();
                SpecError::UnknownProtocol(
                    self.protocol.clone(),
                    hint(suggest::did_you_mean(&self.protocol, names.iter().copied())),
                )
            })?;
        if reg
            .get(&[Kind::NetworkEnvironment], &self.network_environment)
            .is_none()
        {
            let names: Vec<&str> = reg
                .plugins()
                .iter()
                .filter(|p| p.kind() == Kind::NetworkEnvironment)
                .map(|p| p.name())
                .collect();
            return Err(SpecError::UnknownEnvironment(
                self.network_environment.clone(),
                hint(suggest::did_you_mean(
                    &self.network_environment,
                    names.iter().copied(),
                )),
            ));
        }
        if self.servers.is_empty() {
            self.servers = speakers(reg, &self.protocol, Role::Server)
                .map(|p| Peer::parse(p.name()))
                .collect();
        }
        if self.clients.is_empty() {
            self.clients = speakers(reg, &self.protocol, Role::Client)
                .map(|p| Peer::parse(p.name()))
                .collect();
        }
        if self.cases.is_empty() {
            self.cases = proto.cases.keys().cloned().collect();
        }
        for (peers, role) in [(&self.servers, Role::Server), (&self.clients, Role::Client)] {
            for peer in peers {
                check_peer(reg, &self.protocol, peer, role)?;
                if let Some(v) = &peer.version
                    && !proto.versions.contains(v)
                {
                    return Err(SpecError::UnknownVersion(
                        self.protocol.clone(),
                        v.clone(),
                        proto.versions.join(", "),
                    ));
                }
            }
        }
        for c in &self.cases {
            if !proto.cases.contains_key(c) {
                let have: Vec<&str> = proto.cases.keys().map(String::as_str).collect();
                let more = match suggest::did_you_mean(c, have.iter().copied()) {
                    Some(s) => format!("; {s}"),
                    None if have.is_empty() => " (it declares no cases)".into(),
                    None => format!(" (it has {})", have.join(", ")),
                };
                return Err(SpecError::UnknownCase(
                    self.protocol.clone(),
                    c.clone(),
                    more,
                ));
            }
        }
        for (what, empty) in [
            ("no servers", self.servers.is_empty()),
            ("no clients", self.clients.is_empty()),
            ("no cases", self.cases.is_empty()),
        ] {
            if empty {
                return Err(SpecError::Empty(format!(
                    "{what} for protocol {}",
                    self.protocol
                )));
            }
        }
        for server in &self.servers {
            for client in &self.clients {
                shared_alpn(reg, &self.protocol, &proto.alpn, server, client)?;
            }
        }
        self.repeat = self.repeat.max(1);
        self.jobs = self.jobs.max(1);
        Ok(self)
    }
}

/// A client and a server with no application protocol in common cannot complete a handshake
/// (TLS no_application_protocol): the matrix is refused before anything runs, as validation
/// refuses such a pair in an experiment.
fn shared_alpn(
    reg: &Registry,
    protocol: &str,
    all: &[String],
    server: &Peer,
    client: &Peer,
) -> Result<(), SpecError> {
    let alpn = |p: &Peer| -> Vec<String> {
        let own = reg
            .service(&p.implementation)
            .and_then(|x| x.manifest.protocols.iter().find(|s| s.name == protocol))
            .map(|s| s.alpn.clone())
            .unwrap_or_default();
        if own.is_empty() { all.to_vec() } else { own }
    };
    let (s, c) = (alpn(server), alpn(client));
    if s.is_empty() || c.is_empty() || c.iter().any(|a| s.contains(a)) {
        return Ok(());
    }
    Err(SpecError::NoSharedAlpn {
        server: server.label(),
        client: client.label(),
        server_alpn: s.join(", "),
        client_alpn: c.join(", "),
    })
}

fn hint(s: Option<String>) -> String {
    s.map(|s| format!("; {s}")).unwrap_or_default()
}

/// Services of the registry that speak `protocol` and can take `role`.
fn speakers<'a>(
    reg: &'a Registry,
    protocol: &'a str,
    role: Role,
) -> impl Iterator<Item = &'a Plugin> {
    reg.plugins().iter().filter(move |p| {
        matches!(p.kind(), Kind::Iut | Kind::Tester)
            && p.manifest.roles.contains(&role)
            && p.manifest.protocols.iter().any(|x| x.name == protocol)
            && p.availability.reason().is_none()
    })
}

fn check_peer(reg: &Registry, protocol: &str, peer: &Peer, role: Role) -> Result<(), SpecError> {
    let Some(p) = reg.service(&peer.implementation) else {
        let names: Vec<&str> = reg
            .plugins()
            .iter()
            .filter(|p| matches!(p.kind(), Kind::Iut | Kind::Tester))
            .map(|p| p.name())
            .collect();
        return Err(SpecError::UnknownImplementation(
            peer.implementation.clone(),
            hint(suggest::did_you_mean(
                &peer.implementation,
                names.iter().copied(),
            )),
        ));
    };
    if !p.manifest.protocols.iter().any(|x| x.name == protocol) {
        return Err(SpecError::NoSharedProtocol {
            peer: peer.label(),
            protocol: protocol.to_string(),
            speaks: p
                .manifest
                .protocols
                .iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if !p.manifest.roles.contains(&role) {
        let roles: Vec<String> = p.manifest.roles.iter().map(|r| r.to_string()).collect();
        let what = if role == Role::Server {
            "server"
        } else {
            "client"
        };
        return Err(SpecError::WrongRole(peer.label(), what, roles.join(", ")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition_the_cells() {
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("a/b").is_err());
        let shards: Vec<Shard> = (1..=3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        for i in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.owns(i)).count(), 1, "cell {i}");
        }
    }

    #[test]
    fn peers_name_their_version() {
        let p = Peer::parse("ping_pong@flaky");
        assert_eq!(p.implementation, "ping_pong");
        assert_eq!(p.label(), "ping_pong@flaky");
        assert_eq!(Peer::parse("minip_tester").version, None);
    }
}
