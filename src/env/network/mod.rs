//! Network environments: where a test's services live and how they reach each other.
//!
//! One interface, [`NetworkEnvironment`], several drivers chosen by the environment plugin's
//! `network.driver`: `localhost` (processes on 127.0.0.1, the link relay between each client
//! and its target), `netns` (a network namespace per service joined by panther's userspace
//! switch). The orchestrator only talks to the interface:
//!
//! 1. [`NetworkEnvironment::up`] brings the test's [`Topology`] up;
//! 2. [`NetworkEnvironment::listen`] gives each server its address and port,
//!    [`NetworkEnvironment::place`] says where its process starts (and how names resolve
//!    there), [`NetworkEnvironment::route`] tells a client where to send to reach its target
//!    (through the link when the test has one);
//! 3. [`NetworkEnvironment::down`] removes everything the environment made;
//! 4. [`sweep`], at start-up, removes what a killed panther left (only what is provably ours).

pub mod capture;
pub mod docker;
pub mod link;
pub mod localhost;
pub mod netns;

use std::net::IpAddr;
use std::path::PathBuf;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use indexmap::IndexMap;

use crate::events::EventTx;
use crate::experiment::model::Link;
use crate::plugin::Role;
use crate::plugin::manifest::Transport;
use crate::run::owner::Owner;
use crate::run::process::{Spec, Supervised};

/// A test's services as the network sees them.
#[derive(Debug, Clone)]
pub struct Topology {
    /// The panther that owns what the environment creates.
    pub owner: Owner,
    /// Unique within the process, not only the run: a matrix runs many runs in one panther,
    /// each numbering its tests from 1, and names namespaces and networks after this.
    pub index: u32,
    /// The test's label on the timeline.
    pub label: String,
    /// The test's results folder (`capture.pcap` goes there).
    pub dir: PathBuf,
    pub services: Vec<Node>,
    /// Impairment between every pair of services (`network_environment.link`).
    pub link: Option<Link>,
    /// Per-service impairment of that service's own attachment (`network_environment.links`).
    pub links: IndexMap<String, Link>,
    /// Write `capture.pcap` (where the environment can).
    pub capture: bool,
    /// The environment's `plugin_config` (e.g. `docker_host`).
    pub config: crate::experiment::model::PluginConfig,
}

impl Topology {
    /// Where `service` writes its TLS key log (`SSLKEYLOGFILE`): the link reads it to open
    /// the service's Handshake and 1-RTT packets live.
    pub fn key_log(&self, service: &str) -> PathBuf {
        self.dir
            .join(crate::results::slug(service))
            .join(crate::run::orchestrator::KEYLOG_FILE)
    }

    /// The impairment between services `a` and `b`: a service's own entry in `links` is its
    /// attachment, crossed by everything to or from it (two attachments in a row: delays
    /// add, losses compound, the slower rate wins); without one, the test's `link`.
    pub fn link_between(&self, a: &str, b: &str) -> Option<Link> {
        match (self.links.get(a), self.links.get(b)) {
            (None, None) => self.link.clone(),
            (Some(x), None) | (None, Some(x)) => Some(x.clone()),
            (Some(x), Some(y)) => Some(combine(x, y)),
        }
    }
}

/// Two attachments in a row.
fn combine(a: &Link, b: &Link) -> Link {
    let both = |x: f64, y: f64| 1.0 - (1.0 - x) * (1.0 - y);
    let bps = |r: &Option<String>| {
        r.as_deref()
            .and_then(|r| crate::experiment::model::parse_rate(r).ok())
    };
    let rate = match (bps(&a.rate), bps(&b.rate)) {
        (Some(x), Some(y)) if y < x => b.rate.clone(),
        (Some(_), _) => a.rate.clone(),
        (None, _) => b.rate.clone(),
    };
    Link {
        delay_ms: a.delay_ms + b.delay_ms,
        jitter_ms: a.jitter_ms + b.jitter_ms,
        loss: both(a.loss, b.loss),
        duplicate: both(a.duplicate, b.duplicate),
        reorder: both(a.reorder, b.reorder),
        rate,
        seed: a.seed.or(b.seed),
    }
}

/// One service of a topology.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub role: Role,
    pub protocol: String,
    pub transport: Transport,
    pub target: Option<String>,
    /// The port it listens on when the environment gives each service its own address
    /// (a `ports:` mapping's container side, else the protocol's default port).
    pub port: Option<u16>,
    /// `ports:` mappings (host, container) to publish where the environment can.
    pub publish: Vec<(u16, u16)>,
    /// The service's plugin (environments that build images for services need it).
    pub plugin: Option<crate::plugin::Plugin>,
}

/// Where a service's process starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// In panther's own network namespace.
    Host,
    /// Inside the named network namespace at `ns`, with `hosts` bind-mounted on /etc/hosts.
    Netns { ns: PathBuf, hosts: PathBuf },
    /// As a container the environment starts ([`NetworkEnvironment::spawn`]).
    Container,
}

/// A service's place in the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Its own address (`{{ host }}`).
    pub host: IpAddr,
    pub runner: Runner,
}

/// An address and port to send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub host: IpAddr,
    pub port: u16,
}

/// Why an environment cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("network environment `{0}` is unavailable: {1}")]
    Unavailable(String, String),
    #[error("unknown network driver `{0}`")]
    UnknownDriver(String),
    #[error("service `{0}` is not part of this network")]
    UnknownService(String),
    #[error(transparent)]
    Netns(#[from] netns::NetnsError),
    #[error(transparent)]
    Docker(#[from] docker::EngineError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Ports(#[from] crate::run::ports::PortError),
    #[error(transparent)]
    Spawn(#[from] crate::run::process::SpawnError),
}

/// The interface every driver implements.
pub trait NetworkEnvironment: Send + Sync {
    /// The driver's name, as manifests write it.
    fn driver(&self) -> &'static str;
    /// Brings the topology up: addresses, namespaces, links, capture.
    fn up<'a>(&'a mut self, topo: &'a Topology) -> BoxFuture<'a, Result<(), EnvError>>;
    /// The address and port `service` listens on.
    fn listen(&mut self, service: &str) -> Result<Endpoint, EnvError>;
    /// Where `service` lives and how its process is started.
    fn place(&self, service: &str) -> Result<Placement, EnvError>;
    /// Where `client` sends to reach `target` (a relay in between when the link is emulated
    /// that way). Called after the target listens.
    fn route<'a>(
        &'a mut self,
        client: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Endpoint, EnvError>>;
    /// Starts `service`'s process where [`NetworkEnvironment::place`] put it (`spec.runner`).
    fn spawn<'a>(
        &'a mut self,
        service: &'a str,
        spec: Spec,
    ) -> BoxFuture<'a, Result<Supervised, EnvError>> {
        let _ = service;
        let r = Supervised::spawn(spec).map_err(EnvError::from);
        async move { r }.boxed()
    }
    /// The panther executable as a service's process sees it (`{{ panther }}`).
    fn panther_path(&self, on_host: &str) -> String {
        on_host.to_string()
    }
    /// Removes everything the environment made, emitting what its links carried.
    fn down(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// The driver `name` (a manifest's `network.driver`), emitting on `events`.
pub fn open(name: &str, events: EventTx) -> Result<Box<dyn NetworkEnvironment>, EnvError> {
    match name {
        "localhost" => Ok(Box::new(localhost::Localhost::new(events))),
        "netns" => Ok(Box::new(netns::Netns::new(events)?)),
        "docker_compose" => Ok(Box::new(docker::driver::DockerCompose::new(events))),
        other => Err(EnvError::UnknownDriver(other.to_string())),
    }
}

/// What the start-up sweep removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    pub namespaces: Vec<String>,
}

impl Swept {
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
    }
}

/// Removes what panthers that are gone left in the system. Never touches anything whose name
/// does not prove it is panther's, nor anything a live panther owns.
pub fn sweep() -> Swept {
    Swept {
        namespaces: netns::sweep(),
    }
}
