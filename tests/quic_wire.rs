//! The QUIC wire library against published test vectors (RFC 9001 Appendix A, RFC 9369
//! Appendix A), and its parsers against malformed input (errors, never panics).

use panther::quic::wire::frame::{hex, parse_frames};
use panther::quic::wire::header::{self, parse};
use panther::quic::wire::keys::initial_secrets;
use panther::quic::wire::{builder, protect, *};

fn unhex(parts: &[&str]) -> Vec<u8> {
    let s: String = parts.concat();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn h(s: &str) -> Vec<u8> {
    unhex(&[s])
}

const DCID: &str = "8394c8f03e515708";

#[test]
fn rfc9001_a1_initial_keys() {
    let (client, server) = initial_secrets(V1, &h(DCID)).unwrap();
    assert_eq!(
        hex(&client),
        "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"
    );
    assert_eq!(
        hex(&server),
        "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"
    );
    let c = PacketKey::initial(V1, &h(DCID), Side::Client).unwrap();
    assert_eq!(hex(c.key()), "1f369613dd76d5467730efcbe3b1a22d");
    assert_eq!(hex(c.iv()), "fa044b2f42a3fd3b46fb255c");
    assert_eq!(hex(c.hp_key()), "9f50449e04a0e810283a1e9933adedd2");
    let s = PacketKey::initial(V1, &h(DCID), Side::Server).unwrap();
    assert_eq!(hex(s.key()), "cf3a5331653c364c88f0f379b6067e37");
    assert_eq!(hex(s.iv()), "0ac1493ca1905853b0bba03e");
    assert_eq!(hex(s.hp_key()), "c206b8d9b9f0f37644430b490eeaa314");
}

#[test]
fn rfc9001_a2_client_initial_decrypts() {
    let pkt = unhex(CLIENT_INITIAL_PROTECTED);
    let hdr = parse(&pkt, 0, 0).unwrap();
    assert_eq!(hdr.ty, PacketType::Initial);
    assert_eq!(hdr.version, V1);
    assert_eq!(hex(hdr.dcid), DCID);
    assert!(hdr.scid.is_empty() && hdr.token.is_empty());
    assert_eq!(hdr.packet.len(), 1200);
    let key = PacketKey::initial(V1, hdr.dcid, Side::Client).unwrap();
    let mut buf = Vec::new();
    let (u, plain) = protect::open(hdr.packet, hdr.pn_offset, &key, None, &mut buf).unwrap();
    assert_eq!((u.pn, u.pn_len), (2, 4));
    assert_eq!(plain, &unhex(CLIENT_INITIAL_PAYLOAD)[..]);
    let labels: Vec<String> = parse_frames(plain).map(|f| f.unwrap().label()).collect();
    assert_eq!(labels, ["CRYPTO 0+241", "PADDING 917"]);
}

#[test]
fn rfc9001_a2_client_initial_builds_byte_for_byte() {
    let key = PacketKey::initial(V1, &h(DCID), Side::Client).unwrap();
    let payload = unhex(CLIENT_INITIAL_PAYLOAD);
    let p = builder::LongPacket {
        ty: PacketType::Initial,
        version: V1,
        dcid: &h(DCID),
        scid: &[],
        token: &[],
        pn: 2,
        pn_len: 4,
        payload: Payload::Raw(&payload),
        pad_to: 0,
        clear_fixed_bit: false,
    };
    assert_eq!(
        hex(&builder::build_long(&p, &key).unwrap()),
        hex(&unhex(CLIENT_INITIAL_PROTECTED))
    );
    // The high-level builder pads the same frames to the same size.
    let crypto = &payload[..245];
    let built = build_initial(V1, &h(DCID), &[], &[], 2, Payload::Raw(crypto), 1200).unwrap();
    assert_eq!(hex(&built), hex(&unhex(CLIENT_INITIAL_PROTECTED)));
}

#[test]
fn rfc9001_a3_server_initial_both_ways() {
    let pkt = unhex(SERVER_INITIAL_PROTECTED);
    let opened = open_initial(&pkt, &h(DCID), Side::Server).unwrap();
    assert_eq!(opened.len(), 1);
    let p = &opened[0];
    assert_eq!((p.ty, p.pn), (PacketType::Initial, Some(1)));
    assert_eq!(hex(&p.scid), "f067a5502a4262b5");
    assert_eq!(
        p.payload.as_deref().unwrap(),
        &unhex(SERVER_INITIAL_PAYLOAD)[..]
    );
    assert_eq!(p.frame_labels(), ["ACK 0", "CRYPTO 0+90"]);

    let key = PacketKey::initial(V1, &h(DCID), Side::Server).unwrap();
    let payload = unhex(SERVER_INITIAL_PAYLOAD);
    let lp = builder::LongPacket {
        ty: PacketType::Initial,
        version: V1,
        dcid: &[],
        scid: &h("f067a5502a4262b5"),
        token: &[],
        pn: 1,
        pn_len: 2,
        payload: Payload::Raw(&payload),
        pad_to: 0,
        clear_fixed_bit: false,
    };
    assert_eq!(hex(&builder::build_long(&lp, &key).unwrap()), hex(&pkt));
}

#[test]
fn rfc9001_a4_retry_integrity() {
    let retry = h("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
    assert!(verify_retry(V1, &h(DCID), &retry).unwrap());
    assert!(!verify_retry(V1, &h("0000000000000000"), &retry).unwrap());
    let built = build_retry(V1, &[], &h("f067a5502a4262b5"), &h(DCID), b"token").unwrap();
    assert_eq!(hex(&built), hex(&retry));
    let hdr = parse(&retry, 0, 0).unwrap();
    assert_eq!((hdr.ty, hdr.token), (PacketType::Retry, &b"token"[..]));
}

#[test]
fn rfc9001_a5_chacha20_short_header() {
    let secret = h("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
    let key = PacketKey::from_secret(Suite::ChaCha20Poly1305, V1, &secret).unwrap();
    assert_eq!(
        hex(key.key()),
        "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8"
    );
    assert_eq!(hex(key.iv()), "e0459b3474bdd0e44a41c144");
    assert_eq!(
        hex(key.hp_key()),
        "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4"
    );
    let next = key.next_generation().unwrap();
    assert_eq!(
        hex(next.secret()),
        "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9"
    );
    assert_eq!(
        next.hp_key(),
        key.hp_key(),
        "key update keeps the header protection key"
    );

    let pn = 654_360_564;
    let pkt = builder::build_short(&[], pn, 3, false, Payload::Raw(&[0x01]), &key).unwrap();
    assert_eq!(hex(&pkt), "4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
    let hdr = parse(&pkt, 0, 0).unwrap();
    assert_eq!(hdr.ty, PacketType::OneRtt);
    let mut buf = Vec::new();
    let (u, plain) =
        protect::open(hdr.packet, hdr.pn_offset, &key, Some(pn - 1), &mut buf).unwrap();
    assert_eq!((u.pn, u.pn_len, plain), (pn, 3, &[0x01][..]));
    assert_eq!(parse_frames(plain).next().unwrap().unwrap(), Frame::Ping);
}

#[test]
fn key_update_vector_aes128() {
    // rustls's key update vector (RFC 9001 §6 "quic ku"), client and server secrets.
    let c = h("b8767708f8772358a6ea9fc43e4add2c961b3f5287a6d1467ee0aeab33724dbf");
    let s = h("42dc972140e0f2e39845b767613439dc6758ca43259b878506824eb1e438d855");
    let c = PacketKey::from_secret(Suite::Aes128Gcm, V1, &c)
        .unwrap()
        .next_generation()
        .unwrap();
    let s = PacketKey::from_secret(Suite::Aes128Gcm, V1, &s)
        .unwrap()
        .next_generation()
        .unwrap();
    assert_eq!(
        hex(c.secret()),
        "42cac8c91cd5eb40682e432edf2d2be9f41a52ca6b22d8e6cdb1e8aca9061fce"
    );
    assert_eq!(
        hex(s.secret()),
        "eb7f5e2a123f407db499e361cae590d4d992e14b7ace03c244e0422115b6d38a"
    );
}

#[test]
fn rfc9369_v2_keys_and_server_initial() {
    let c = PacketKey::initial(V2, &h(DCID), Side::Client).unwrap();
    assert_eq!(
        hex(c.secret()),
        "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b"
    );
    assert_eq!(hex(c.key()), "8b1a0bc121284290a29e0971b5cd045d");
    assert_eq!(hex(c.iv()), "91f73e2351d8fa91660e909f");
    assert_eq!(hex(c.hp_key()), "45b95e15235d6f45a6b19cbcb0294ba9");
    let s = PacketKey::initial(V2, &h(DCID), Side::Server).unwrap();
    assert_eq!(hex(s.key()), "82db637861d55e1d011f19ea71d5d2a7");
    assert_eq!(hex(s.iv()), "dd13c276499c0249d3310652");
    assert_eq!(hex(s.hp_key()), "edf6d05c83121201b436e16877593c3a");

    // RFC 9369 §A.3: the server's Initial, type bits 0b01 in v2.
    let payload = unhex(SERVER_INITIAL_PAYLOAD);
    let lp = builder::LongPacket {
        ty: PacketType::Initial,
        version: V2,
        dcid: &[],
        scid: &h("f067a5502a4262b5"),
        token: &[],
        pn: 1,
        pn_len: 2,
        payload: Payload::Raw(&payload),
        pad_to: 0,
        clear_fixed_bit: false,
    };
    let pkt = builder::build_long(&lp, &s).unwrap();
    let expected = concat!(
        "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698baeea26b91eb761d9b89237bbf87",
        "2630179153582300 35f7fd3945d88965cf17f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e427575",
        "07698075b2c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca84bed8521e2e140"
    )
    .replace(' ', "");
    assert_eq!(hex(&pkt), expected);
    let opened = open_initial(&pkt, &h(DCID), Side::Server).unwrap();
    assert_eq!(
        (opened[0].ty, opened[0].version, opened[0].pn),
        (PacketType::Initial, V2, Some(1))
    );
}

#[test]
fn rfc9369_v2_retry_and_chacha20() {
    let retry = h("cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6");
    assert!(verify_retry(V2, &h(DCID), &retry).unwrap());
    assert!(
        !verify_retry(V1, &h(DCID), &retry).unwrap(),
        "v1's key does not authenticate a v2 Retry"
    );
    assert_eq!(parse(&retry, 0, 0).unwrap().ty, PacketType::Retry);
    let built = build_retry(V2, &[], &h("f067a5502a4262b5"), &h(DCID), b"token").unwrap();
    assert_eq!(hex(&built), hex(&retry));
    let secret = h("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
    let key = PacketKey::from_secret(Suite::ChaCha20Poly1305, V2, &secret).unwrap();
    let pkt =
        builder::build_short(&[], 654_360_564, 3, false, Payload::Raw(&[0x01]), &key).unwrap();
    assert_eq!(hex(&pkt), "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba");
}

#[test]
fn aes256_gcm_round_trip_and_wrong_key_fails() {
    let secret = [7u8; 48];
    let key = PacketKey::from_secret(Suite::Aes256Gcm, V1, &secret).unwrap();
    let frames = [
        Frame::Ping,
        Frame::Stream {
            stream: 4,
            offset: 0,
            fin: true,
            explicit_len: false,
            data: b"hi",
        },
    ];
    let pkt = builder::build_short(
        &h("0102030405060708"),
        77,
        2,
        true,
        Payload::Frames(&frames),
        &key,
    )
    .unwrap();
    let hdr = parse(&pkt, 0, 8).unwrap();
    let mut buf = Vec::new();
    let (u, plain) = protect::open(hdr.packet, hdr.pn_offset, &key, Some(70), &mut buf).unwrap();
    assert!(u.key_phase);
    assert_eq!(u.pn, 77);
    let got: Vec<Frame> = parse_frames(plain).map(Result::unwrap).collect();
    assert_eq!(got, frames);
    let other = PacketKey::from_secret(Suite::Aes256Gcm, V1, &[8u8; 48]).unwrap();
    let err = protect::open(hdr.packet, hdr.pn_offset, &other, Some(70), &mut buf).unwrap_err();
    assert_eq!(err, WireError::Decrypt);
}

fn every_frame() -> Vec<Frame<'static>> {
    vec![
        Frame::Padding { len: 3 },
        Frame::Ping,
        Frame::Ack {
            largest: 10,
            delay: 3,
            first_range: 2,
            ranges: vec![(1, 3)],
            ecn: None,
        },
        Frame::Ack {
            largest: 5,
            delay: 0,
            first_range: 5,
            ranges: vec![],
            ecn: Some([1, 2, 3]),
        },
        Frame::ResetStream {
            stream: 4,
            code: 1,
            final_size: 100,
        },
        Frame::StopSending { stream: 8, code: 2 },
        Frame::Crypto {
            offset: 264,
            data: b"tls",
        },
        Frame::NewToken { token: b"tok" },
        Frame::Stream {
            stream: 4,
            offset: 1000,
            fin: true,
            explicit_len: true,
            data: b"abc",
        },
        Frame::Stream {
            stream: 0,
            offset: 0,
            fin: false,
            explicit_len: true,
            data: b"",
        },
        Frame::MaxData { max: 1 << 20 },
        Frame::MaxStreamData {
            stream: 4,
            max: 65536,
        },
        Frame::MaxStreams {
            bidi: true,
            max: 100,
        },
        Frame::MaxStreams {
            bidi: false,
            max: 3,
        },
        Frame::DataBlocked { limit: 9 },
        Frame::StreamDataBlocked {
            stream: 4,
            limit: 9,
        },
        Frame::StreamsBlocked {
            bidi: true,
            limit: 1,
        },
        Frame::StreamsBlocked {
            bidi: false,
            limit: 2,
        },
        Frame::NewConnectionId {
            seq: 1,
            retire_prior_to: 0,
            cid: &[1, 2, 3, 4],
            reset_token: &[9; 16],
        },
        Frame::RetireConnectionId { seq: 1 },
        Frame::PathChallenge {
            data: [1, 2, 3, 4, 5, 6, 7, 8],
        },
        Frame::PathResponse {
            data: [8, 7, 6, 5, 4, 3, 2, 1],
        },
        Frame::ConnectionClose {
            app: false,
            code: 0x0a,
            frame_type: 0x06,
            reason: b"bad",
        },
        Frame::ConnectionClose {
            app: true,
            code: 0x100,
            frame_type: 0,
            reason: b"",
        },
        Frame::HandshakeDone,
        Frame::Datagram {
            explicit_len: true,
            data: b"dg",
        },
        Frame::Datagram {
            explicit_len: false,
            data: b"last",
        },
    ]
}

#[test]
fn every_frame_encodes_and_decodes_back() {
    let frames = every_frame();
    let mut buf = Vec::new();
    for f in &frames {
        f.encode(&mut buf).unwrap();
    }
    let back: Vec<Frame> = parse_frames(&buf).map(Result::unwrap).collect();
    assert_eq!(back, frames);
    let labels: Vec<String> = back.iter().map(Frame::label).collect();
    assert_eq!(labels[0], "PADDING 3");
    assert_eq!(labels[2], "ACK 2-5,8-10");
    assert_eq!(labels[3], "ACK_ECN 0-5");
    assert_eq!(labels[6], "CRYPTO 264+3");
    assert_eq!(labels[8], "STREAM 4 1000+3 fin");
    assert_eq!(
        labels[22],
        "CONNECTION_CLOSE PROTOCOL_VIOLATION (frame 0x6) \"bad\""
    );
    assert_eq!(labels[23], "CONNECTION_CLOSE app 0x100");
    let kinds: std::collections::BTreeSet<&str> = back.iter().map(Frame::kind).collect();
    assert_eq!(
        kinds.len(),
        21,
        "one kind per RFC 9000 §19 frame family and DATAGRAM"
    );
}

#[test]
fn frames_allowed_per_packet_type() {
    let stream = Frame::Stream {
        stream: 0,
        offset: 0,
        fin: false,
        explicit_len: true,
        data: b"",
    };
    assert!(!stream.allowed_in(PacketType::Initial));
    assert!(
        Frame::Crypto {
            offset: 0,
            data: b""
        }
        .allowed_in(PacketType::Handshake)
    );
    assert!(
        !Frame::Crypto {
            offset: 0,
            data: b""
        }
        .allowed_in(PacketType::ZeroRtt)
    );
    assert!(
        !Frame::ConnectionClose {
            app: true,
            code: 0,
            frame_type: 0,
            reason: b""
        }
        .allowed_in(PacketType::Initial)
    );
    assert!(Frame::HandshakeDone.allowed_in(PacketType::OneRtt));
}

#[test]
fn malformed_frames_are_positioned_errors() {
    assert_eq!(
        parse_frames(&[0x01, 0x21]).nth(1).unwrap().unwrap_err(),
        WireError::UnknownFrame { ty: 0x21, at: 1 }
    );
    let e = parse_frames(&[0x06, 0x00, 0x10, 1, 2])
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            e,
            WireError::Truncated {
                what: "CRYPTO data",
                at: 3,
                needed: 14
            }
        ),
        "{e}"
    );
    // An ACK range below zero.
    let e = parse_frames(&[0x02, 0x01, 0x00, 0x00, 0x05])
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            e,
            WireError::Malformed {
                what: "ACK frame",
                ..
            }
        ),
        "{e}"
    );
    let e = parse_frames(&[0x18, 0x01, 0x00, 21])
        .next()
        .unwrap()
        .unwrap_err();
    assert!(e.to_string().contains("connection ID length 21"), "{e}");
}

#[test]
fn headers_with_oversized_cids_and_truncation_report_not_panic() {
    let probe = build_version_probe(V1, &[0xaa; 21], &[0xbb; 30], 1200).unwrap();
    let hdr = parse(&probe, 0, 0).unwrap();
    assert_eq!(hdr.dcid.len(), 21);
    assert!(hdr.oversized_cid());
    let unknown = build_version_probe(0x1a2a_3a4a, &[1; 8], &[2; 8], 1200).unwrap();
    assert_eq!(unknown.len(), 1200);
    let hdr = parse(&unknown, 0, 0).unwrap();
    assert_eq!(
        (hdr.ty, hdr.version, hdr.oversized_cid()),
        (PacketType::UnknownVersion, 0x1a2a_3a4a, false)
    );
    for cut in [0, 1, 3, 5, 6, 10, 20] {
        let pkt = unhex(CLIENT_INITIAL_PROTECTED);
        if cut > 0 {
            assert!(parse(&pkt[..cut], 0, 0).is_err(), "cut at {cut}");
        }
    }
    let pkt = unhex(CLIENT_INITIAL_PROTECTED);
    let e = parse(&pkt[..1000], 0, 0).unwrap_err();
    assert!(matches!(e, WireError::Truncated { needed: 200, .. }), "{e}");
}

#[test]
fn version_negotiation_round_trip() {
    let vn = build_version_negotiation(&[1, 2], &[3, 4, 5], &[V1, V2, 0x0a0a_0a0a]).unwrap();
    let hdr = parse(&vn, 0, 0).unwrap();
    assert_eq!(hdr.ty, PacketType::VersionNegotiation);
    assert_eq!(hdr.versions().collect::<Vec<_>>(), [V1, V2, 0x0a0a_0a0a]);
    assert_eq!((hdr.dcid, hdr.scid), (&[1u8, 2][..], &[3u8, 4, 5][..]));
    let opened = open_initial(&vn, &[9; 8], Side::Server).unwrap();
    assert_eq!(opened[0].versions, [V1, V2, 0x0a0a_0a0a]);
}

#[test]
fn crafted_initials_open_for_both_sides_and_coalesce() {
    let odcid = h("0011223344556677");
    let close = [Frame::ConnectionClose {
        app: false,
        code: 0x0a,
        frame_type: 0x08,
        reason: b"STREAM in Initial",
    }];
    let server = build_initial_with(&InitialPacket {
        sender: Side::Server,
        key_dcid: Some(&odcid),
        pad_to: 0,
        ..InitialPacket::client(V1, &[5; 8], &[6; 8], Payload::Frames(&close))
    })
    .unwrap();
    let forbidden = [Frame::Stream {
        stream: 0,
        offset: 0,
        fin: true,
        explicit_len: true,
        data: b"GET /",
    }];
    let client = build_initial(
        V2,
        &odcid,
        &[5; 8],
        b"",
        0,
        Payload::Frames(&forbidden),
        1200,
    )
    .unwrap();
    assert_eq!(client.len(), 1200);
    let opened = open_initial(&client, &odcid, Side::Client).unwrap();
    assert_eq!(
        opened[0].frame_labels(),
        ["STREAM 0 0+5 fin", "PADDING 1146"]
    );
    assert_eq!(opened[0].version, V2);

    // Server Initial coalesced with a (garbage, undecryptable here) Handshake packet.
    let mut dgram = server.clone();
    let hs_key = PacketKey::from_secret(Suite::Aes128Gcm, V1, &[3; 32]).unwrap();
    let hs = builder::build_long(
        &builder::LongPacket {
            ty: PacketType::Handshake,
            version: V1,
            dcid: &[5; 8],
            scid: &[6; 8],
            token: &[],
            pn: 0,
            pn_len: 1,
            payload: Payload::Frames(&[Frame::Crypto {
                offset: 0,
                data: b"cert",
            }]),
            pad_to: 0,
            clear_fixed_bit: false,
        },
        &hs_key,
    )
    .unwrap();
    dgram.extend_from_slice(&hs);
    let parts: Vec<_> = split_datagram(&dgram, 8).map(Result::unwrap).collect();
    assert_eq!(
        parts.iter().map(|p| p.ty).collect::<Vec<_>>(),
        [PacketType::Initial, PacketType::Handshake]
    );
    let opened = open_initial(&dgram, &odcid, Side::Server).unwrap();
    assert_eq!(opened.len(), 2);
    assert_eq!(
        opened[0].frame_labels(),
        ["CONNECTION_CLOSE PROTOCOL_VIOLATION (frame 0x8) \"STREAM in Initial\""]
    );
    assert_eq!(
        (opened[1].ty, opened[1].payload.is_none()),
        (PacketType::Handshake, true)
    );
    // With the wrong original DCID the Initial does not authenticate.
    assert_eq!(
        open_initial(&dgram, &[0; 8], Side::Server).unwrap_err(),
        WireError::Decrypt
    );
    // Fixed bit cleared on request.
    let p = build_initial_with(&InitialPacket {
        clear_fixed_bit: true,
        ..InitialPacket::client(V1, &odcid, &[], Payload::Raw(&[1]))
    })
    .unwrap();
    assert!(!parse(&p, 0, 0).unwrap().fixed_bit());
}

#[test]
fn random_bytes_never_panic() {
    // A deterministic xorshift stream: headers, coalescing and frames over noise and over
    // mutated real packets.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let real = unhex(CLIENT_INITIAL_PROTECTED);
    let key = PacketKey::initial(V1, &h(DCID), Side::Client).unwrap();
    let mut buf = Vec::new();
    for i in 0..3000 {
        let len = (next() % 1500) as usize;
        let mut d: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| next() as u8).collect()
        } else {
            real.clone()
        };
        if i % 2 == 1 {
            let at = (next() as usize) % d.len();
            d[at] ^= next() as u8 | 1;
            d.truncate((next() as usize) % (d.len() + 1));
        }
        for p in header::split_datagram(&d, (next() % 21) as usize).flatten() {
            if p.is_protected() {
                let _ = protect::open(p.packet, p.pn_offset, &key, None, &mut buf);
            }
        }
        for f in parse_frames(&d) {
            let _ = f.map(|f| f.label());
        }
        let _ = open_initial(&d, &h(DCID), Side::Client);
    }
}

// RFC 9001 Appendix A and RFC 9369 Appendix A sample packets, as hex (copied from the RFCs by way of quiche's and rustls's test suites).

const CLIENT_INITIAL_PROTECTED: &[&str] = &[
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec356c",
    "0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c",
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89",
    "eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208",
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596dee38f5a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e",
    "610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db",
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c7b4378e846d29f37ed7b4ea9ec5d82e7",
    "961b7f25a9323851f681d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556",
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3e7",
    "fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00",
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc2962e20fe47feb3edf",
    "330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd",
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff2",
    "8f5b766953334113211996d20011a198e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd",
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accd",
    "d5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e",
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a07",
    "1b851e6c239052172f296bfb5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2",
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499d",
    "bd49adabc8676eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e",
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723",
    "c8c0aea8078cdfcb3868263ff8f0940054da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab",
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905dd",
    "f3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064",
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f94742411092abbdf8b889e5c199d096e3f24788",
];
const CLIENT_INITIAL_PAYLOAD: &[&str] = &[
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c000004130113",
    "02010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d00170018001000070005",
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce1",
    "5d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001ff",
    "a500320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806",
    "048000ffff00000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000",
];
const SERVER_INITIAL_PROTECTED: &[&str] = &[
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb3",
    "8cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84",
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee",
];
const SERVER_INITIAL_PAYLOAD: &[&str] = &[
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200",
    "130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00",
    "020304",
];

/// The localhost relay labels QUIC datagrams with their decrypted Initial frames, both ways
/// (the server's Initial found through the connection the client's opened).
#[tokio::test]
async fn live_relay_labels_initials_both_ways() {
    use panther::env::network::link::{LinkSpec, Relay, Transport};
    use panther::events::{Clock, tx};
    use tokio::net::UdpSocket;

    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = server.local_addr().unwrap();
    let (events, mut rx) = tx::event_channel(Clock::start());
    let spec = LinkSpec {
        protocol: "quic".into(),
        transport: Transport::Udp,
        client: "client".into(),
        server: "server".into(),
        target,
        link: Default::default(),
        key_logs: vec![],
    };
    let relay = Relay::start(spec, "127.0.0.1:0".parse().unwrap(), events)
        .await
        .unwrap();
    let odcid = h("0102030405060708");
    // The server answers whatever it gets with a protected server Initial.
    let answer = tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        let (_, from) = server.recv_from(&mut buf).await.unwrap();
        let frames = [
            Frame::Ack {
                largest: 0,
                delay: 0,
                first_range: 0,
                ranges: vec![],
                ecn: None,
            },
            Frame::Crypto {
                offset: 0,
                data: b"\x02\x00\x00\x00",
            },
        ];
        let reply = build_initial_with(&InitialPacket {
            sender: Side::Server,
            key_dcid: Some(&h("0102030405060708")),
            pad_to: 0,
            ..InitialPacket::client(V1, &[9; 8], &[7; 8], Payload::Frames(&frames))
        })
        .unwrap();
        server.send_to(&reply, from).await.unwrap();
    });
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let hello = [Frame::Crypto {
        offset: 0,
        data: b"\x01\x00\x00\x00",
    }];
    let first = build_initial(V1, &odcid, &[9; 8], &[], 0, Payload::Frames(&hello), 1200).unwrap();
    client.send_to(&first, relay.local_addr()).await.unwrap();
    let mut buf = vec![0u8; 2048];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), client.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    answer.await.unwrap();
    let opened = open_initial(&buf[..n], &odcid, Side::Server).unwrap();
    assert_eq!(
        opened[0].frame_labels(),
        ["ACK 0", "CRYPTO 0+4"],
        "the relay passed the bytes unchanged"
    );
    let mut labels = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Some(m) = e.message.filter(|_| e.text == "delivered") {
            labels.push((m.from, m.summary));
        }
    }
    assert_eq!(
        labels,
        [
            (
                "client".to_string(),
                "Initial 0: CRYPTO, PADDING".to_string()
            ),
            ("server".into(), "Initial 0: ACK, CRYPTO".into())
        ]
    );
    relay.stop().await;
}

/// The trace decoder over noise and over mutated real packets: statuses, never panics; and
/// two connections on one path (a second client Initial to a new DCID) stay apart.
#[test]
fn decoder_survives_noise_and_separates_connections() {
    use panther::quic::keylog::KeyLog;
    use panther::quic::trace::{Decoder, PacketStatus};
    use std::net::SocketAddr;
    use std::time::Duration;
    let (c, s): (SocketAddr, SocketAddr) = (
        "10.1.0.1:5000".parse().unwrap(),
        "10.1.0.2:4433".parse().unwrap(),
    );
    let mut d = Decoder::new(KeyLog::default());
    let a = build_initial(
        V1,
        &[1; 8],
        &[2; 8],
        &[],
        0,
        Payload::Frames(&[Frame::Ping]),
        1200,
    )
    .unwrap();
    let b = build_initial(
        V1,
        &[3; 8],
        &[4; 8],
        &[],
        0,
        Payload::Frames(&[Frame::Ping]),
        1200,
    )
    .unwrap();
    for dg in [&a, &b] {
        let p = d.feed(Duration::ZERO, c, s, dg);
        assert_eq!(p[0].status, PacketStatus::Decrypted);
    }
    assert_eq!(d.connections().len(), 2);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let real = unhex(CLIENT_INITIAL_PROTECTED);
    for i in 0..3000 {
        let mut dg: Vec<u8> = if i % 3 == 0 {
            (0..next() % 1500).map(|_| next() as u8).collect()
        } else {
            real.clone()
        };
        if i % 3 != 0 {
            let at = (next() as usize) % dg.len();
            dg[at] ^= next() as u8 | 1;
            dg.truncate((next() as usize) % (dg.len() + 1));
        }
        let (from, to) = if i % 2 == 0 { (c, s) } else { (s, c) };
        for p in d.feed(Duration::from_micros(i), from, to, &dg) {
            let _ = p.summary();
        }
    }
}
