//! One cell of a matrix as a one-test experiment (the server, the client targeting it, the
//! case's client settings and link), and the cell's verdict from that run's summary.

use std::path::Path;

use crate::experiment::model::Experiment;
use crate::plugin::manifest::MatrixCase;
use crate::plugin::{Registry, Role};
use crate::results::RunSummary;
use crate::verdict::Verdict;

use super::{Cell, CellResult, CellVerdict, Peer, Spec};

/// The client exit code that means "this case is not supported" (quic-interop-runner's).
pub const UNSUPPORTED_EXIT: i32 = 127;

/// The cell's experiment, or why the client cannot do the case (its manifest lacks a
/// parameter the case requires).
pub fn experiment(
    spec: &Spec,
    reg: &Registry,
    server: &Peer,
    client: &Peer,
    case: &str,
    run: u32,
) -> Result<Experiment, String> {
    let proto = reg
        .protocol(&spec.protocol)
        .and_then(|p| p.manifest.protocol.clone())
        .ok_or_else(|| format!("protocol {} is gone", spec.protocol))?;
    let case_spec: MatrixCase = proto
        .cases
        .get(case)
        .cloned()
        .ok_or_else(|| format!("protocol {} has no case {case}", spec.protocol))?;
    let cplug = reg
        .service(&client.implementation)
        .ok_or_else(|| format!("no plugin {}", client.implementation))?;
    let missing: Vec<&String> = case_spec
        .requires
        .iter()
        .filter(|r| !cplug.manifest.parameters.contains_key(*r))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} does not support case {case}: its plugin has no {} parameter",
            client.implementation,
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let splug = reg
        .service(&server.implementation)
        .ok_or_else(|| format!("no plugin {}", server.implementation))?;
    for (peer, plug) in [(client, cplug), (server, splug)] {
        if let Some(cases) = declared_cases(plug, &spec.protocol)
            && !cases.iter().any(|c| c == case)
        {
            return Err(format!(
                "{} does not support case {case}: its manifest declares {}",
                peer.implementation,
                cases.join(", ")
            ));
        }
    }
    if !crate::matrix::spec::shares_alpn(reg, &spec.protocol, &proto.alpn, server, client) {
        let list = |p: &Peer, r: Role| {
            crate::matrix::spec::alpns(reg, &spec.protocol, &proto.alpn, p, r).join(", ")
        };
        return Err(format!(
            "{} ({}) and {} ({}) share no ALPN",
            client.implementation,
            list(client, Role::Client),
            server.implementation,
            list(server, Role::Server)
        ));
    }
    let declared = |p: &crate::plugin::Plugin, k: &str| p.manifest.parameters.contains_key(k);
    let mut config: serde_json::Map<String, serde_json::Value> = spec
        .client_config
        .iter()
        .chain(case_spec.client_config.iter())
        .filter(|(k, _)| declared(cplug, k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut server_config: serde_json::Map<String, serde_json::Value> = spec
        .server_config
        .iter()
        .chain(case_spec.server_config.iter())
        .filter(|(k, _)| declared(splug, k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Both ends speak an ALPN they share: a service with an `alpn` parameter gets the first
    // common one in the server's order of preference (or, for a list parameter, all of them).
    let common: Vec<String> = {
        let c = crate::matrix::spec::alpns(reg, &spec.protocol, &proto.alpn, client, Role::Client);
        crate::matrix::spec::alpns(reg, &spec.protocol, &proto.alpn, server, Role::Server)
            .into_iter()
            .filter(|a| c.contains(a))
            .collect()
    };
    for (plug, cfg) in [(splug, &mut server_config), (cplug, &mut config)] {
        if let (Some(p), Some(first)) = (plug.manifest.parameters.get("alpn"), common.first())
            && !cfg.contains_key("alpn")
        {
            let v = match p.ty {
                crate::plugin::manifest::ParamType::List => serde_json::json!(common),
                _ => serde_json::json!(first),
            };
            cfg.insert("alpn".into(), v);
        }
    }
    // Repeated runs are independent trials: each gets its own seed, the same each time the
    // matrix runs (so a flaky cell's pass rate repeats too).
    for (plug, cfg) in [(splug, &mut server_config), (cplug, &mut config)] {
        if declared(plug, "seed") && !cfg.contains_key("seed") {
            cfg.insert("seed".into(), run.into());
        }
    }
    let version = server.version.clone().or(client.version.clone());
    let kind = |p: &Peer| {
        if reg
            .service(&p.implementation)
            .is_some_and(|x| x.kind() == crate::plugin::Kind::Tester)
        {
            "tester"
        } else {
            "iut"
        }
    };
    let mut net = serde_json::json!({"type": spec.network_environment});
    match &case_spec.link {
        Some(l) => net["link"] = serde_json::to_value(l).map_err(|e| e.to_string())?,
        // On localhost only a link puts the relay in the path, which is what shows a cell's
        // messages; an empty one impairs nothing (elsewhere every frame crosses the link).
        None if spec.network_environment == "localhost" => net["link"] = serde_json::json!({}),
        None => {}
    }
    let doc = serde_json::json!({
        "tests": [{
            "name": Cell { server: server.label(), client: client.label(), case: case.into() }.folder(),
            "network_environment": net,
            "timeout": spec.timeout,
            "services": {
                "server": {
                    "implementation": {"name": server.implementation, "type": kind(server)},
                    "protocol": {"name": spec.protocol, "version": version, "role": "server"},
                    "plugin_config": server_config,
                },
                "client": {
                    "implementation": {"name": client.implementation, "type": kind(client)},
                    "protocol": {"name": spec.protocol, "version": version, "role": "client", "target": "server"},
                    "plugin_config": config,
                },
            },
        }],
    });
    serde_json::from_value(strip_nulls(doc)).map_err(|e| format!("cell experiment: {e}"))
}

/// The interop cases a service's manifest says it supports for `protocol`, if it says.
fn declared_cases<'a>(p: &'a crate::plugin::Plugin, protocol: &str) -> Option<&'a [String]> {
    p.manifest
        .protocols
        .iter()
        .find(|x| x.name == protocol)
        .map(|x| x.cases.as_slice())
        .filter(|c| !c.is_empty())
}

/// `version: null` is not a version: drop nulls before typing.
fn strip_nulls(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(strip_nulls).collect())
        }
        other => other,
    }
}

/// A cell's outcome from its run: the test's verdict, except that a client exiting 127 says
/// it does not support the case.
pub fn judge(s: &RunSummary) -> (CellVerdict, String) {
    let Some(t) = s.tests.first() else {
        return (CellVerdict::Error, "the cell ran no test".into());
    };
    let client = t.services.iter().find(|x| x.name == "client");
    if client
        .and_then(|c| c.exit.as_deref())
        .is_some_and(|e| e == format!("exited with code {UNSUPPORTED_EXIT}"))
    {
        return (
            CellVerdict::Unsupported,
            format!("the client exited {UNSUPPORTED_EXIT}: it does not support this case"),
        );
    }
    let v = match t.verdict {
        Verdict::Pass => CellVerdict::Pass,
        Verdict::Fail => CellVerdict::Fail,
        Verdict::Inconclusive | Verdict::Error => CellVerdict::Error,
    };
    (v, t.reason.clone())
}

/// Folds a cell's runs into one result: every run passed → pass; some → flaky, with the
/// rate; none → the worst run's verdict and its reason.
pub fn fold(runs: &[(CellVerdict, String, u64)], dir: Option<&Path>) -> CellResult {
    let passes = runs.iter().filter(|r| r.0 == CellVerdict::Pass).count() as u32;
    let n = runs.len() as u32;
    let duration_ms = runs.iter().map(|r| r.2).sum();
    let dir = dir.map(|d| d.display().to_string());
    if passes == n && n > 0 {
        return CellResult {
            verdict: CellVerdict::Pass,
            reason: runs.last().map(|r| r.1.clone()).unwrap_or_default(),
            passes,
            runs: n,
            duration_ms,
            dir,
        };
    }
    if passes > 0 {
        let failing = runs.iter().find(|r| r.0 != CellVerdict::Pass);
        return CellResult {
            verdict: CellVerdict::Flaky,
            reason: format!(
                "passed {passes} of {n} runs; a failing run: {}",
                failing.map(|r| r.1.as_str()).unwrap_or("")
            ),
            passes,
            runs: n,
            duration_ms,
            dir,
        };
    }
    let worst = runs.iter().max_by_key(|r| r.0).cloned().unwrap_or((
        CellVerdict::Error,
        "no run".into(),
        0,
    ));
    CellResult {
        verdict: worst.0,
        reason: worst.1,
        passes,
        runs: n,
        duration_ms,
        dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fold_into_pass_flaky_or_the_worst() {
        let p = (CellVerdict::Pass, "ok".to_string(), 10);
        let f = (CellVerdict::Fail, "lost pongs".to_string(), 10);
        let e = (CellVerdict::Error, "crashed".to_string(), 10);
        assert_eq!(
            fold(&[p.clone(), p.clone()], None).verdict,
            CellVerdict::Pass
        );
        let fl = fold(&[p.clone(), f.clone(), p.clone()], None);
        assert_eq!((fl.verdict, fl.passes, fl.runs), (CellVerdict::Flaky, 2, 3));
        assert!(fl.reason.contains("lost pongs"));
        assert_eq!(
            fold(&[f.clone(), e.clone()], None).verdict,
            CellVerdict::Error
        );
        assert_eq!(fold(&[f], None).verdict, CellVerdict::Fail);
    }
}
