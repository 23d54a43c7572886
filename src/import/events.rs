//! Decoded packets as panther events: one `message` event per QUIC packet, between endpoints
//! named from the trace (the server by its SNI, or `client`/`server` for a
//! quic-interop-runner folder, otherwise address:port), with the packet's type, number and
//! frames in `data` for the detail pane and the filters.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde_json::json;

use crate::events::{Event, Kind, Message};
use crate::quic::trace::{DecodedPacket, Decoder};

/// The source of imported events (not `link`: a capture saw each packet once).
pub const SOURCE: &str = "capture";

/// Endpoint names, one per address.
pub fn endpoint_names(decoder: &Decoder, roles_named: bool) -> HashMap<SocketAddr, String> {
    let mut names: HashMap<SocketAddr, String> = HashMap::new();
    let mut taken: HashMap<String, SocketAddr> = HashMap::new();
    for c in decoder.connections() {
        let server = match (roles_named, c.sni()) {
            (true, _) => "server".to_string(),
            (false, Some(sni)) if !sni.is_empty() => sni.to_string(),
            _ => c.server.to_string(),
        };
        let server = match taken.get(&server) {
            Some(a) if *a != c.server => format!("{server} ({})", c.server),
            _ => server,
        };
        taken.insert(server.clone(), c.server);
        names.entry(c.server).or_insert(server);
        let client = if roles_named {
            "client".to_string()
        } else {
            c.client.to_string()
        };
        names.entry(c.client).or_insert(client);
    }
    names
}

fn name(names: &HashMap<SocketAddr, String>, a: SocketAddr) -> String {
    names.get(&a).cloned().unwrap_or_else(|| a.to_string())
}

/// The event for one packet; `t0` is the trace's first datagram time.
pub fn packet_event(
    p: &DecodedPacket,
    names: &HashMap<SocketAddr, String>,
    t0: std::time::Duration,
    test: &str,
) -> Event {
    let mut e = Event::new(SOURCE, Kind::Message, "captured");
    e.t = p.time.saturating_sub(t0).as_micros() as u64;
    e.test = test.to_string();
    e.message = Some(Message {
        from: name(names, p.src),
        to: name(names, p.dst),
        protocol: "quic".into(),
        summary: p.summary(),
        bytes: p.size.min(u32::MAX as usize) as u32,
        id: None,
        lost: false,
        hex: None,
    });
    let frames: Vec<&str> = p.frames.iter().map(|f| f.label.as_str()).collect();
    let kinds: Vec<&str> = p.frames.iter().map(|f| f.kind).collect();
    let mut data = json!({
        "packet_type": p.ty.label(),
        "packet_number": p.pn,
        "version": format!("0x{:08x}", p.version),
        "dcid": p.dcid,
        "scid": p.scid,
        "size": p.size,
        "status": p.status.as_str(),
        "frames": frames,
        "frame_types": kinds,
        "connection": p.conn,
        "epoch_us": p.time.as_micros() as u64,
    });
    if let Some(k) = p.key_phase {
        data["key_phase"] = json!(k);
    }
    if !p.notes.is_empty() {
        data["notes"] = json!(p.notes);
    }
    if !p.versions.is_empty() {
        data["versions"] = json!(
            p.versions
                .iter()
                .map(|v| format!("0x{v:08x}"))
                .collect::<Vec<_>>()
        );
    }
    e.data = data;
    e
}
