//! Reference services shipped inside the binary (`panther builtin …`), so a first run needs
//! nothing installed: the MinIP server in its five versions and its client, the MinIP
//! tester and the HTTP/1.1 conformance tester. They speak the record protocol of `events::record` on stdout.
//!
//! Exit codes of the testers: 0 every check passed, 1 a check failed or was inconclusive,
//! 2 the target could not be reached or the arguments are wrong.

pub mod http_checks;
pub mod http_tester;
pub mod minip;
pub mod minip_client;
pub mod minip_server;
pub mod minip_tester;
pub mod quic_tester;
pub mod wait_iface;

use std::net::{SocketAddr, ToSocketAddrs};

use serde_json::{Map, Value};

use crate::events::record::Check;
use crate::events::{Kind, Level, Record};
use crate::verdict::Verdict;

/// Splits `HOST:PORT`, `[V6]:PORT` or `V6:PORT` (the last colon separates the port).
pub fn split_target(target: &str) -> Result<(String, u16), String> {
    let t = target.trim();
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (h, p) = rest
            .split_once("]:")
            .ok_or_else(|| format!("`{target}`: expected `[ADDRESS]:PORT`"))?;
        (h, p)
    } else {
        t.rsplit_once(':')
            .ok_or_else(|| format!("`{target}`: expected `HOST:PORT`"))?
    };
    if host.is_empty() {
        return Err(format!("`{target}`: the host is empty"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("`{target}`: `{port}` is not a port number"))?;
    Ok((host.to_string(), port))
}

/// Resolves a host (an address, a bracketed IPv6 address or a name) and port.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (bare, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{bare}`: {e}"))?
        .next()
        .ok_or_else(|| format!("`{bare}` has no address"))
}

/// `HOST:PORT` resolved to one socket address.
pub fn resolve_target(target: &str) -> Result<SocketAddr, String> {
    let (host, port) = split_target(target)?;
    resolve(&host, port)
}

/// The record of one checked property: `data` is the [`Check`] plus the evidence fields.
pub fn check_record(
    property: &str,
    verdict: Verdict,
    reference: &str,
    text: &str,
    evidence: Map<String, Value>,
) -> Record {
    let check = Check {
        property: property.to_string(),
        verdict,
        reference: Some(reference.to_string()),
    };
    let mut data = match serde_json::to_value(check) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    data.extend(evidence);
    let level = match verdict {
        Verdict::Pass => Level::Info,
        Verdict::Inconclusive => Level::Warn,
        Verdict::Fail | Verdict::Error => Level::Error,
    };
    Record::new(Kind::Verdict, format!("{property}: {verdict} — {text}"))
        .level(level)
        .data(Value::Object(data))
}

/// What a tester prints last, and its exit code.
pub struct Summary {
    pub results: Vec<(String, Verdict)>,
}

impl Summary {
    pub fn new() -> Summary {
        Summary {
            results: Vec::new(),
        }
    }

    pub fn add(&mut self, property: &str, v: Verdict) {
        self.results.push((property.to_string(), v));
    }

    pub fn overall(&self) -> Verdict {
        self.results
            .iter()
            .fold(Verdict::Pass, |acc, (_, v)| acc.join(*v))
    }

    /// Prints the summary record and returns the exit code: 0 pass, 1 fail or
    /// inconclusive, 2 error.
    pub fn finish(&self) -> i32 {
        let overall = self.overall();
        let not_passed: Vec<String> = self
            .results
            .iter()
            .filter(|(_, v)| *v != Verdict::Pass)
            .map(|(p, v)| format!("{p} ({v})"))
            .collect();
        let passed = self.results.len() - not_passed.len();
        let text = if not_passed.is_empty() {
            format!(
                "overall {overall}: {passed} of {} checks passed",
                self.results.len()
            )
        } else {
            format!(
                "overall {overall}: {passed} of {} checks passed; not passed: {}",
                self.results.len(),
                not_passed.join(", ")
            )
        };
        let counts = |want: Verdict| self.results.iter().filter(|(_, v)| *v == want).count();
        Record::new(Kind::Verdict, text)
            .data(serde_json::json!({
                "overall": overall,
                "checks": self.results.len(),
                "passed": counts(Verdict::Pass),
                "failed": counts(Verdict::Fail),
                "inconclusive": counts(Verdict::Inconclusive),
                "errors": counts(Verdict::Error),
            }))
            .print();
        exit_code(overall)
    }
}

impl Default for Summary {
    fn default() -> Self {
        Summary::new()
    }
}

pub fn exit_code(v: Verdict) -> i32 {
    match v {
        Verdict::Pass => 0,
        Verdict::Inconclusive | Verdict::Fail => 1,
        Verdict::Error => 2,
    }
}

/// A tester that cannot start (bad target, nothing listening): an error record, the
/// summary with overall `error`, exit code 2.
pub fn give_up(reason: &str) -> i32 {
    Record::new(Kind::Log, reason).level(Level::Error).print();
    Record::new(Kind::Verdict, format!("overall error: {reason}"))
        .data(serde_json::json!({"overall": "error", "checks": 0, "reason": reason}))
        .print();
    2
}

pub fn log(level: Level, text: impl Into<String>) {
    Record::new(Kind::Log, text).level(level).print();
}

pub fn lifecycle(text: impl Into<String>, data: Value) {
    Record::new(Kind::Lifecycle, text).data(data).print();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            split_target("127.0.0.1:80").unwrap(),
            ("127.0.0.1".into(), 80)
        );
        assert_eq!(split_target("[::1]:8080").unwrap(), ("::1".into(), 8080));
        assert_eq!(split_target("::1:8080").unwrap(), ("::1".into(), 8080));
        assert_eq!(
            split_target("localhost:1").unwrap(),
            ("localhost".into(), 1)
        );
        assert!(split_target("localhost").is_err());
        assert!(split_target(":80").is_err());
        assert!(split_target("h:99999").is_err());
        assert_eq!(
            resolve_target("[::1]:9").unwrap(),
            "[::1]:9".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            resolve_target("::1:9").unwrap(),
            "[::1]:9".parse::<SocketAddr>().unwrap()
        );
    }
}
