//! The test cases, named as quic-interop-runner names them (so matrices and PANTHER files
//! read the same), plus the tester's own active probes. Each says which property of the
//! `quic` protocol plugin it checks and where the rule comes from.

/// One case: its name, what it checks, and the RFC section its verdict cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub name: &'static str,
    pub property: &'static str,
    pub reference: &'static str,
    pub what: &'static str,
}

const fn case(
    name: &'static str,
    property: &'static str,
    reference: &'static str,
    what: &'static str,
) -> Case {
    Case {
        name,
        property,
        reference,
        what,
    }
}

pub const ALL: &[Case] = &[
    case(
        "handshake",
        "handshake_completes",
        "RFC 9000 §7; RFC 9001 §4.1.2",
        "a handshake completes and a small file arrives intact",
    ),
    case(
        "transfer",
        "stream_data_intact",
        "RFC 9000 §2.2",
        "1 MiB and 10 MiB on two concurrent streams arrive complete and in order",
    ),
    case(
        "retry",
        "retry_token_echoed",
        "RFC 9000 §8.1.2; RFC 9000 §17.2.5; RFC 9001 §5.8",
        "the server sends Retry, the client's next Initial carries its token, the handshake completes",
    ),
    case(
        "resumption",
        "session_resumed",
        "RFC 9001 §4.5; RFC 8446 §2.2",
        "a second connection resumes the first one's TLS session",
    ),
    case(
        "zerortt",
        "zero_rtt_accepted",
        "RFC 9001 §4.6; RFC 9000 §7.4.1",
        "a request sent in 0-RTT is accepted and answered",
    ),
    case("http3", "http3_request", "RFC 9114 §4", "a GET over HTTP/3"),
    case(
        "multiconnect",
        "handshake_completes",
        "RFC 9000 §7",
        "five handshakes in a row each complete and fetch a file",
    ),
    case(
        "chacha20",
        "chacha20_negotiated",
        "RFC 9001 §5.3; RFC 8446 §B.4",
        "a client that offers only TLS_CHACHA20_POLY1305_SHA256 connects and transfers",
    ),
    case(
        "keyupdate",
        "key_update_survives",
        "RFC 9001 §6",
        "the client updates its 1-RTT keys mid-transfer and the transfer still completes",
    ),
    case(
        "v2",
        "quic_v2",
        "RFC 9369; RFC 9368 §2",
        "a version 2 Initial is answered in version 2, with the version 2 Initial keys",
    ),
    case(
        "versionnegotiation",
        "version_negotiation",
        "RFC 9000 §6.1; RFC 9000 §17.2.1",
        "an Initial with an unknown version gets Version Negotiation that echoes the connection IDs and omits that version",
    ),
    case(
        "amplificationlimit",
        "anti_amplification",
        "RFC 9000 §8.1",
        "before the client's address is validated, the server sends at most 3× what it received",
    ),
    case(
        "handshakeloss",
        "handshake_completes",
        "RFC 9002 §6.2; RFC 9000 §7",
        "ten handshakes complete over the link's loss (PTO retransmits lost handshake packets)",
    ),
    case(
        "transferloss",
        "stream_data_intact",
        "RFC 9002 §6; RFC 9000 §2.2",
        "1 MiB arrives intact over the link's loss",
    ),
    case(
        "smallinitial",
        "initial_datagram_min_size",
        "RFC 9000 §14.1",
        "an Initial in a datagram of less than 1200 bytes is discarded",
    ),
    case(
        "longcid",
        "connection_id_length",
        "RFC 9000 §17.2",
        "a version 1 Initial with a 21-byte connection ID is dropped",
    ),
    case(
        "forbiddenframe",
        "frames_allowed_in_packet_type",
        "RFC 9000 §12.4; RFC 9000 §19.8",
        "a STREAM frame in an Initial packet closes the connection with PROTOCOL_VIOLATION",
    ),
    case(
        "malformedframe",
        "frame_encoding_error",
        "RFC 9000 §12.4; RFC 9000 §20.1",
        "a frame of an unknown type (0x3f) in an Initial packet closes the connection with FRAME_ENCODING_ERROR",
    ),
    case(
        "retrytoken",
        "invalid_retry_token",
        "RFC 9000 §8.1.2; RFC 9000 §8.1.4",
        "an Initial echoing a Retry token with one byte altered is refused (CONNECTION_CLOSE with INVALID_TOKEN), never accepted",
    ),
];

/// The cases run when none are named: everything that needs no special server setup.
pub const DEFAULT: &[&str] = &[
    "handshake",
    "transfer",
    "multiconnect",
    "chacha20",
    "keyupdate",
    "resumption",
    "zerortt",
    "versionnegotiation",
    "amplificationlimit",
    "smallinitial",
    "longcid",
    "forbiddenframe",
    "malformedframe",
];

/// Cases the tester can run when it plays the server (testing a client).
pub const AS_SERVER: &[&str] = &[
    "handshake",
    "transfer",
    "multiconnect",
    "chacha20",
    "keyupdate",
];

pub fn find(name: &str) -> Option<&'static Case> {
    ALL.iter().find(|c| c.name == name)
}

/// Parses `a,b,c`: every name must be a case, with a suggestion for a near miss.
pub fn parse(list: &str) -> Result<Vec<&'static Case>, String> {
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(DEFAULT.iter().filter_map(|n| find(n)).collect());
    }
    names
        .iter()
        .map(|n| {
            find(n).ok_or_else(|| {
                let all: Vec<&str> = ALL.iter().map(|c| c.name).collect();
                match crate::suggest::closest(n, all.iter().copied()) {
                    Some(s) => format!("`{n}` is not a QUIC test case; did you mean `{s}`?"),
                    None => format!("`{n}` is not a QUIC test case (known: {})", all.join(", ")),
                }
            })
        })
        .collect()
}

/// Checks over the wire that are not cases of their own: the tester runs them over the
/// datagrams of the first connection it made (or, as a server, accepted).
pub const WIRE: &[Case] = &[
    case(
        "wire_fixed_bit",
        "fixed_bit",
        "RFC 9000 §17.2",
        "every packet from the peer has the fixed bit set",
    ),
    case(
        "wire_cid_length",
        "connection_id_length",
        "RFC 9000 §17.2",
        "the peer's connection IDs are at most 20 bytes",
    ),
    case(
        "wire_amplification",
        "anti_amplification",
        "RFC 9000 §8.1",
        "before the client sent a Handshake packet the server sent at most 3× what it received",
    ),
    case(
        "wire_server_initial_size",
        "initial_datagram_min_size",
        "RFC 9000 §14.1",
        "a server's datagrams with ack-eliciting Initial packets are at least 1200 bytes",
    ),
    case(
        "wire_client_initial_size",
        "initial_datagram_min_size",
        "RFC 9000 §14.1",
        "every client datagram carrying an Initial packet is at least 1200 bytes",
    ),
    case(
        "wire_client_dcid_switch",
        "client_dcid_switch",
        "RFC 9000 §7.2",
        "after the server's first Initial the client uses the server's SCID as DCID",
    ),
    case(
        "wire_frames_allowed",
        "frames_allowed_in_packet_type",
        "RFC 9000 §12.4",
        "the peer's Initial packets carry only frames allowed there",
    ),
    case(
        "wire_header_protection",
        "header_protection",
        "RFC 9001 §5.4; RFC 9000 §17.2; RFC 9000 §17.3.1",
        "with header protection removed, the peer's Initial, Handshake and 1-RTT packets authenticate and have their reserved bits zero",
    ),
    case(
        "wire_close",
        "closing_and_draining",
        "RFC 9000 §10.2",
        "the side that closes first sends only CONNECTION_CLOSE afterwards; the side that reads it sends at most one CONNECTION_CLOSE, then nothing",
    ),
];

pub fn wire(name: &str) -> &'static Case {
    WIRE.iter()
        .find(|c| c.name == name)
        .expect("wire checks are named from the table")
}
