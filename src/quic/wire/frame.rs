//! Every frame of RFC 9000 §19 (and DATAGRAM, RFC 9221): decoded into [`Frame`], which
//! borrows its data from the decrypted payload, labelled for the sequence view, and encoded
//! back for the builder.

use super::error::{Result, WireError};
use super::header::PacketType;
use super::varint::{self, Reader};

/// One QUIC frame. Consecutive PADDING bytes are one `Padding` with their count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    Padding {
        len: usize,
    },
    Ping,
    Ack {
        largest: u64,
        delay: u64,
        first_range: u64,
        /// (gap, ack range length) pairs after the first range, as on the wire.
        ranges: Vec<(u64, u64)>,
        /// ECT(0), ECT(1), ECN-CE counts of an ACK_ECN frame.
        ecn: Option<[u64; 3]>,
    },
    ResetStream {
        stream: u64,
        code: u64,
        final_size: u64,
    },
    StopSending {
        stream: u64,
        code: u64,
    },
    Crypto {
        offset: u64,
        data: &'a [u8],
    },
    NewToken {
        token: &'a [u8],
    },
    Stream {
        stream: u64,
        offset: u64,
        fin: bool,
        /// Whether the frame carried a Length field (without one it ran to the packet's end).
        explicit_len: bool,
        data: &'a [u8],
    },
    MaxData {
        max: u64,
    },
    MaxStreamData {
        stream: u64,
        max: u64,
    },
    MaxStreams {
        bidi: bool,
        max: u64,
    },
    DataBlocked {
        limit: u64,
    },
    StreamDataBlocked {
        stream: u64,
        limit: u64,
    },
    StreamsBlocked {
        bidi: bool,
        limit: u64,
    },
    NewConnectionId {
        seq: u64,
        retire_prior_to: u64,
        cid: &'a [u8],
        reset_token: &'a [u8],
    },
    RetireConnectionId {
        seq: u64,
    },
    PathChallenge {
        data: [u8; 8],
    },
    PathResponse {
        data: [u8; 8],
    },
    /// 0x1c (transport, with the offending frame type) or 0x1d (application).
    ConnectionClose {
        app: bool,
        code: u64,
        frame_type: u64,
        reason: &'a [u8],
    },
    HandshakeDone,
    Datagram {
        explicit_len: bool,
        data: &'a [u8],
    },
}

/// Every frame type name [`Frame::kind`] gives, for filters that take one ("kind:ACK").
pub const KINDS: [&str; 21] = [
    "PADDING",
    "PING",
    "ACK",
    "RESET_STREAM",
    "STOP_SENDING",
    "CRYPTO",
    "NEW_TOKEN",
    "STREAM",
    "MAX_DATA",
    "MAX_STREAM_DATA",
    "MAX_STREAMS",
    "DATA_BLOCKED",
    "STREAM_DATA_BLOCKED",
    "STREAMS_BLOCKED",
    "NEW_CONNECTION_ID",
    "RETIRE_CONNECTION_ID",
    "PATH_CHALLENGE",
    "PATH_RESPONSE",
    "CONNECTION_CLOSE",
    "HANDSHAKE_DONE",
    "DATAGRAM",
];

/// A message summary ("1-RTT 7: ACK, STREAM") that lists frame type `kind`.
pub fn summary_has_kind(summary: &str, kind: &str) -> bool {
    let Some((_, frames)) = summary.split_once(": ") else {
        return false;
    };
    frames.split(", ").any(|f| f.eq_ignore_ascii_case(kind))
}

/// The frame type name `s` spells, in any case ("ack" → "ACK").
pub fn kind_named(s: &str) -> Option<&'static str> {
    KINDS.iter().copied().find(|k| k.eq_ignore_ascii_case(s))
}

/// Iterates over the frames of a decrypted payload, stopping after the first error.
pub fn parse_frames(payload: &[u8]) -> Frames<'_> {
    Frames {
        r: Reader::new(payload),
        failed: false,
    }
}

/// The iterator from [`parse_frames`].
pub struct Frames<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.is_empty() {
            return None;
        }
        let f = parse_one(&mut self.r);
        self.failed = f.is_err();
        Some(f)
    }
}

/// Reads one frame at the reader's position.
pub fn parse_one<'a>(r: &mut Reader<'a>) -> Result<Frame<'a>> {
    let at = r.at();
    let ty = r.varint("frame type")?;
    Ok(match ty {
        0x00 => {
            let run = r.rest().iter().take_while(|&&b| b == 0).count();
            r.skip(run, "PADDING")?;
            Frame::Padding { len: run + 1 }
        }
        0x01 => Frame::Ping,
        0x02 | 0x03 => ack(r, ty == 0x03)?,
        0x04 => Frame::ResetStream {
            stream: r.varint("RESET_STREAM stream ID")?,
            code: r.varint("RESET_STREAM error code")?,
            final_size: r.varint("RESET_STREAM final size")?,
        },
        0x05 => Frame::StopSending {
            stream: r.varint("STOP_SENDING stream ID")?,
            code: r.varint("STOP_SENDING error code")?,
        },
        0x06 => Frame::Crypto {
            offset: r.varint("CRYPTO offset")?,
            data: r.len_prefixed("CRYPTO data")?,
        },
        0x07 => Frame::NewToken {
            token: r.len_prefixed("NEW_TOKEN token")?,
        },
        0x08..=0x0f => stream(r, ty)?,
        0x10 => Frame::MaxData {
            max: r.varint("MAX_DATA")?,
        },
        0x11 => Frame::MaxStreamData {
            stream: r.varint("MAX_STREAM_DATA stream ID")?,
            max: r.varint("MAX_STREAM_DATA")?,
        },
        0x12 | 0x13 => Frame::MaxStreams {
            bidi: ty == 0x12,
            max: r.varint("MAX_STREAMS")?,
        },
        0x14 => Frame::DataBlocked {
            limit: r.varint("DATA_BLOCKED")?,
        },
        0x15 => Frame::StreamDataBlocked {
            stream: r.varint("STREAM_DATA_BLOCKED stream ID")?,
            limit: r.varint("STREAM_DATA_BLOCKED")?,
        },
        0x16 | 0x17 => Frame::StreamsBlocked {
            bidi: ty == 0x16,
            limit: r.varint("STREAMS_BLOCKED")?,
        },
        0x18 => new_connection_id(r)?,
        0x19 => Frame::RetireConnectionId {
            seq: r.varint("RETIRE_CONNECTION_ID sequence")?,
        },
        0x1a => Frame::PathChallenge {
            data: eight(r, "PATH_CHALLENGE data")?,
        },
        0x1b => Frame::PathResponse {
            data: eight(r, "PATH_RESPONSE data")?,
        },
        0x1c | 0x1d => {
            let app = ty == 0x1d;
            let code = r.varint("CONNECTION_CLOSE error code")?;
            let frame_type = if app {
                0
            } else {
                r.varint("CONNECTION_CLOSE frame type")?
            };
            Frame::ConnectionClose {
                app,
                code,
                frame_type,
                reason: r.len_prefixed("CONNECTION_CLOSE reason")?,
            }
        }
        0x1e => Frame::HandshakeDone,
        0x30 => Frame::Datagram {
            explicit_len: false,
            data: take_rest(r),
        },
        0x31 => Frame::Datagram {
            explicit_len: true,
            data: r.len_prefixed("DATAGRAM data")?,
        },
        _ => return Err(WireError::UnknownFrame { ty, at }),
    })
}

fn take_rest<'a>(r: &mut Reader<'a>) -> &'a [u8] {
    let rest = r.rest();
    let _ = r.skip(rest.len(), "rest");
    rest
}

fn eight(r: &mut Reader<'_>, what: &'static str) -> Result<[u8; 8]> {
    let b = r.bytes(8, what)?;
    let mut out = [0u8; 8];
    out.copy_from_slice(b);
    Ok(out)
}

fn ack<'a>(r: &mut Reader<'a>, ecn: bool) -> Result<Frame<'a>> {
    let largest = r.varint("ACK largest acknowledged")?;
    let delay = r.varint("ACK delay")?;
    let count = r.varint("ACK range count")?;
    let first_range = r.varint("ACK first range")?;
    let at = r.at();
    let mut lo = largest
        .checked_sub(first_range)
        .ok_or_else(|| ack_underflow(at))?;
    // Each range takes at least two bytes, which bounds the allocation by the packet size.
    let count = usize::try_from(count)
        .unwrap_or(usize::MAX)
        .min(r.remaining() / 2);
    let mut ranges = Vec::with_capacity(count);
    for _ in 0..count {
        let gap = r.varint("ACK gap")?;
        let len = r.varint("ACK range length")?;
        let at = r.at();
        let hi = lo.checked_sub(gap + 2).ok_or_else(|| ack_underflow(at))?;
        lo = hi.checked_sub(len).ok_or_else(|| ack_underflow(at))?;
        ranges.push((gap, len));
    }
    let ecn = if ecn {
        Some([
            r.varint("ACK ECT(0)")?,
            r.varint("ACK ECT(1)")?,
            r.varint("ACK ECN-CE")?,
        ])
    } else {
        None
    };
    Ok(Frame::Ack {
        largest,
        delay,
        first_range,
        ranges,
        ecn,
    })
}

fn ack_underflow(at: usize) -> WireError {
    WireError::Malformed {
        what: "ACK frame",
        at,
        reason: "a range goes below packet number 0".into(),
    }
}

fn stream<'a>(r: &mut Reader<'a>, ty: u64) -> Result<Frame<'a>> {
    let stream = r.varint("STREAM stream ID")?;
    let offset = if ty & 0x04 != 0 {
        r.varint("STREAM offset")?
    } else {
        0
    };
    let explicit_len = ty & 0x02 != 0;
    let data = if explicit_len {
        r.len_prefixed("STREAM data")?
    } else {
        take_rest(r)
    };
    Ok(Frame::Stream {
        stream,
        offset,
        fin: ty & 0x01 != 0,
        explicit_len,
        data,
    })
}

fn new_connection_id<'a>(r: &mut Reader<'a>) -> Result<Frame<'a>> {
    let seq = r.varint("NEW_CONNECTION_ID sequence")?;
    let retire_prior_to = r.varint("NEW_CONNECTION_ID retire prior to")?;
    let at = r.at();
    let n = r.u8("NEW_CONNECTION_ID length")?;
    if n == 0 || n > 20 {
        return Err(WireError::Malformed {
            what: "NEW_CONNECTION_ID",
            at,
            reason: format!("connection ID length {n} (1..=20 allowed)"),
        });
    }
    let cid = r.bytes(usize::from(n), "NEW_CONNECTION_ID connection ID")?;
    let reset_token = r.bytes(16, "NEW_CONNECTION_ID stateless reset token")?;
    Ok(Frame::NewConnectionId {
        seq,
        retire_prior_to,
        cid,
        reset_token,
    })
}

impl Frame<'_> {
    /// The frame's type name as RFC 9000 spells it ("ACK", "CRYPTO", "STREAM", …): what the
    /// sequence view's `kind:` filter matches.
    pub fn kind(&self) -> &'static str {
        match self {
            Frame::Padding { .. } => "PADDING",
            Frame::Ping => "PING",
            Frame::Ack { .. } => "ACK",
            Frame::ResetStream { .. } => "RESET_STREAM",
            Frame::StopSending { .. } => "STOP_SENDING",
            Frame::Crypto { .. } => "CRYPTO",
            Frame::NewToken { .. } => "NEW_TOKEN",
            Frame::Stream { .. } => "STREAM",
            Frame::MaxData { .. } => "MAX_DATA",
            Frame::MaxStreamData { .. } => "MAX_STREAM_DATA",
            Frame::MaxStreams { .. } => "MAX_STREAMS",
            Frame::DataBlocked { .. } => "DATA_BLOCKED",
            Frame::StreamDataBlocked { .. } => "STREAM_DATA_BLOCKED",
            Frame::StreamsBlocked { .. } => "STREAMS_BLOCKED",
            Frame::NewConnectionId { .. } => "NEW_CONNECTION_ID",
            Frame::RetireConnectionId { .. } => "RETIRE_CONNECTION_ID",
            Frame::PathChallenge { .. } => "PATH_CHALLENGE",
            Frame::PathResponse { .. } => "PATH_RESPONSE",
            Frame::ConnectionClose { .. } => "CONNECTION_CLOSE",
            Frame::HandshakeDone => "HANDSHAKE_DONE",
            Frame::Datagram { .. } => "DATAGRAM",
        }
    }

    /// The frame type code on the wire.
    pub fn type_code(&self) -> u64 {
        match self {
            Frame::Padding { .. } => 0x00,
            Frame::Ping => 0x01,
            Frame::Ack { ecn, .. } => 0x02 + u64::from(ecn.is_some()),
            Frame::ResetStream { .. } => 0x04,
            Frame::StopSending { .. } => 0x05,
            Frame::Crypto { .. } => 0x06,
            Frame::NewToken { .. } => 0x07,
            Frame::Stream {
                offset,
                fin,
                explicit_len,
                ..
            } => {
                0x08 | (u64::from(*offset != 0) << 2)
                    | (u64::from(*explicit_len) << 1)
                    | u64::from(*fin)
            }
            Frame::MaxData { .. } => 0x10,
            Frame::MaxStreamData { .. } => 0x11,
            Frame::MaxStreams { bidi, .. } => 0x13 - u64::from(*bidi),
            Frame::DataBlocked { .. } => 0x14,
            Frame::StreamDataBlocked { .. } => 0x15,
            Frame::StreamsBlocked { bidi, .. } => 0x17 - u64::from(*bidi),
            Frame::NewConnectionId { .. } => 0x18,
            Frame::RetireConnectionId { .. } => 0x19,
            Frame::PathChallenge { .. } => 0x1a,
            Frame::PathResponse { .. } => 0x1b,
            Frame::ConnectionClose { app, .. } => 0x1c + u64::from(*app),
            Frame::HandshakeDone => 0x1e,
            Frame::Datagram { explicit_len, .. } => 0x30 + u64::from(*explicit_len),
        }
    }

    /// Whether RFC 9000 §12.4 (Table 3) allows this frame in a packet of type `ty`.
    pub fn allowed_in(&self, ty: PacketType) -> bool {
        match ty {
            PacketType::Initial | PacketType::Handshake => {
                matches!(
                    self,
                    Frame::Padding { .. } | Frame::Ping | Frame::Ack { .. } | Frame::Crypto { .. }
                ) || matches!(self, Frame::ConnectionClose { app: false, .. })
            }
            PacketType::ZeroRtt => !matches!(
                self,
                Frame::Ack { .. }
                    | Frame::Crypto { .. }
                    | Frame::NewToken { .. }
                    | Frame::PathResponse { .. }
                    | Frame::RetireConnectionId { .. }
                    | Frame::HandshakeDone
            ),
            PacketType::OneRtt => true,
            _ => false,
        }
    }

    /// The acknowledged ranges of an ACK frame, lowest first, as inclusive (low, high).
    pub fn acked_ranges(&self) -> Vec<(u64, u64)> {
        let Frame::Ack {
            largest,
            first_range,
            ranges,
            ..
        } = self
        else {
            return Vec::new();
        };
        let mut lo = largest.saturating_sub(*first_range);
        let mut out = vec![(lo, *largest)];
        for &(gap, len) in ranges {
            let hi = lo.saturating_sub(gap + 2);
            lo = hi.saturating_sub(len);
            out.push((lo, hi));
        }
        out.reverse();
        out
    }

    /// A short human label: "CRYPTO 0+264", "ACK 0-3", "STREAM 4 0+12 fin", "PADDING 1162".
    pub fn label(&self) -> String {
        match self {
            Frame::Padding { len } => format!("PADDING {len}"),
            Frame::Ack { ecn, .. } => {
                let spans: Vec<String> = self
                    .acked_ranges()
                    .iter()
                    .map(|&(lo, hi)| {
                        if lo == hi {
                            lo.to_string()
                        } else {
                            format!("{lo}-{hi}")
                        }
                    })
                    .collect();
                format!(
                    "ACK{} {}",
                    if ecn.is_some() { "_ECN" } else { "" },
                    spans.join(",")
                )
            }
            Frame::ResetStream {
                stream,
                code,
                final_size,
            } => {
                format!("RESET_STREAM {stream} code 0x{code:x} final {final_size}")
            }
            Frame::StopSending { stream, code } => format!("STOP_SENDING {stream} code 0x{code:x}"),
            Frame::Crypto { offset, data } => format!("CRYPTO {offset}+{}", data.len()),
            Frame::NewToken { token } => format!("NEW_TOKEN {} bytes", token.len()),
            Frame::Stream {
                stream,
                offset,
                fin,
                data,
                ..
            } => {
                format!(
                    "STREAM {stream} {offset}+{}{}",
                    data.len(),
                    if *fin { " fin" } else { "" }
                )
            }
            Frame::MaxData { max } => format!("MAX_DATA {max}"),
            Frame::MaxStreamData { stream, max } => format!("MAX_STREAM_DATA {stream} {max}"),
            Frame::MaxStreams { bidi, max } => {
                format!("MAX_STREAMS {} {max}", if *bidi { "bidi" } else { "uni" })
            }
            Frame::DataBlocked { limit } => format!("DATA_BLOCKED {limit}"),
            Frame::StreamDataBlocked { stream, limit } => {
                format!("STREAM_DATA_BLOCKED {stream} {limit}")
            }
            Frame::StreamsBlocked { bidi, limit } => {
                format!(
                    "STREAMS_BLOCKED {} {limit}",
                    if *bidi { "bidi" } else { "uni" }
                )
            }
            Frame::NewConnectionId { seq, cid, .. } => {
                format!("NEW_CONNECTION_ID {seq} {}", hex(cid))
            }
            Frame::RetireConnectionId { seq } => format!("RETIRE_CONNECTION_ID {seq}"),
            Frame::PathChallenge { data } => format!("PATH_CHALLENGE {}", hex(data)),
            Frame::PathResponse { data } => format!("PATH_RESPONSE {}", hex(data)),
            Frame::ConnectionClose {
                app,
                code,
                frame_type,
                reason,
            } => close_label(*app, *code, *frame_type, reason),
            Frame::Datagram { data, .. } => format!("DATAGRAM {} bytes", data.len()),
            Frame::Ping | Frame::HandshakeDone => self.kind().to_string(),
        }
    }

    /// Appends the frame's wire encoding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        if let Frame::Padding { len } = self {
            out.resize(out.len() + len, 0);
            return Ok(());
        }
        varint::put(out, self.type_code())?;
        match self {
            Frame::Padding { .. } | Frame::Ping | Frame::HandshakeDone => {}
            Frame::Ack {
                largest,
                delay,
                first_range,
                ranges,
                ecn,
            } => {
                put_all(out, &[*largest, *delay, ranges.len() as u64, *first_range])?;
                for &(gap, len) in ranges {
                    put_all(out, &[gap, len])?;
                }
                if let Some(e) = ecn {
                    put_all(out, e)?;
                }
            }
            Frame::ResetStream {
                stream,
                code,
                final_size,
            } => put_all(out, &[*stream, *code, *final_size])?,
            Frame::StopSending { stream, code } => put_all(out, &[*stream, *code])?,
            Frame::Crypto { offset, data } => {
                varint::put(out, *offset)?;
                put_bytes(out, data)?;
            }
            Frame::NewToken { token } => put_bytes(out, token)?,
            Frame::Stream {
                stream,
                offset,
                explicit_len,
                data,
                ..
            } => {
                varint::put(out, *stream)?;
                if *offset != 0 {
                    varint::put(out, *offset)?;
                }
                if *explicit_len {
                    put_bytes(out, data)?;
                } else {
                    out.extend_from_slice(data);
                }
            }
            Frame::MaxData { max } => varint::put(out, *max)?,
            Frame::MaxStreamData { stream, max } => put_all(out, &[*stream, *max])?,
            Frame::MaxStreams { max, .. } => varint::put(out, *max)?,
            Frame::DataBlocked { limit } | Frame::StreamsBlocked { limit, .. } => {
                varint::put(out, *limit)?
            }
            Frame::StreamDataBlocked { stream, limit } => put_all(out, &[*stream, *limit])?,
            Frame::NewConnectionId {
                seq,
                retire_prior_to,
                cid,
                reset_token,
            } => {
                put_all(out, &[*seq, *retire_prior_to])?;
                out.push(cid.len() as u8);
                out.extend_from_slice(cid);
                out.extend_from_slice(reset_token);
            }
            Frame::RetireConnectionId { seq } => varint::put(out, *seq)?,
            Frame::PathChallenge { data } | Frame::PathResponse { data } => {
                out.extend_from_slice(data)
            }
            Frame::ConnectionClose {
                app,
                code,
                frame_type,
                reason,
            } => {
                varint::put(out, *code)?;
                if !app {
                    varint::put(out, *frame_type)?;
                }
                put_bytes(out, reason)?;
            }
            Frame::Datagram { explicit_len, data } => {
                if *explicit_len {
                    put_bytes(out, data)?;
                } else {
                    out.extend_from_slice(data);
                }
            }
        }
        Ok(())
    }
}

fn put_all(out: &mut Vec<u8>, vs: &[u64]) -> Result<()> {
    vs.iter().try_for_each(|&v| varint::put(out, v))
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    varint::put(out, b.len() as u64)?;
    out.extend_from_slice(b);
    Ok(())
}

fn close_label(app: bool, code: u64, frame_type: u64, reason: &[u8]) -> String {
    let mut s = if app {
        format!("CONNECTION_CLOSE app 0x{code:x}")
    } else {
        let mut s = format!("CONNECTION_CLOSE {}", transport_error_name(code));
        if frame_type != 0 {
            s.push_str(&format!(" (frame 0x{frame_type:x})"));
        }
        s
    };
    if !reason.is_empty() {
        s.push_str(&format!(
            " \"{}\"",
            String::from_utf8_lossy(reason).escape_debug()
        ));
    }
    s
}

/// RFC 9000 §20.1's names for transport error codes; TLS alerts as CRYPTO_ERROR(n).
pub fn transport_error_name(code: u64) -> String {
    const NAMES: [&str; 17] = [
        "NO_ERROR",
        "INTERNAL_ERROR",
        "CONNECTION_REFUSED",
        "FLOW_CONTROL_ERROR",
        "STREAM_LIMIT_ERROR",
        "STREAM_STATE_ERROR",
        "FINAL_SIZE_ERROR",
        "FRAME_ENCODING_ERROR",
        "TRANSPORT_PARAMETER_ERROR",
        "CONNECTION_ID_LIMIT_ERROR",
        "PROTOCOL_VIOLATION",
        "INVALID_TOKEN",
        "APPLICATION_ERROR",
        "CRYPTO_BUFFER_EXCEEDED",
        "KEY_UPDATE_ERROR",
        "AEAD_LIMIT_REACHED",
        "NO_VIABLE_PATH",
    ];
    match code {
        c if (c as usize) < NAMES.len() => NAMES[c as usize].to_string(),
        0x100..=0x1ff => format!("CRYPTO_ERROR({})", code - 0x100),
        c => format!("0x{c:x}"),
    }
}

/// Lower-case hex of a byte string (connection IDs, tokens).
pub fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(D[usize::from(x >> 4)] as char);
        s.push(D[usize::from(x & 15)] as char);
    }
    s
}
