//! The `localhost` driver: every service is a process on this machine listening on
//! 127.0.0.1 at a port allocated for it; when the test has a link, each client is pointed at
//! its own relay ([`link::Relay`]), which impairs and reports every message.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::events::{Event, EventTx, Kind};
use crate::run::ports;

use super::link::{self, LinkSpec, Relay};
use super::{Endpoint, EnvError, NetworkEnvironment, Placement, Runner, Topology};

pub struct Localhost {
    events: EventTx,
    topo: Option<Topology>,
    ports: HashMap<String, u16>,
    relays: Vec<Relay>,
}

const HOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

impl Localhost {
    pub fn new(events: EventTx) -> Localhost {
        Localhost {
            events,
            topo: None,
            ports: HashMap::new(),
            relays: Vec::new(),
        }
    }

    fn node(&self, service: &str) -> Result<&super::Node, EnvError> {
        self.topo
            .as_ref()
            .and_then(|t| t.services.iter().find(|n| n.name == service))
            .ok_or_else(|| EnvError::UnknownService(service.to_string()))
    }
}

fn lifecycle(tx: &EventTx, text: String, data: serde_json::Value) {
    let mut e = Event::new(link::SOURCE, Kind::Lifecycle, text);
    e.data = data;
    tx.emit(e);
}

impl NetworkEnvironment for Localhost {
    fn driver(&self) -> &'static str {
        "localhost"
    }

    fn up<'a>(&'a mut self, topo: &'a Topology) -> BoxFuture<'a, Result<(), EnvError>> {
        self.topo = Some(topo.clone());
        async { Ok(()) }.boxed()
    }

    fn listen(&mut self, service: &str) -> Result<Endpoint, EnvError> {
        if let Some(&port) = self.ports.get(service) {
            return Ok(Endpoint { host: HOST, port });
        }
        let transport = self.node(service)?.transport;
        let port = ports::allocate(HOST, transport)?;
        self.ports.insert(service.to_string(), port);
        Ok(Endpoint { host: HOST, port })
    }

    fn place(&self, service: &str) -> Result<Placement, EnvError> {
        self.node(service)?;
        Ok(Placement {
            host: HOST,
            runner: Runner::Host,
        })
    }

    fn route<'a>(
        &'a mut self,
        client: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Endpoint, EnvError>> {
        async move {
            let port = *self
                .ports
                .get(target)
                .ok_or_else(|| EnvError::UnknownService(target.to_string()))?;
            let direct = Endpoint { host: HOST, port };
            let topo = self.topo.as_ref().expect("up before route");
            let Some(l) = topo.link_between(client, target) else {
                return Ok(direct);
            };
            let node = self.node(client)?;
            let spec = LinkSpec {
                protocol: node.protocol.clone(),
                transport: self.node(target)?.transport,
                client: client.to_string(),
                server: target.to_string(),
                target: SocketAddr::new(HOST, port),
                link: l,
                key_logs: vec![topo.key_log(client), topo.key_log(target)],
            };
            let relay = Relay::start(spec, SocketAddr::new(HOST, 0), self.events.clone())
                .await
                .map_err(|e| {
                    std::io::Error::new(e.kind(), format!("cannot start the link relay: {e}"))
                })?;
            let local = relay.local_addr();
            lifecycle(
                &self.events,
                format!("link {client} → {target} on {local}"),
                serde_json::json!({"step": "link_up", "listen": local.to_string(), "target": format!("{HOST}:{port}")}),
            );
            self.relays.push(relay);
            Ok(Endpoint {
                host: local.ip(),
                port: local.port(),
            })
        }
        .boxed()
    }

    fn down(self: Box<Self>) -> BoxFuture<'static, ()> {
        let me = *self;
        async move {
            for r in me.relays {
                let stats = r.stop().await;
                lifecycle(
                    &me.events,
                    "link down".into(),
                    serde_json::to_value(stats).unwrap_or_default(),
                );
            }
            for p in me.ports.values() {
                ports::release(*p);
            }
        }
        .boxed()
    }
}
