//! The `netns` driver: one network namespace per service, each with a TAP device `eth0`
//! whose descriptor panther holds, joined by panther's own switch ([`switch`]), which
//! impairs, captures and reports every frame. No global iptables or nft state is touched,
//! no netem is needed (this kernel has none), and the devices vanish with panther's
//! descriptors, even on SIGKILL.
//!
//! Addresses: test slot `S` (unique among the tests this panther runs at once) gets
//! 10.213.S.0/24 and fd70:616e:0:S::/64; service `i` of the test gets host number `i + 2`
//! and MAC 02:70:6e:S:00:(i + 2). Namespaces are isolated from each other and from the host,
//! so tests of different panthers cannot collide even on equal addresses. Neighbour entries
//! are static, so the capture holds the test's traffic, not ARP.

pub mod fold;
pub mod frame;
pub mod namespace;
pub mod plan;
pub mod switch;
pub mod tap;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::env::network::capture::{self, Capture};
use crate::env::network::link::Params;
use crate::events::{Event, EventTx, Kind};
use crate::plugin::Role;

use super::{Endpoint, EnvError, NetworkEnvironment, Placement, Runner, Topology};
use plan::Plan;
use switch::{PortSpec, Switch, SwitchSpec};

/// Why the netns environment failed.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("netns needs root or CAP_NET_ADMIN (run panther as root, or use `localhost`)")]
    NotRoot,
    #[error("{0}")]
    Tool(String),
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
    #[error("{0}: {1}")]
    Sys(&'static str, nix::Error),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Capture(String, super::capture::CaptureError),
    #[error("no free test subnet: {0} tests already use all of 10.213.0.0/16")]
    PoolExhausted(usize),
    #[error("a netns test holds at most {max} services; this one has {got}")]
    TooManyServices { max: usize, got: usize },
    #[error("link of `{0}`: {1}")]
    Link(String, std::io::Error),
}

/// Why netns cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() && !has_cap_net_admin() {
        return Some(NetnsError::NotRoot.to_string());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun is missing (the kernel has no TUN/TAP support)".into());
    }
    if crate::plugin::availability::resolve_program("ip").is_none() {
        return Some("`ip` is not installed (apt-get install iproute2)".into());
    }
    None
}

fn has_cap_net_admin() -> bool {
    // CapEff bit 12 is CAP_NET_ADMIN.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << 12) != 0)
}

/// One service's namespace.
struct Member {
    name: String,
    ns: String,
    v4: Ipv4Addr,
    port: u16,
    hosts: std::path::PathBuf,
}

pub struct Netns {
    events: EventTx,
    plan: Option<Plan>,
    members: Vec<Member>,
    switch: Option<Switch>,
    capture: Option<Arc<Capture>>,
}

impl Netns {
    pub fn new(events: EventTx) -> Result<Netns, EnvError> {
        if let Some(why) = unavailable() {
            return Err(EnvError::Unavailable("netns".into(), why));
        }
        Ok(Netns {
            events,
            plan: None,
            members: Vec::new(),
            switch: None,
            capture: None,
        })
    }

    fn member(&self, service: &str) -> Result<&Member, EnvError> {
        self.members
            .iter()
            .find(|m| m.name == service)
            .ok_or_else(|| EnvError::UnknownService(service.to_string()))
    }

    fn build(&mut self, topo: &Topology) -> Result<(), NetnsError> {
        let plan = Plan::new(topo.services.iter().map(|n| n.name.as_str()))?;
        let names = plan.names();
        let mut ports = Vec::new();
        for (i, (n, h)) in topo.services.iter().zip(&plan.hosts).enumerate() {
            let ns = namespace::name(topo.owner, topo.index, &n.name);
            namespace::create(&ns)?;
            self.members.push(Member {
                name: n.name.clone(),
                ns: ns.clone(),
                v4: h.v4,
                port: n.port.unwrap_or(4000 + i as u16),
                hosts: namespace::write_hosts(&ns, &names)?,
            });
            let fd = tap::create_in(&namespace::path(&ns), "eth0")?;
            namespace::ip_batch(&ns, &plan.config(i, "eth0", None, true))?;
            ports.push(PortSpec {
                service: n.name.clone(),
                fd,
                mac: h.mac,
                addrs: vec![IpAddr::V4(h.v4), IpAddr::V6(h.v6)],
                protocol: n.protocol.clone(),
                client: n.role == Role::Client,
            });
        }
        self.plan = Some(plan);
        let (switch, capture) = start_link(topo, ports, &self.events)?;
        self.switch = Some(switch);
        self.capture = capture;
        Ok(())
    }

    fn teardown(&mut self) {
        for m in &self.members {
            namespace::remove(&m.ns);
        }
        self.members.clear();
        self.plan = None;
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // A run that panicked or was aborted still removes its namespaces.
        self.teardown();
    }
}

/// Starts the switch over `ports` with the topology's impairments, and the capture it
/// writes when the topology asks for one.
pub fn start_link(
    topo: &Topology,
    ports: Vec<PortSpec>,
    events: &EventTx,
) -> Result<(Switch, Option<Arc<Capture>>), NetnsError> {
    let impair = impairments(topo)?;
    let capture = if topo.capture {
        let path = topo.dir.join(capture::FILE_NAME);
        let _ = std::fs::create_dir_all(&topo.dir);
        let c = Capture::create(&path)
            .map_err(|e| NetnsError::Capture(path.display().to_string(), e))?;
        Some(Arc::new(c))
    } else {
        None
    };
    let key_logs = topo
        .services
        .iter()
        .filter(|n| crate::quic::trace::live::is_quic(&n.protocol))
        .map(|n| topo.key_log(&n.name))
        .collect();
    let sw = Switch::start(SwitchSpec {
        ports,
        impair,
        capture: capture.clone(),
        events: events.clone(),
        key_logs,
    })
    .map_err(|e| NetnsError::Io("switch".into(), e))?;
    Ok((sw, capture))
}

/// Stops the switch and closes the capture, emitting what the link carried.
pub async fn stop_link(switch: Switch, capture: Option<Arc<Capture>>, events: &EventTx) {
    let stats = switch.stop().await;
    let frames = capture.and_then(|c| c.close().ok());
    let mut data = serde_json::to_value(stats).unwrap_or_default();
    if let (Some(n), Some(o)) = (frames, data.as_object_mut()) {
        o.insert("captured".into(), n.into());
    }
    lifecycle(events, "link down".into(), data);
}

/// `impair[src][dst]`: the impairment of frames from one service to another
/// ([`Topology::link_between`]), each direction with its own random stream.
fn impairments(topo: &Topology) -> Result<Vec<Vec<Option<Params>>>, NetnsError> {
    let n = topo.services.len();
    let mut out = vec![vec![None; n]; n];
    for (s, a) in topo.services.iter().enumerate() {
        for (d, b) in topo.services.iter().enumerate() {
            if s == d {
                continue;
            }
            if let Some(l) = topo.link_between(&a.name, &b.name) {
                let mut p =
                    Params::from_link(&l).map_err(|e| NetnsError::Link(a.name.clone(), e))?;
                p.seed ^= (s as u64) << 32 | d as u64;
                out[s][d] = Some(p);
            }
        }
    }
    Ok(out)
}

fn lifecycle(tx: &EventTx, text: String, data: serde_json::Value) {
    let mut e = Event::new(super::link::SOURCE, Kind::Lifecycle, text);
    e.data = data;
    tx.emit(e);
}

impl NetworkEnvironment for Netns {
    fn driver(&self) -> &'static str {
        "netns"
    }

    fn up<'a>(&'a mut self, topo: &'a Topology) -> BoxFuture<'a, Result<(), EnvError>> {
        async move {
            let t0 = std::time::Instant::now();
            if let Err(e) = self.build(topo) {
                self.teardown();
                return Err(e.into());
            }
            let addrs: serde_json::Map<String, serde_json::Value> = self
                .members
                .iter()
                .map(|m| (m.name.clone(), serde_json::json!({"ipv4": m.v4.to_string(), "netns": m.ns})))
                .collect();
            lifecycle(
                &self.events,
                format!(
                    "link up: {} namespaces on 10.213.{}.0/24 in {} ms",
                    self.members.len(),
                    self.plan.as_ref().map_or(0, |p| p.slot),
                    t0.elapsed().as_millis()
                ),
                serde_json::json!({"step": "link_up", "services": addrs, "capture": self.capture.as_ref().map(|c| c.path().display().to_string())}),
            );
            Ok(())
        }
        .boxed()
    }

    fn listen(&mut self, service: &str) -> Result<Endpoint, EnvError> {
        let m = self.member(service)?;
        Ok(Endpoint {
            host: IpAddr::V4(m.v4),
            port: m.port,
        })
    }

    fn place(&self, service: &str) -> Result<Placement, EnvError> {
        let m = self.member(service)?;
        Ok(Placement {
            host: IpAddr::V4(m.v4),
            runner: Runner::Netns {
                ns: namespace::path(&m.ns),
                hosts: m.hosts.clone(),
            },
        })
    }

    fn route<'a>(
        &'a mut self,
        _client: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Endpoint, EnvError>> {
        let r = self.listen(target);
        async move { r }.boxed()
    }

    fn down(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        async move {
            if let Some(sw) = self.switch.take() {
                stop_link(sw, self.capture.take(), &self.events).await;
            }
            self.teardown();
        }
        .boxed()
    }
}

/// Namespaces (and what runs in them) left by panthers that are gone.
pub fn sweep() -> Vec<String> {
    namespace::sweep()
}
