//! A `docker-compose.yml` equivalent to one test's network and containers, written next to
//! the results so a user can re-run the test by hand (`docker compose -f FILE up`).

use std::collections::BTreeMap;
use std::path::Path;

use indexmap::IndexMap;
use serde::Serialize;

use super::containers::{ContainerSpec, Network};
use super::engine::EngineError;

#[derive(Serialize)]
struct File {
    services: IndexMap<String, Service>,
    networks: IndexMap<String, NetworkDef>,
}

#[derive(Serialize)]
struct Service {
    image: String,
    container_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    command: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    environment: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    networks: IndexMap<String, ServiceNetwork>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cap_add: Vec<String>,
    init: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    labels: IndexMap<String, String>,
}

#[derive(Serialize)]
struct ServiceNetwork {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
}

#[derive(Serialize)]
struct NetworkDef {
    name: String,
    driver: &'static str,
    ipam: IpamDef,
}

#[derive(Serialize)]
struct IpamDef {
    config: Vec<IpamEntry>,
}

#[derive(Serialize)]
struct IpamEntry {
    subnet: String,
    gateway: String,
}

/// Compose interpolates `$VAR` in values; a literal `$` is written `$$`.
fn lit(s: &str) -> String {
    s.replace('$', "$$")
}

/// The compose text for `network` and the containers of `services`. `depends_on` maps a
/// container's name to the names of the containers it must start after (a client after its
/// target), since compose starts the others all at once.
pub fn render(
    network: &Network,
    services: &[ContainerSpec],
    depends_on: &BTreeMap<String, Vec<String>>,
) -> Result<String, EngineError> {
    for (who, deps) in depends_on {
        for d in deps.iter().chain(std::iter::once(who)) {
            if !services.iter().any(|s| &s.name == d) {
                return Err(EngineError::Invalid(format!(
                    "depends_on names `{d}`, which is not one of the containers"
                )));
            }
        }
    }
    let key = "panther".to_string();
    let mut file = File {
        services: IndexMap::new(),
        networks: IndexMap::from([(
            key.clone(),
            NetworkDef {
                name: network.name.clone(),
                driver: "bridge",
                ipam: IpamDef {
                    config: vec![IpamEntry {
                        subnet: network.subnet.to_string(),
                        gateway: network.gateway.to_string(),
                    }],
                },
            },
        )]),
    };
    for s in services {
        let service = Service {
            image: s.image.clone(),
            container_name: s.name.clone(),
            command: s.argv.iter().map(|a| lit(a)).collect(),
            environment: s.env.iter().map(|(k, v)| (k.clone(), lit(v))).collect(),
            working_dir: s.workdir.clone(),
            depends_on: depends_on.get(&s.name).cloned().unwrap_or_default(),
            networks: IndexMap::from([(
                key.clone(),
                ServiceNetwork {
                    aliases: s.aliases.clone(),
                },
            )]),
            ports: s
                .ports
                .iter()
                .map(|p| format!("127.0.0.1:{}:{}/{}", p.host, p.container, p.proto.as_str()))
                .collect(),
            volumes: s
                .binds
                .iter()
                .map(|b| {
                    format!(
                        "{}:{}{}",
                        lit(&b.host.display().to_string()),
                        lit(&b.container),
                        if b.read_only { ":ro" } else { "" }
                    )
                })
                .collect(),
            cap_add: s.cap_add.clone(),
            init: true,
            labels: s.labels.iter().map(|(k, v)| (k.clone(), lit(v))).collect(),
        };
        if file.services.insert(s.name.clone(), service).is_some() {
            return Err(EngineError::Invalid(format!(
                "two containers are named `{}`",
                s.name
            )));
        }
    }
    let yaml = serde_norway::to_string(&file)
        .map_err(|e| EngineError::Invalid(format!("writing the compose file: {e}")))?;
    Ok(format!(
        "# Written by panther: this test's network and containers. Re-run it by hand with\n\
#   docker compose -f docker-compose.yml up --abort-on-container-exit   (or docker-compose)\n\
# and clean up with `… down`. The names are the original ones: remove those first if they\n\
# are still there.\n{yaml}"
    ))
}

/// Writes the compose file for `network` and `services` to `path` (no start order).
pub fn write(
    path: &Path,
    network: &Network,
    services: &[ContainerSpec],
) -> Result<(), EngineError> {
    write_ordered(path, network, services, &BTreeMap::new())
}

/// [`write`], with `depends_on` (container name → the containers it starts after; see
/// [`render`]), so a client started by hand does not race its server.
pub fn write_ordered(
    path: &Path,
    network: &Network,
    services: &[ContainerSpec],
    depends_on: &BTreeMap<String, Vec<String>>,
) -> Result<(), EngineError> {
    let text = render(network, services, depends_on)?;
    std::fs::write(path, text).map_err(EngineError::io(format!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::network::docker::containers::{Bind, Port, Proto};

    #[test]
    fn renders_services_networks_and_aliases() {
        let net = Network {
            id: "abc".into(),
            name: "panther-r1-t1".into(),
            subnet: "10.214.5.0/24".parse().unwrap(),
            gateway: "10.214.5.1".parse().unwrap(),
        };
        let server = ContainerSpec {
            name: "r1-server".into(),
            image: "panther-ping_pong:0.1.0".into(),
            argv: vec!["panther".into(), "builtin".into(), "minip-server".into()],
            env: vec![("PRICE".into(), "$5".into())],
            network: net.name.clone(),
            aliases: vec!["server".into()],
            ports: vec![Port {
                host: 18080,
                container: 8080,
                proto: Proto::Udp,
            }],
            binds: vec![Bind {
                host: "/tmp/run".into(),
                container: "/logs".into(),
                read_only: false,
            }],
            cap_add: vec!["NET_ADMIN".into()],
            ..Default::default()
        };
        let tester = ContainerSpec {
            name: "r1-tester".into(),
            image: "panther-minip_tester:0.1.0".into(),
            network: net.name.clone(),
            ..Default::default()
        };
        let deps = BTreeMap::from([("r1-tester".to_string(), vec!["r1-server".to_string()])]);
        let text = render(&net, &[server.clone(), tester.clone()], &deps).unwrap();
        let bad = BTreeMap::from([("r1-tester".to_string(), vec!["nobody".to_string()])]);
        assert!(render(&net, &[server, tester], &bad).is_err());
        let v: serde_json::Value = serde_norway::from_str(&text).unwrap();
        let s = &v["services"]["r1-server"];
        assert_eq!(s["image"], "panther-ping_pong:0.1.0");
        assert_eq!(s["command"][2], "minip-server");
        assert_eq!(s["environment"]["PRICE"], "$$5");
        assert_eq!(s["networks"]["panther"]["aliases"][0], "server");
        assert_eq!(s["ports"][0], "127.0.0.1:18080:8080/udp");
        assert_eq!(s["volumes"][0], "/tmp/run:/logs");
        assert_eq!(v["networks"]["panther"]["name"], "panther-r1-t1");
        assert_eq!(v["services"]["r1-tester"]["depends_on"][0], "r1-server");
        assert!(v["services"]["r1-server"].get("depends_on").is_none());
        assert_eq!(
            v["networks"]["panther"]["ipam"]["config"][0]["subnet"],
            "10.214.5.0/24"
        );
    }
}
