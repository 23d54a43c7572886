//! One network per test and its containers: create, start, follow logs (stdout and stderr kept
//! apart, one item per line), read exit codes, stop, remove; and sweep what a dead panther left.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::run::owner::Owner;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Ipam, IpamConfig, NetworkCreateRequest,
    NetworkingConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, ListNetworksOptions,
    LogsOptions, RemoveContainerOptions, StopContainerOptions, WaitContainerOptions,
};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, BoxStream, StreamExt};

use super::engine::{Engine, EngineError, is_not_found};
use super::{LABEL_OWNER, LABEL_RUN, LABEL_TEST};

/// Where test networks' /24s come from unless [`Engine::with_subnet_pool`] says otherwise.
/// (scripts/dockerd-up keeps the engine's own default bridge and pool in 10.215.0.0/16.)
pub const DEFAULT_SUBNET_POOL: Subnet = Subnet {
    base: Ipv4Addr::new(10, 214, 0, 0),
    prefix: 16,
};

/// An IPv4 prefix such as `10.214.3.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    fn mask(self) -> u32 {
        match self.prefix.min(32) {
            0 => 0,
            p => u32::MAX << (32 - u32::from(p)),
        }
    }
    fn first(self) -> u32 {
        u32::from(self.base) & self.mask()
    }
    fn last(self) -> u32 {
        self.first() | !self.mask()
    }
    /// Whether the two prefixes share an address.
    pub fn overlaps(self, other: Subnet) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }
    /// The `.1` address, used as the gateway.
    pub fn gateway(self) -> Ipv4Addr {
        Ipv4Addr::from(self.first() + 1)
    }
    /// The /24s inside this prefix (the prefix itself when it is /24 or longer).
    pub fn slash24s(self) -> impl Iterator<Item = Subnet> {
        let (start, count) = if self.prefix >= 24 {
            (self.first(), 1u32)
        } else {
            (self.first(), 1u32 << (24 - u32::from(self.prefix)))
        };
        let prefix = self.prefix.clamp(24, 32);
        (0..count).map(move |i| Subnet {
            base: Ipv4Addr::from(start + (i << 8)),
            prefix,
        })
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.first()), self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = String;
    fn from_str(s: &str) -> Result<Subnet, String> {
        let (addr, prefix) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not an IPv4 prefix like 10.214.0.0/16"))?;
        let base: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("`{prefix}` is not a prefix length from 0 to 32"))?;
        Ok(Subnet { base, prefix })
    }
}

/// The first /24 of `pool` that overlaps none of `used`.
pub fn allocate(pool: Subnet, used: &[Subnet]) -> Option<Subnet> {
    pool.slash24s()
        .find(|c| !used.iter().any(|u| u.overlaps(*c)))
}

/// The `panther.owner` label of this process's networks and containers: `PID:START`
/// ([`Owner`]: a pid and that process's start time, so a reused pid is not the owner).
pub fn owner_label(o: Owner) -> String {
    format!("{}:{}", o.pid, o.start)
}

/// Reads a `panther.owner` label back.
pub fn parse_owner_label(label: &str) -> Option<Owner> {
    let (pid, start) = label.split_once(':')?;
    Owner::parse(&format!("{pid}-{start}"))
}

/// A test's network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub id: String,
    pub name: String,
    pub subnet: Subnet,
    pub gateway: Ipv4Addr,
}

/// Transport of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Udp,
    Tcp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
        }
    }
}

/// A container port published on the host's 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub host: u16,
    pub container: u16,
    pub proto: Proto,
}

/// A host path mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub host: PathBuf,
    pub container: String,
    pub read_only: bool,
}

/// What to run. The command is `argv` as given (no shell); the image's entrypoint, if any,
/// comes first (panther's images have none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workdir: Option<String>,
    /// The network's name (from [`Network::name`]).
    pub network: String,
    /// Names other containers on the network reach this one by (its `name` works too).
    pub aliases: Vec<String>,
    /// Extra labels. `panther.owner` is added (this process) unless given here.
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<Port>,
    pub binds: Vec<Bind>,
    /// Capabilities to add, e.g. `NET_ADMIN` to run ethtool inside.
    pub cap_add: Vec<String>,
}

/// A started container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    pub name: String,
    /// Its first process, as the host sees it (`nsenter -t PID -n …` enters its netns).
    pub pid: u32,
    /// Its address on the spec's network.
    pub ip: Option<Ipv4Addr>,
}

/// Which output a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// What [`Engine::sweep`] removed and left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Names of the containers removed (their owner was gone).
    pub containers: Vec<String>,
    /// Names of the networks removed.
    pub networks: Vec<String>,
    /// Containers and networks left because their owner still runs.
    pub kept_live: usize,
    /// Ones with a `panther.owner` label panther cannot read (left alone).
    pub unreadable: usize,
    /// Leftovers that could not be removed (e.g. a network a live container still uses),
    /// with the engine's reason; the sweep goes on with the others.
    pub failed: Vec<String>,
}

/// Docker names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Turns free text (run ids, test names) into a piece of a Docker name.
pub fn name_part(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_matches(|c| c == '-' || c == '.').to_string();
    if out.is_empty() {
        out.push('x');
    }
    out.truncate(48);
    out
}

fn filter(key: &str, value: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(key.to_string(), vec![value.to_string()])])
}

impl Engine {
    /// Creates the bridge network of one test: `panther-<run>-<test>`, a /24 from the pool
    /// that no network of the engine uses, gateway `.1`, labelled with the run, the test and
    /// this process. [`EngineError::SubnetPoolExhausted`] when no /24 is left.
    pub async fn create_network(&self, run_id: &str, test: &str) -> Result<Network, EngineError> {
        let name = format!("panther-{}-{}", name_part(run_id), name_part(test));
        let labels = HashMap::from([
            (LABEL_RUN.to_string(), run_id.to_string()),
            (LABEL_TEST.to_string(), test.to_string()),
            (LABEL_OWNER.to_string(), owner_label(Owner::current())),
        ]);
        // Another panther may take the same /24 between our listing and our create: the
        // engine refuses the overlap, so list again and take the next one.
        let mut taken: Vec<Subnet> = Vec::new();
        for _ in 0..8 {
            let mut used = self.used_subnets().await?;
            used.extend(taken.iter().copied());
            let Some(subnet) = allocate(self.pool, &used) else {
                let mut inside: Vec<String> = used
                    .iter()
                    .filter(|u| u.overlaps(self.pool))
                    .map(|u| u.to_string())
                    .collect();
                inside.sort();
                inside.dedup();
                return Err(EngineError::SubnetPoolExhausted {
                    pool: self.pool.to_string(),
                    used: if inside.is_empty() {
                        "(none inside the pool)".into()
                    } else {
                        inside.join(", ")
                    },
                });
            };
            let gateway = subnet.gateway();
            let req = NetworkCreateRequest {
                name: name.clone(),
                driver: Some("bridge".into()),
                ipam: Some(Ipam {
                    driver: Some("default".into()),
                    config: Some(vec![IpamConfig {
                        subnet: Some(subnet.to_string()),
                        gateway: Some(gateway.to_string()),
                        ..Default::default()
                    }]),
                    options: None,
                }),
                labels: Some(labels.clone()),
                ..Default::default()
            };
            match self.docker().create_network(req).await {
                Ok(r) => {
                    return Ok(Network {
                        id: r.id,
                        name,
                        subnet,
                        gateway,
                    });
                }
                Err(bollard::errors::Error::DockerResponseServerError { message, .. })
                    if message.contains("overlaps") =>
                {
                    taken.push(subnet);
                }
                Err(e) => return Err(EngineError::api(format!("creating network {name}"))(e)),
            }
        }
        Err(EngineError::SubnetPoolExhausted {
            pool: self.pool.to_string(),
            used: "(the engine kept refusing free-looking subnets as overlapping)".into(),
        })
    }

    async fn used_subnets(&self) -> Result<Vec<Subnet>, EngineError> {
        let nets = self
            .docker()
            .list_networks(None::<ListNetworksOptions>)
            .await
            .map_err(EngineError::api("listing networks"))?;
        Ok(nets
            .iter()
            .filter_map(|n| n.ipam.as_ref()?.config.as_ref())
            .flatten()
            .filter_map(|c| c.subnet.as_deref()?.parse().ok())
            .collect())
    }

    /// Removes a network (already gone is fine).
    pub async fn remove_network(&self, name_or_id: &str) -> Result<(), EngineError> {
        match self.docker().remove_network(name_or_id).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(EngineError::api(format!("removing network {name_or_id}"))(
                e,
            )),
        }
    }

    /// Creates and starts a container; returns its id, host pid and address. A container that
    /// will not start is removed again and reported as [`EngineError::Start`].
    pub async fn start_container(&self, spec: &ContainerSpec) -> Result<Container, EngineError> {
        if !valid_name(&spec.name) {
            return Err(EngineError::Invalid(format!(
                "`{}` is not a container name (letters, digits, _ . -; starting with a letter or digit)",
                spec.name
            )));
        }
        if let Some((k, _)) = spec
            .env
            .iter()
            .find(|(k, _)| k.is_empty() || k.contains('='))
        {
            return Err(EngineError::Invalid(format!(
                "`{k}` is not an environment variable name"
            )));
        }
        if let Some(b) = spec.binds.iter().find(|b| !b.host.is_absolute()) {
            return Err(EngineError::Invalid(format!(
                "bind mount source {} must be an absolute path",
                b.host.display()
            )));
        }
        let mut labels: HashMap<String, String> = spec
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels
            .entry(LABEL_OWNER.to_string())
            .or_insert_with(|| owner_label(Owner::current()));

        let mut port_bindings = HashMap::new();
        let mut exposed = Vec::new();
        for p in &spec.ports {
            let key = format!("{}/{}", p.container, p.proto.as_str());
            exposed.push(key.clone());
            port_bindings
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(p.host.to_string()),
                });
        }
        let binds: Vec<String> = spec
            .binds
            .iter()
            .map(|b| {
                format!(
                    "{}:{}{}",
                    b.host.display(),
                    b.container,
                    if b.read_only { ":ro" } else { "" }
                )
            })
            .collect();
        let network = (!spec.network.is_empty()).then(|| spec.network.clone());
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: (!spec.argv.is_empty()).then(|| spec.argv.clone()),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            working_dir: spec.workdir.clone(),
            labels: Some(labels),
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            host_config: Some(HostConfig {
                network_mode: network.clone(),
                port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
                binds: (!binds.is_empty()).then_some(binds),
                cap_add: (!spec.cap_add.is_empty()).then(|| spec.cap_add.clone()),
                // A small init as PID 1 forwards SIGTERM and reaps, so services that never
                // expected to be PID 1 still stop on `stop`.
                init: Some(true),
                ..Default::default()
            }),
            networking_config: network.as_ref().map(|n| NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    n.clone(),
                    EndpointSettings {
                        aliases: (!spec.aliases.is_empty()).then(|| spec.aliases.clone()),
                        ..Default::default()
                    },
                )])),
            }),
            ..Default::default()
        };
        let created = self
            .docker()
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(spec.name.clone()),
                    ..Default::default()
                }),
                body,
            )
            .await
            .map_err(|e| match e {
                bollard::errors::Error::DockerResponseServerError { message, .. } => {
                    EngineError::Start {
                        name: spec.name.clone(),
                        message,
                    }
                }
                e => EngineError::api(format!("creating container {}", spec.name))(e),
            })?;
        if let Err(e) = self.docker().start_container(&created.id, None).await {
            let _ = self.remove(&created.id).await;
            let message = match e {
                bollard::errors::Error::DockerResponseServerError { message, .. } => message,
                e => e.to_string(),
            };
            return Err(EngineError::Start {
                name: spec.name.clone(),
                message,
            });
        }
        let info = self
            .docker()
            .inspect_container(&created.id, None::<InspectContainerOptions>)
            .await
            .map_err(EngineError::api(format!(
                "inspecting container {}",
                spec.name
            )))?;
        let pid = info
            .state
            .as_ref()
            .and_then(|s| s.pid)
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0);
        let ip = network.as_ref().and_then(|n| {
            info.network_settings
                .as_ref()?
                .networks
                .as_ref()?
                .get(n)?
                .ip_address
                .as_deref()?
                .parse()
                .ok()
        });
        Ok(Container {
            id: created.id,
            name: spec.name.clone(),
            pid,
            ip,
        })
    }

    /// Follows a container's output from its start: one item per line (without the line
    /// break), stdout and stderr kept apart; ends when the container has stopped and its
    /// output is read. A last line without a break is still delivered.
    pub fn logs(&self, id: &str) -> BoxStream<'static, Result<(LogStream, Bytes), EngineError>> {
        let what = format!("reading the logs of {id}");
        let raw = self.docker().logs(
            id,
            Some(LogsOptions {
                follow: true,
                stdout: true,
                stderr: true,
                tail: "all".into(),
                ..Default::default()
            }),
        );
        raw.map(Some)
            .chain(stream::once(async { None }))
            .scan(Lines::default(), move |lines, item| {
                let out: Vec<Result<(LogStream, Bytes), EngineError>> = match item {
                    Some(Ok(chunk)) => {
                        use bollard::container::LogOutput;
                        match chunk {
                            LogOutput::StdErr { message } => lines.push(LogStream::Stderr, message),
                            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                                lines.push(LogStream::Stdout, message)
                            }
                            LogOutput::StdIn { .. } => Vec::new(),
                        }
                        .into_iter()
                        .map(Ok)
                        .collect()
                    }
                    Some(Err(e)) => vec![Err(EngineError::api(what.clone())(e))],
                    None => lines.finish().into_iter().map(Ok).collect(),
                };
                std::future::ready(Some(stream::iter(out)))
            })
            .flatten()
            .boxed()
    }

    /// The exit code once the container has stopped; `None` while it runs (or was never
    /// started). Read from inspect, so a non-zero code is a value, not an error.
    pub async fn exit_status(&self, id: &str) -> Result<Option<i64>, EngineError> {
        let info = self
            .docker()
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .map_err(EngineError::api(format!("inspecting container {id}")))?;
        let Some(state) = info.state else {
            return Ok(None);
        };
        use bollard::models::ContainerStateStatusEnum as S;
        let stopped = matches!(state.status, Some(S::EXITED) | Some(S::DEAD));
        Ok(if stopped && state.running != Some(true) {
            state.exit_code
        } else {
            None
        })
    }

    /// Waits until the container has stopped and returns its exit code. (bollard's wait
    /// reports a non-zero exit as an error; that is turned back into the code here.)
    pub async fn wait(&self, id: &str) -> Result<i64, EngineError> {
        // The caller bounds the wait (tokio::time::timeout); the client's own limit must not.
        let docker = self
            .docker()
            .clone()
            .with_timeout(Duration::from_secs(7 * 24 * 3600));
        let mut waits = docker.wait_container(
            id,
            Some(WaitContainerOptions {
                condition: "not-running".into(),
            }),
        );
        let code = match waits.next().await {
            Some(Ok(r)) => Some(r.status_code),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Some(code),
            Some(Err(e)) => return Err(EngineError::api(format!("waiting for {id}"))(e)),
            None => None,
        };
        match self.exit_status(id).await? {
            Some(c) => Ok(c),
            None => code.ok_or_else(|| {
                EngineError::Invalid(format!("the engine did not say how container {id} ended"))
            }),
        }
    }

    /// SIGTERM, then SIGKILL after `grace`. A container already stopped or gone is fine.
    pub async fn stop(&self, id: &str, grace: Duration) -> Result<(), EngineError> {
        let t = i32::try_from(grace.as_secs().max(u64::from(grace.subsec_nanos() > 0)))
            .unwrap_or(i32::MAX);
        // The engine answers once the container has stopped: up to `grace`, then the kill.
        let docker = self
            .docker()
            .clone()
            .with_timeout(grace + Duration::from_secs(30));
        match docker
            .stop_container(
                id,
                Some(StopContainerOptions {
                    t: Some(t),
                    signal: None,
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(EngineError::api(format!("stopping container {id}"))(e)),
        }
    }

    /// Removes a container (killing it if it still runs) and its anonymous volumes. Already
    /// gone is fine.
    pub async fn remove(&self, id: &str) -> Result<(), EngineError> {
        match self
            .docker()
            .remove_container(
                id,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    link: false,
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(EngineError::api(format!("removing container {id}"))(e)),
        }
    }

    /// Removes the containers, then the networks, labelled `panther.owner` whose owner process
    /// is gone. Never touches anything without that label, nor anything whose owner runs. Only
    /// listing fails the sweep; an item that cannot be removed is noted in `failed`.
    pub async fn sweep(&self) -> Result<SweepReport, EngineError> {
        let mut report = SweepReport::default();
        let containers = self
            .docker()
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filter("label", LABEL_OWNER)),
                ..Default::default()
            }))
            .await
            .map_err(EngineError::api("listing containers"))?;
        for c in containers {
            let label = c.labels.as_ref().and_then(|l| l.get(LABEL_OWNER));
            match label.and_then(|l| parse_owner_label(l)) {
                None => report.unreadable += 1,
                Some(o) if o.alive() => report.kept_live += 1,
                Some(_) => {
                    let Some(id) = c.id.as_deref() else { continue };
                    let name = c
                        .names
                        .as_ref()
                        .and_then(|n| n.first())
                        .map(|n| n.trim_start_matches('/').to_string())
                        .unwrap_or_else(|| id.to_string());
                    match self.remove(id).await {
                        Ok(()) => report.containers.push(name),
                        Err(e) => report.failed.push(format!("container {name}: {e}")),
                    }
                }
            }
        }
        let networks = self
            .docker()
            .list_networks(Some(ListNetworksOptions {
                filters: Some(filter("label", LABEL_OWNER)),
            }))
            .await
            .map_err(EngineError::api("listing networks"))?;
        for n in networks {
            let label = n.labels.as_ref().and_then(|l| l.get(LABEL_OWNER));
            match label.and_then(|l| parse_owner_label(l)) {
                None => report.unreadable += 1,
                Some(o) if o.alive() => report.kept_live += 1,
                Some(_) => {
                    let Some(id) = n.id.as_deref() else { continue };
                    let name = n.name.clone().unwrap_or_else(|| id.to_string());
                    match self.remove_network(id).await {
                        Ok(()) => report.networks.push(name),
                        Err(e) => report.failed.push(format!("network {name}: {e}")),
                    }
                }
            }
        }
        Ok(report)
    }
}

impl Container {
    /// The host side of the container's `iface` (its veth peer on the bridge), where host-side
    /// shaping (`tc … dev vethXXXX`) and capture apply. Read from `/proc/<pid>/root/sys` (the
    /// container's own sysfs) and the host's `/sys/class/net`.
    pub fn host_interface(&self, iface: &str) -> Result<String, EngineError> {
        let path = format!("/proc/{}/root/sys/class/net/{iface}/iflink", self.pid);
        let iflink =
            std::fs::read_to_string(&path).map_err(EngineError::io(format!("reading {path}")))?;
        let iflink = iflink.trim();
        let entries = std::fs::read_dir("/sys/class/net")
            .map_err(EngineError::io("reading /sys/class/net"))?;
        for e in entries.flatten() {
            let idx = std::fs::read_to_string(e.path().join("ifindex")).unwrap_or_default();
            if idx.trim() == iflink {
                return Ok(e.file_name().to_string_lossy().into_owned());
            }
        }
        Err(EngineError::Invalid(format!(
            "no host interface has index {iflink} (the peer of {iface} in container {})",
            self.name
        )))
    }

    /// Whether a socket in the container is bound to this UDP port: the readiness probe for
    /// UDP servers, read from the kernel's table of the container's own network namespace
    /// (`/proc/<pid>/net/udp`, `udp6`); the host's `/proc/net/udp` does not show it.
    pub fn udp_bound(&self, port: u16) -> bool {
        let want = format!(":{port:04X}");
        ["udp", "udp6"].iter().any(|f| {
            std::fs::read_to_string(format!("/proc/{}/net/{f}", self.pid)).is_ok_and(|t| {
                t.lines().skip(1).any(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|local| local.ends_with(&want))
                })
            })
        })
    }

    /// Turns off UDP segmentation offload (GSO) on the container's `iface`, so a capture on
    /// the bridge sees the datagrams as sent on the wire rather than 50 kB super-packets.
    /// Runs the host's `nsenter -t PID -n ethtool -K IFACE tx-udp-segmentation off` (needs
    /// root, nsenter and ethtool on the host; the container needs no capability).
    pub async fn disable_udp_gso(&self, iface: &str) -> Result<(), EngineError> {
        let pid = self.pid.to_string();
        let out = tokio::process::Command::new("nsenter")
            .args([
                "-t",
                &pid,
                "-n",
                "ethtool",
                "-K",
                iface,
                "tx-udp-segmentation",
                "off",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(EngineError::io("running nsenter ethtool"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(EngineError::Invalid(format!(
                "turning off UDP GSO on {iface} of {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

/// Splits chunks into lines, one partial line per stream.
#[derive(Default)]
struct Lines {
    out: BytesMut,
    err: BytesMut,
}

impl Lines {
    fn push(&mut self, which: LogStream, chunk: Bytes) -> Vec<(LogStream, Bytes)> {
        let buf = match which {
            LogStream::Stdout => &mut self.out,
            LogStream::Stderr => &mut self.err,
        };
        buf.extend_from_slice(&chunk);
        let mut lines = Vec::new();
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let mut line = buf.split_to(i + 1);
            line.truncate(i);
            if line.last() == Some(&b'\r') {
                line.truncate(i - 1);
            }
            lines.push((which, line.freeze()));
        }
        lines
    }

    fn finish(&mut self) -> Vec<(LogStream, Bytes)> {
        let mut lines = Vec::new();
        for (which, buf) in [
            (LogStream::Stdout, &mut self.out),
            (LogStream::Stderr, &mut self.err),
        ] {
            if !buf.is_empty() {
                lines.push((which, buf.split().freeze()));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Subnet {
        x.parse().unwrap()
    }

    #[test]
    fn allocates_the_first_free_slash24() {
        let pool = s("10.214.0.0/16");
        assert_eq!(allocate(pool, &[]), Some(s("10.214.0.0/24")));
        let used = [s("10.214.0.0/24"), s("10.214.1.0/24"), s("10.0.0.0/8")];
        assert_eq!(allocate(pool, &used[..2]), Some(s("10.214.2.0/24")));
        assert_eq!(
            allocate(pool, &used),
            None,
            "a /8 around the pool uses all of it"
        );
        assert_eq!(allocate(s("10.214.7.0/24"), &[s("10.214.7.128/25")]), None);
        assert_eq!(
            allocate(s("10.214.6.0/23"), &[s("10.214.6.0/24")]),
            Some(s("10.214.7.0/24"))
        );
        assert_eq!(s("10.214.3.0/24").gateway(), Ipv4Addr::new(10, 214, 3, 1));
        assert_eq!(s("10.214.3.9/24").to_string(), "10.214.3.0/24");
        assert!(Subnet::from_str("10.214.0.0").is_err());
        assert!(Subnet::from_str("10.214.0.0/33").is_err());
    }

    #[test]
    fn owner_labels_round_trip_and_this_process_is_alive() {
        let me = Owner::current();
        assert_eq!(parse_owner_label(&owner_label(me)), Some(me));
        assert!(me.alive());
        let reused = Owner {
            pid: me.pid,
            start: me.start + 1,
        };
        assert!(!reused.alive(), "a reused pid is not the owner");
        assert_eq!(parse_owner_label("12"), None);
        assert_eq!(parse_owner_label("x:1"), None);
    }

    #[test]
    fn lines_are_split_per_stream() {
        let mut l = Lines::default();
        assert!(
            l.push(LogStream::Stdout, Bytes::from_static(b"hel"))
                .is_empty()
        );
        let e = l.push(LogStream::Stderr, Bytes::from_static(b"oops\r\nhalf"));
        assert_eq!(e, vec![(LogStream::Stderr, Bytes::from_static(b"oops"))]);
        let o = l.push(LogStream::Stdout, Bytes::from_static(b"lo\n\nworld\n"));
        assert_eq!(
            o,
            vec![
                (LogStream::Stdout, Bytes::from_static(b"hello")),
                (LogStream::Stdout, Bytes::from_static(b"")),
                (LogStream::Stdout, Bytes::from_static(b"world")),
            ]
        );
        assert_eq!(
            l.finish(),
            vec![(LogStream::Stderr, Bytes::from_static(b"half"))]
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            name_part("2026-12-01_10:02 my test"),
            "2026-12-01_10-02-my-test"
        );
        assert_eq!(name_part("///"), "x");
        assert!(valid_name("panther-a.b_c"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("a b"));
    }
}
