//! The `docker_compose` driver: each service of a test is a container, built from its
//! plugin's image (built locally, cached), on one user-defined network per test where the
//! services' names are DNS aliases, so `target: server` resolves as in PANTHER's compose
//! files. Output is streamed into events live, exit codes come from the engine, and the test's
//! folder gets an equivalent `docker-compose.yml`.
//!
//! The service's run folder is bind-mounted at the same path, so the templates' paths
//! (`run_dir`, `artifact_dir`, rendered files) mean the same inside the container; `{{
//! panther }}` is the panther binary in the image.
//!
//! **panther's link on Docker.** When the test has a link, per-service links or a capture,
//! each container also gets panther's link, as on netns: a TAP device made in panther's
//! namespace is moved into the container's network namespace (reached through its pid) as
//! `eth1`, with the test's 10.213.S.x address, and the services' names resolve to those
//! addresses (a hosts file bind-mounted on /etc/hosts), so their traffic crosses panther's
//! switch: impaired, captured, shown. The service's command waits for `eth1`
//! (`panther builtin wait-iface`) before it starts, so it never sends before the link is
//! there. The Docker network stays for everything else (DNS of other names, published
//! ports).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::env::network::capture::Capture;
use crate::env::network::netns::plan::Plan;
use crate::env::network::netns::switch::{PortSpec, Switch};
use crate::env::network::netns::{self, namespace, tap};
use crate::events::{Event, EventTx, Kind, Level};
use crate::plugin::Role;
use crate::run::process::{Spec, Supervised};

use super::containers::{Bind, Container, ContainerSpec, Network, Port, Proto};
use super::images::{self, PluginBuildOptions, Progress};
use super::{Engine, EngineError, LABEL_RUN, LABEL_TEST, PANTHER_IN_IMAGE};
use crate::env::network::{
    Endpoint, EnvError, NetworkEnvironment, Node, Placement, Runner, Topology,
};

/// The event source of the driver's own lifecycle events.
const SOURCE: &str = "environment";
/// Label naming the service a container runs.
const LABEL_SERVICE: &str = "panther.service";
/// Where the host's panther binary is mounted in every container joined to the link (the
/// images of services that are not panther's own have none).
const HELPER: &str = "/.panther/panther";
/// The link's interface inside a container.
const LINK_IFACE: &str = "eth1";

/// panther's link joined to the test's containers.
struct Joined {
    plan: Plan,
    /// The TAP devices' names in panther's namespace, until they move into their container.
    taps: Vec<String>,
    switch: Option<Switch>,
    capture: Option<std::sync::Arc<Capture>>,
    /// Namespace names attached to containers (removed at teardown).
    attached: Vec<String>,
    /// Per service: the hosts file bind-mounted on /etc/hosts.
    hosts: BTreeMap<String, std::path::PathBuf>,
}

pub struct DockerCompose {
    events: EventTx,
    engine: Option<Engine>,
    topo: Option<Topology>,
    network: Option<Network>,
    images: BTreeMap<String, String>,
    containers: BTreeMap<String, Container>,
    specs: Vec<ContainerSpec>,
    link: Option<Joined>,
}

impl DockerCompose {
    pub fn new(events: EventTx) -> DockerCompose {
        DockerCompose {
            events,
            engine: None,
            topo: None,
            network: None,
            images: BTreeMap::new(),
            containers: BTreeMap::new(),
            specs: Vec::new(),
            link: None,
        }
    }

    fn node(&self, service: &str) -> Result<&Node, EnvError> {
        self.topo
            .as_ref()
            .and_then(|t| t.services.iter().find(|n| n.name == service))
            .ok_or_else(|| EnvError::UnknownService(service.to_string()))
    }

    fn say(&self, text: String, data: serde_json::Value) {
        let mut e = Event::new(SOURCE, Kind::Lifecycle, text);
        e.data = data;
        self.events.emit(e);
    }

    fn warn(&self, text: String) {
        let mut e = Event::new(SOURCE, Kind::Log, text);
        e.level = Some(Level::Warn);
        self.events.emit(e);
    }

    async fn bring_up(&mut self, topo: &Topology) -> Result<(), EnvError> {
        let host = topo
            .config
            .get("docker_host")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let engine = Engine::connect(host.as_deref()).await?;
        match engine.sweep().await {
            Ok(r) if !r.containers.is_empty() || !r.networks.is_empty() => self.warn(format!(
                "swept {} containers and {} networks left by an earlier run",
                r.containers.len(),
                r.networks.len()
            )),
            Ok(_) => {}
            Err(e) => self.warn(format!("could not sweep the engine: {e}")),
        }
        self.build_images(&engine, topo).await?;
        let net = engine
            .create_network(&topo.owner.token(), &format!("t{}", topo.index))
            .await?;
        self.say(
            format!("network {} on {}", net.name, net.subnet),
            serde_json::json!({"step": "link_up", "network": net.name, "subnet": net.subnet.to_string(), "engine": engine.host()}),
        );
        self.network = Some(net);
        self.engine = Some(engine);
        if topo.link.is_some() || !topo.links.is_empty() || topo.capture {
            self.link = Some(join_link(topo, &self.events)?);
        }
        Ok(())
    }

    /// Each service's image, built when missing or stale (the build is cached by context).
    async fn build_images(&mut self, engine: &Engine, topo: &Topology) -> Result<(), EnvError> {
        let events = self.events.clone();
        let progress = move |p: Progress| {
            if let Progress::Step(s) = p {
                let mut e = Event::new(SOURCE, Kind::Log, format!("image: {s}"));
                e.data = serde_json::json!({"step": "image"});
                events.emit(e);
            }
        };
        let mut base_ready = false;
        for n in &topo.services {
            let Some(plugin) = &n.plugin else {
                return Err(EnvError::UnknownService(n.name.clone()));
            };
            if images::dockerfile_of(plugin).is_none() {
                return Err(EngineError::NoDockerfile {
                    plugin: plugin.name().into(),
                    path: "its plugin folder".into(),
                }
                .into());
            }
            if !base_ready {
                images::build_base(engine, false, &progress).await?;
                base_ready = true;
            }
            let r = images::build_plugin(engine, plugin, &PluginBuildOptions::default(), &progress)
                .await?;
            if r.built {
                self.say(
                    format!("built image {} for {}", r.tag, n.name),
                    serde_json::json!({"step": "image_built", "image": r.tag}),
                );
            }
            self.images.insert(n.name.clone(), r.tag);
        }
        Ok(())
    }

    fn container_spec(&self, service: &str, spec: &Spec) -> Result<ContainerSpec, EnvError> {
        let topo = self.topo.as_ref().expect("up before spawn");
        let node = self.node(service)?;
        let net = self.network.as_ref().expect("up before spawn");
        let proto = match node.transport {
            crate::plugin::manifest::Transport::Udp => Proto::Udp,
            crate::plugin::manifest::Transport::Tcp => Proto::Tcp,
        };
        let dir = spec.cwd.display().to_string();
        let mut argv = spec.argv.clone();
        let mut binds = vec![Bind {
            host: spec.cwd.clone(),
            container: dir.clone(),
            read_only: false,
        }];
        if let Some(j) = &self.link {
            let helper = std::env::current_exe().map_err(EnvError::Io)?;
            binds.push(Bind {
                host: helper,
                container: HELPER.into(),
                read_only: true,
            });
            if let Some(h) = j.hosts.get(service) {
                binds.push(Bind {
                    host: h.clone(),
                    container: "/etc/hosts".into(),
                    read_only: true,
                });
            }
            let mut wrapped: Vec<String> = [HELPER, "builtin", "wait-iface", LINK_IFACE, "--"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            wrapped.append(&mut argv);
            argv = wrapped;
        }
        Ok(ContainerSpec {
            name: container_name(topo, service),
            image: self.images.get(service).cloned().unwrap_or_default(),
            argv,
            env: spec.env.clone(),
            workdir: Some(dir.clone()),
            network: net.name.clone(),
            aliases: vec![service.to_string()],
            labels: BTreeMap::from([
                (LABEL_RUN.to_string(), topo.owner.token()),
                (LABEL_TEST.to_string(), topo.label.clone()),
                (LABEL_SERVICE.to_string(), service.to_string()),
            ]),
            ports: node
                .publish
                .iter()
                .map(|&(host, container)| Port {
                    host,
                    container,
                    proto,
                })
                .collect(),
            binds,
            cap_add: Vec::new(),
        })
    }
}

/// Makes the test's link: addresses, a TAP device per service in panther's namespace (moved
/// into each container when it starts), the switch over them, and the hosts files.
fn join_link(topo: &Topology, events: &EventTx) -> Result<Joined, EnvError> {
    let plan = Plan::new(topo.services.iter().map(|n| n.name.as_str()))?;
    let mut ports = Vec::new();
    let mut taps = Vec::new();
    let mut hosts = BTreeMap::new();
    let names = plan.names();
    for (i, (n, h)) in topo.services.iter().zip(&plan.hosts).enumerate() {
        // Unique among every panther's devices: this pid, the slot, the service.
        let name = format!("pt{:x}s{:x}i{:x}", topo.owner.pid, plan.slot, i);
        let fd = tap::create_here(&name)?;
        ports.push(PortSpec {
            service: n.name.clone(),
            fd,
            mac: h.mac,
            addrs: vec![IpAddr::V4(h.v4), IpAddr::V6(h.v6)],
            protocol: n.protocol.clone(),
            client: n.role == Role::Client,
        });
        taps.push(name);
        let file = topo.dir.join(&n.name).join("hosts");
        write_hosts(&file, &names)?;
        hosts.insert(n.name.clone(), file);
    }
    let (switch, capture) = netns::start_link(topo, ports, events)?;
    Ok(Joined {
        plan,
        taps,
        switch: Some(switch),
        capture,
        attached: Vec::new(),
        hosts,
    })
}

fn write_hosts(file: &std::path::Path, names: &[(String, String)]) -> Result<(), EnvError> {
    if let Some(d) = file.parent() {
        std::fs::create_dir_all(d)?;
    }
    let mut text = String::from("# written by panther: this test's services on its link\n");
    text.push_str("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for (addr, name) in names {
        text.push_str(&format!("{addr}\t{name}\n"));
    }
    std::fs::write(file, text)?;
    Ok(())
}

/// `panther-PID-START-tN-SERVICE`: unique per run and test, and names its owner.
fn container_name(topo: &Topology, service: &str) -> String {
    format!(
        "panther-{}-t{}-{}",
        topo.owner.token(),
        topo.index,
        super::containers::name_part(service)
    )
}

const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl DockerCompose {
    /// Moves `service`'s TAP device into its container's namespace (by the container's pid)
    /// as `eth1` and configures it; the container's command is waiting for it.
    fn move_tap(&mut self, service: &str, pid: u32) -> Result<(), EnvError> {
        let topo = self.topo.as_ref().expect("up before spawn");
        let Some(j) = self.link.as_mut() else {
            return Ok(());
        };
        let i = topo
            .services
            .iter()
            .position(|n| n.name == service)
            .ok_or_else(|| EnvError::UnknownService(service.to_string()))?;
        let ns = namespace::name(topo.owner, topo.index, service);
        namespace::attach(&ns, pid)?;
        j.attached.push(ns.clone());
        namespace::ip(&["link", "set", &j.taps[i], "netns", &ns])?;
        namespace::ip_batch(&ns, &j.plan.config(i, LINK_IFACE, Some(&j.taps[i]), false))?;
        Ok(())
    }
}

impl NetworkEnvironment for DockerCompose {
    fn driver(&self) -> &'static str {
        "docker_compose"
    }

    fn up<'a>(&'a mut self, topo: &'a Topology) -> BoxFuture<'a, Result<(), EnvError>> {
        self.topo = Some(topo.clone());
        async move { self.bring_up(topo).await }.boxed()
    }

    fn listen(&mut self, service: &str) -> Result<Endpoint, EnvError> {
        let n = self.node(service)?;
        Ok(Endpoint {
            host: ANY,
            port: n.port.unwrap_or(8080),
        })
    }

    fn place(&self, service: &str) -> Result<Placement, EnvError> {
        self.node(service)?;
        Ok(Placement {
            host: ANY,
            runner: Runner::Container,
        })
    }

    fn route<'a>(
        &'a mut self,
        _client: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Endpoint, EnvError>> {
        async move {
            let port = self.node(target)?.port.unwrap_or(8080);
            if let Some(h) = self.link.as_ref().and_then(|j| j.plan.host(target)) {
                return Ok(Endpoint {
                    host: IpAddr::V4(h.v4),
                    port,
                });
            }
            let c = self
                .containers
                .get(target)
                .ok_or_else(|| EnvError::UnknownService(target.to_string()))?;
            let host = c.ip.map(IpAddr::V4).ok_or_else(|| {
                EnvError::Docker(EngineError::Invalid(format!(
                    "container of `{target}` has no address on the test's network"
                )))
            })?;
            Ok(Endpoint { host, port })
        }
        .boxed()
    }

    fn spawn<'a>(
        &'a mut self,
        service: &'a str,
        spec: Spec,
    ) -> BoxFuture<'a, Result<Supervised, EnvError>> {
        async move {
            let cs = self.container_spec(service, &spec)?;
            let engine = self.engine.clone().expect("up before spawn");
            let c = engine.start_container(&cs).await?;
            self.specs.push(cs);
            self.containers.insert(service.to_string(), c.clone());
            if let Err(e) = self.move_tap(service, c.pid) {
                let _ = engine.remove(&c.id).await;
                return Err(e);
            }
            Ok(Supervised::contained(spec, engine, c))
        }
        .boxed()
    }

    fn panther_path(&self, _on_host: &str) -> String {
        // Services of panther's own images run the binary inside them.
        PANTHER_IN_IMAGE.to_string()
    }

    fn down(self: Box<Self>) -> BoxFuture<'static, ()> {
        let me = *self;
        async move {
            let mut me = me;
            if let Some(j) = me.link.as_mut()
                && let Some(sw) = j.switch.take()
            {
                netns::stop_link(sw, j.capture.take(), &me.events).await;
            }
            let Some(engine) = me.engine.clone() else {
                return;
            };
            for c in me.containers.values() {
                if let Err(e) = engine.remove(&c.id).await {
                    me.warn(format!("removing container {}: {e}", c.name));
                }
            }
            if let Some(j) = &me.link {
                for ns in &j.attached {
                    namespace::remove(ns);
                }
            }
            if let Some(net) = &me.network {
                if let Some(t) = &me.topo {
                    let file = t.dir.join("docker-compose.yml");
                    if let Err(e) = super::compose::write(&file, net, &me.specs) {
                        me.warn(format!("writing {}: {e}", file.display()));
                    }
                }
                if let Err(e) = engine.remove_network(&net.id).await {
                    me.warn(format!("removing network {}: {e}", net.name));
                }
            }
        }
        .boxed()
    }
}
