//! The tester as a QUIC client, testing a server: each case opens real connections with
//! quinn over an observed socket and judges what came back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quinn::{Connection, Endpoint};

use super::cases::Case;
use super::content;
use super::outcome::{CaseError, Outcome};
use super::socket::{self, Misbehave, Recording};
use super::tls::{self, KeyCollector, Suites, Trust};
use super::{h3, wire_view};

/// Everything a case needs to reach the server.
#[derive(Debug, Clone)]
pub struct Client {
    pub target: SocketAddr,
    pub sni: String,
    pub alpn: Vec<String>,
    pub trust: Trust,
    pub timeout: Duration,
    pub keys: Arc<KeyCollector>,
    /// Each HTTP/3 connection's control stream, held open for the connection's life:
    /// closing it, or opening a second one, is a connection error (RFC 9114 §6.2.1).
    pub h3_control: Arc<tokio::sync::Mutex<std::collections::HashMap<usize, quinn::SendStream>>>,
}

/// One endpoint with its recording; connections made from it share its session cache, so a
/// second connection can resume the first.
pub struct Session {
    pub endpoint: Endpoint,
    pub rec: Recording,
    config: quinn::ClientConfig,
}

impl Client {
    fn local(&self) -> SocketAddr {
        if self.target.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
        }
    }

    pub fn session(&self, suites: Suites) -> Result<Session, CaseError> {
        let (sock, rec) = socket::bind(self.local(), Misbehave::default())?;
        let endpoint = socket::endpoint(sock, None)?;
        let mut config = tls::client(&self.trust, &self.alpn, suites, self.keys.clone())?;
        let mut transport = quinn::TransportConfig::default();
        transport.max_idle_timeout(Some(
            self.timeout
                .try_into()
                .unwrap_or(quinn::IdleTimeout::from(quinn::VarInt::from_u32(30_000))),
        ));
        config.transport_config(Arc::new(transport));
        Ok(Session {
            endpoint,
            rec,
            config,
        })
    }

    pub async fn connect(&self, s: &Session) -> Result<Connection, CaseError> {
        let connecting = s
            .endpoint
            .connect_with(s.config.clone(), self.target, &self.sni)?;
        Ok(within(self.timeout, "the handshake", connecting).await??)
    }

    fn h3(&self) -> bool {
        !self.alpn.iter().any(|a| a.starts_with("hq")) && self.alpn.iter().any(|a| a == "h3")
    }

    /// Fetches `path` over hq-interop (HTTP/0.9) or HTTP/3, whichever ALPN was negotiated.
    pub async fn get(&self, conn: &Connection, path: &str) -> Result<Vec<u8>, CaseError> {
        let negotiated = negotiated(conn);
        let h3 = negotiated == b"h3" || (negotiated.is_empty() && self.h3());
        within(self.timeout, "a download", async {
            if h3 {
                let mut controls = self.h3_control.lock().await;
                if let std::collections::hash_map::Entry::Vacant(e) =
                    controls.entry(conn.stable_id())
                {
                    let mut ctl = conn.open_uni().await?;
                    ctl.write_all(&h3::control_stream()).await?;
                    e.insert(ctl);
                }
                drop(controls);
                let (mut send, mut recv) = conn.open_bi().await?;
                send.write_all(&h3::request(&self.sni, path)).await?;
                send.finish()?;
                let raw = recv.read_to_end(usize::MAX).await?;
                let r = h3::parse_response(&raw)?;
                match r.status {
                    Some(200) | None => Ok(r.body),
                    Some(s) => Err(CaseError::Stream(format!("HTTP/3 status {s} for {path}"))),
                }
            } else {
                let (mut send, mut recv) = conn.open_bi().await?;
                send.write_all(format!("GET {path}\r\n").as_bytes()).await?;
                send.finish()?;
                Ok(recv.read_to_end(usize::MAX).await?)
            }
        })
        .await?
    }

    /// Fetches the file of `size` bytes and compares it with what it must hold. The
    /// deadline grows with the size: half the timeout again per MiB (10 MiB over a slow or
    /// lossy link is not a stalled server).
    pub async fn fetch_checked(&self, conn: &Connection, size: usize) -> Result<(), CaseError> {
        let per_mib = self.timeout / 2 * (size >> 20) as u32;
        let patient = Client {
            timeout: self.timeout + per_mib,
            ..self.clone()
        };
        let got = patient.get(conn, &content::path(size)).await?;
        match content::first_difference(&got, &content::bytes(size)) {
            None => Ok(()),
            Some(at) => Err(CaseError::Stream(format!(
                "{}: {} bytes arrived, {} expected; they differ from byte {at}",
                content::path(size),
                got.len(),
                size
            ))),
        }
    }

    pub async fn run(&self, case: &Case) -> Outcome {
        let r = match case.name {
            "handshake" => self.handshakes(1, Suites::Default).await,
            "multiconnect" => self.handshakes(5, Suites::Default).await,
            "handshakeloss" => self.handshake_loss().await,
            "chacha20" => self
                .handshakes(1, Suites::ChaCha20Only)
                .await
                .map(|o| o.with("offered_suites", "TLS_CHACHA20_POLY1305_SHA256")),
            "transfer" => self.transfer(&[content::MEDIUM, content::LARGE]).await,
            "transferloss" => self.transfer(&[content::MEDIUM]).await,
            "keyupdate" => self.keyupdate().await,
            "resumption" => match self.one_alpn().await {
                Ok(c) => c.resumption(false).await,
                Err(e) => Err(e),
            },
            "zerortt" => match self.one_alpn().await {
                Ok(c) => c.resumption(true).await,
                Err(e) => Err(e),
            },
            "retry" => self.retry().await,
            "versionnegotiation" | "amplificationlimit" | "smallinitial" | "longcid"
            | "forbiddenframe" | "malformedframe" | "retrytoken" | "v2" => {
                return super::probes::run(self, case).await;
            }
            "http3" => self.http3().await,
            other => Ok(Outcome::inconclusive(format!("no such case `{other}`"))),
        };
        r.unwrap_or_else(CaseError::into_outcome)
    }

    /// The same client offering only the ALPN the server picks from our list: a 0-RTT
    /// request is written before the server has chosen, so the choice must already be made.
    async fn one_alpn(&self) -> Result<Client, CaseError> {
        if self.alpn.len() <= 1 {
            return Ok(self.clone());
        }
        let s = self.session(Suites::Default)?;
        let conn = self.connect(&s).await?;
        let picked = negotiated(&conn);
        conn.close(0u32.into(), b"done");
        s.endpoint.wait_idle().await;
        Ok(Client {
            alpn: vec![String::from_utf8_lossy(&picked).into_owned()],
            ..self.clone()
        })
    }

    /// One more connection, only to check the server's packets on the wire.
    pub async fn wire_checks(&self) -> Vec<(&'static Case, Outcome)> {
        let run = async {
            let s = self.session(Suites::Default)?;
            let conn = self.connect(&s).await?;
            self.fetch_checked(&conn, content::SMALL).await?;
            conn.close(0u32.into(), b"done");
            s.endpoint.wait_idle().await;
            let mut checks = wire_view::server_checks(&s.rec);
            checks.extend(wire_view::keyed_checks(&s.rec, &self.keys));
            Ok::<_, CaseError>(checks)
        };
        run.await.unwrap_or_else(|e| {
            super::cases::WIRE
                .iter()
                .filter(|c| !c.name.starts_with("wire_client"))
                .map(|c| {
                    (
                        c,
                        Outcome::inconclusive(format!("no connection to check: {e}")),
                    )
                })
                .collect()
        })
    }

    async fn handshakes(&self, n: usize, suites: Suites) -> Result<Outcome, CaseError> {
        self.handshakes_in(&self.session(suites)?, n).await
    }

    /// Ten handshakes over the link's loss, and what the loss did to the server's packets.
    async fn handshake_loss(&self) -> Result<Outcome, CaseError> {
        let s = self.session(Suites::Default)?;
        let o = self.handshakes_in(&s, 10).await?;
        let seen = super::decoded::decode(&s.rec.datagrams(), &self.keys);
        Ok(super::retransmission::of(&seen).annotate(o))
    }

    async fn handshakes_in(&self, s: &Session, n: usize) -> Result<Outcome, CaseError> {
        for i in 0..n {
            let conn = self
                .connect(s)
                .await
                .map_err(|e| CaseError::Stream(format!("connection {} of {n}: {e}", i + 1)))?;
            self.fetch_checked(&conn, content::SMALL).await?;
            conn.close(0u32.into(), b"done");
        }
        s.endpoint.wait_idle().await;
        let wire = wire_view::summary(&s.rec);
        Ok(Outcome::pass(format!(
            "{n} handshake(s) completed, each fetched {} intact",
            content::path(content::SMALL)
        ))
        .with("connections", n as u64)
        .with("datagrams", wire.datagrams as u64)
        .with("server_bytes", wire.received_bytes as u64))
    }

    async fn transfer(&self, sizes: &[usize]) -> Result<Outcome, CaseError> {
        let s = self.session(Suites::Default)?;
        let conn = self.connect(&s).await?;
        let all =
            futures_util::future::join_all(sizes.iter().map(|&n| self.fetch_checked(&conn, n)));
        for r in all.await {
            r?;
        }
        let stats = conn.stats();
        conn.close(0u32.into(), b"done");
        s.endpoint.wait_idle().await;
        let total: usize = sizes.iter().sum();
        Ok(Outcome::pass(format!(
            "{} file(s), {total} bytes, arrived complete and in order",
            sizes.len()
        ))
        .with("bytes", total as u64)
        .with("lost_packets", stats.path.lost_packets)
        .with("rtt_us", stats.path.rtt.as_micros() as u64))
    }

    async fn keyupdate(&self) -> Result<Outcome, CaseError> {
        let s = self.session(Suites::Default)?;
        let conn = self.connect(&s).await?;
        self.fetch_checked(&conn, content::SMALL).await?;
        conn.force_key_update();
        self.fetch_checked(&conn, content::MEDIUM).await?;
        conn.close(0u32.into(), b"done");
        s.endpoint.wait_idle().await;
        let phases = wire_view::key_phases(&s.rec, &self.keys);
        let o = if phases.received_after_update {
            Outcome::pass(
                "the client updated its keys; the server followed (it sent packets in the new key phase) and the transfer completed",
            )
        } else {
            Outcome::fail(
                "the client updated its keys but no server packet in the new key phase arrived",
            )
        };
        Ok(o.with("client_phase_flips", phases.sent_flips as u64)
            .with("server_phase_flips", phases.received_flips as u64))
    }

    /// `resumption`: the second connection resumes (the server's handshake skips its
    /// certificate); `zerortt`: it also carries a request in 0-RTT that the server accepts.
    async fn resumption(&self, zero_rtt: bool) -> Result<Outcome, CaseError> {
        let s = self.session(Suites::Default)?;
        let first = self.connect(&s).await?;
        self.fetch_checked(&first, content::SMALL).await?;
        // Tickets arrive after the handshake; give them a moment before closing.
        tokio::time::sleep(Duration::from_millis(200)).await;
        first.close(0u32.into(), b"done");
        s.rec.clear();
        let connecting = s
            .endpoint
            .connect_with(s.config.clone(), self.target, &self.sni)?;
        if !zero_rtt {
            let conn = within(self.timeout, "the resumed handshake", connecting).await??;
            self.fetch_checked(&conn, content::SMALL).await?;
            conn.close(0u32.into(), b"done");
            s.endpoint.wait_idle().await;
            return Ok(wire_view::resumed(&s.rec));
        }
        let (conn, accepted) = match connecting.into_0rtt() {
            Ok(c) => c,
            Err(_) => {
                return Ok(Outcome::fail(
                    "the server's first connection gave no ticket that allows 0-RTT",
                ));
            }
        };
        let fetch = self.fetch_checked(&conn, content::SMALL).await;
        let accepted = within(self.timeout, "0-RTT acceptance", accepted).await?;
        fetch?;
        conn.close(0u32.into(), b"done");
        s.endpoint.wait_idle().await;
        Ok(if accepted {
            Outcome::pass("a request sent in 0-RTT was accepted and answered intact")
        } else {
            Outcome::fail("the server rejected 0-RTT (the request was resent in 1-RTT)")
        })
    }

    async fn retry(&self) -> Result<Outcome, CaseError> {
        let s = self.session(Suites::Default)?;
        let conn = self.connect(&s).await?;
        self.fetch_checked(&conn, content::SMALL).await?;
        conn.close(0u32.into(), b"done");
        s.endpoint.wait_idle().await;
        Ok(wire_view::retry(&s.rec))
    }

    async fn http3(&self) -> Result<Outcome, CaseError> {
        if !self.alpn.iter().any(|a| a == "h3") {
            return Ok(Outcome::inconclusive("the server offers no h3 ALPN"));
        }
        let only_h3 = Client {
            alpn: vec!["h3".into()],
            ..self.clone()
        };
        let s = only_h3.session(Suites::Default)?;
        let conn = only_h3.connect(&s).await?;
        only_h3.fetch_checked(&conn, content::SMALL).await?;
        conn.close(0u32.into(), b"done");
        s.endpoint.wait_idle().await;
        Ok(Outcome::pass("a GET over HTTP/3 returned the file intact"))
    }
}

/// The ALPN the handshake settled on (empty before it completes, as in 0-RTT).
fn negotiated(conn: &Connection) -> Vec<u8> {
    conn.handshake_data()
        .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|d| d.protocol)
        .unwrap_or_default()
}

/// A future with a deadline that names what it was waiting for.
pub async fn within<F: std::future::Future>(
    t: Duration,
    during: &'static str,
    f: F,
) -> Result<F::Output, CaseError> {
    tokio::time::timeout(t, f)
        .await
        .map_err(|_| CaseError::Timeout {
            ms: t.as_millis() as u64,
            during,
        })
}
