//! The three qlog dialects, each read into [`QlogTrace`]s, tolerating a cut file.

use serde_json::Value;

use super::{Dialect, Direction, Packet, QlogEvent, QlogTrace};

/// One JSON-SEQ record: an event, or the header (`qlog_format`, `trace`).
#[derive(serde::Deserialize)]
struct SeqRecord {
    time: Option<f64>,
    name: Option<String>,
    data: Option<Value>,
    qlog_format: Option<serde::de::IgnoredAny>,
    trace: Option<serde::de::IgnoredAny>,
}

/// JSON-SEQ: a header record, then one record per event. A record that does not parse is
/// skipped and marks the trace truncated (a killed writer tears the last one).
pub fn json_seq(bytes: &[u8]) -> Result<Vec<QlogTrace>, String> {
    let mut trace = QlogTrace {
        dialect: Dialect::JsonSeq,
        vantage: None,
        implementation: None,
        group_id: None,
        events: Vec::new(),
        truncated: false,
    };
    let mut parsed = 0usize;
    for rec in bytes.split(|b| *b == 0x1e) {
        if rec.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // Typed first: an event record costs one map (its data), not two.
        let Ok(r) = serde_json::from_slice::<SeqRecord>(rec) else {
            trace.truncated = true;
            continue;
        };
        parsed += 1;
        if r.qlog_format.is_some() || r.trace.is_some() {
            let v = serde_json::from_slice::<Value>(rec).unwrap_or(Value::Null);
            header(&mut trace, v.get("trace").unwrap_or(&v));
        } else if let Some(name) = r.name {
            let data = r.data.unwrap_or(Value::Null);
            trace.events.push(QlogEvent {
                time_ms: r.time.unwrap_or(0.0),
                packet: packet(&name, &data),
                name,
                data,
            });
        }
    }
    if parsed == 0 {
        return Err("no JSON-SEQ record parses".into());
    }
    Ok(vec![trace])
}

/// Classic JSON, qlog 0.3 or draft-00. A file cut mid-way (an EOF error) is read event by
/// event up to the cut.
pub fn json(bytes: &[u8]) -> Result<Vec<QlogTrace>, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => whole(&v),
        Err(e) if e.is_eof() => recover(bytes),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

fn whole(v: &Value) -> Result<Vec<QlogTrace>, String> {
    let traces = v
        .get("traces")
        .and_then(Value::as_array)
        .ok_or("no `traces` array (qlog 0.3 and draft-00 files have one)")?;
    if traces.is_empty() {
        return Err("the `traces` array is empty".into());
    }
    let draft = is_draft(v);
    Ok(traces
        .iter()
        .map(|t| {
            let mut tr = new_trace(if draft || t.get("event_fields").is_some() {
                Dialect::Draft00
            } else {
                Dialect::Json
            });
            header(&mut tr, t);
            let fields = event_fields(t);
            let us = time_in_us(t);
            for e in t
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(ev) = any_event(e, fields.as_deref(), us) {
                    tr.events.push(ev);
                }
            }
            tr
        })
        .collect())
}

fn is_draft(v: &Value) -> bool {
    v.get("qlog_version")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("draft"))
}

fn new_trace(dialect: Dialect) -> QlogTrace {
    QlogTrace {
        dialect,
        vantage: None,
        implementation: None,
        group_id: None,
        events: Vec::new(),
        truncated: false,
    }
}

/// A cut classic file: the header values before `"events": [` are found by key, then each
/// complete array element is parsed in turn.
fn recover(bytes: &[u8]) -> Result<Vec<QlogTrace>, String> {
    let Some(at) = find_events_array(bytes) else {
        return Err("the file ends before its first event (cut too early to recover)".into());
    };
    let prefix = &bytes[..at];
    let draft = value_after_key(prefix, "qlog_version")
        .and_then(|v| v.as_str().map(|s| s.starts_with("draft")))
        .unwrap_or(false);
    let fields = value_after_key(prefix, "event_fields").and_then(|v| {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
    });
    let mut tr = new_trace(if draft || fields.is_some() {
        Dialect::Draft00
    } else {
        Dialect::Json
    });
    tr.truncated = true;
    if let Some(vp) = value_after_key(prefix, "vantage_point") {
        set_vantage(&mut tr, &vp);
    }
    tr.group_id = value_after_key(prefix, "group_id")
        .or_else(|| value_after_key(prefix, "ODCID"))
        .and_then(|v| v.as_str().map(String::from));
    let us = value_after_key(prefix, "time_units").is_some_and(|v| v == "us");
    let fields: Option<Vec<String>> = fields;
    let mut rest = &bytes[at..];
    loop {
        rest = skip(rest, b", \t\r\n");
        if rest.is_empty() || rest[0] == b']' {
            break;
        }
        let mut it = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        match it.next() {
            Some(Ok(v)) => {
                if let Some(e) = any_event(&v, fields.as_deref(), us) {
                    tr.events.push(e);
                }
                rest = &rest[it.byte_offset()..];
            }
            _ => break,
        }
    }
    Ok(vec![tr])
}

fn skip<'a>(mut b: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let Some(c) = b.first() {
        if !set.contains(c) {
            break;
        }
        b = &b[1..];
    }
    b
}

/// The offset just after `"events": [`.
fn find_events_array(bytes: &[u8]) -> Option<usize> {
    let key = b"\"events\"";
    let mut from = 0;
    while let Some(i) = find(&bytes[from..], key) {
        let after = from + i + key.len();
        let r = skip(&bytes[after..], b" \t\r\n");
        if r.first() == Some(&b':') {
            let r2 = skip(&r[1..], b" \t\r\n");
            if r2.first() == Some(&b'[') {
                return Some(bytes.len() - r2.len() + 1);
            }
        }
        from = after;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The JSON value after the first `"key":` in `b`.
fn value_after_key(b: &[u8], key: &str) -> Option<Value> {
    let k = format!("\"{key}\"");
    let i = find(b, k.as_bytes())?;
    let r = skip(&b[i + k.len()..], b" \t\r\n");
    let r = r.strip_prefix(b":")?;
    serde_json::Deserializer::from_slice(r)
        .into_iter::<Value>()
        .next()?
        .ok()
}

fn header(tr: &mut QlogTrace, t: &Value) {
    if let Some(vp) = t.get("vantage_point") {
        set_vantage(tr, vp);
    }
    let cf = t.get("common_fields");
    tr.group_id = cf
        .and_then(|c| c.get("group_id").or_else(|| c.get("ODCID")))
        .and_then(Value::as_str)
        .map(String::from);
}

fn set_vantage(tr: &mut QlogTrace, vp: &Value) {
    tr.vantage = vp.get("type").and_then(Value::as_str).map(String::from);
    tr.implementation = vp.get("name").and_then(Value::as_str).map(String::from);
}

fn event_fields(t: &Value) -> Option<Vec<String>> {
    t.get("event_fields").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect()
    })
}

fn time_in_us(t: &Value) -> bool {
    t.get("configuration")
        .and_then(|c| c.get("time_units"))
        .and_then(Value::as_str)
        == Some("us")
}

fn any_event(e: &Value, fields: Option<&[String]>, us: bool) -> Option<QlogEvent> {
    match (e, fields) {
        (Value::Array(cols), Some(f)) => event_draft(cols, f, us),
        (Value::Object(_), _) => event_03(e),
        _ => None,
    }
}

/// `{"time": ms, "name": "transport:packet_sent", "data": {...}}`.
fn event_03(v: &Value) -> Option<QlogEvent> {
    let name = v.get("name")?.as_str()?.to_string();
    let time_ms = v.get("time").and_then(Value::as_f64).unwrap_or(0.0);
    let data = v.get("data").cloned().unwrap_or(Value::Null);
    Some(QlogEvent {
        time_ms,
        packet: packet(&name, &data),
        name,
        data,
    })
}

/// `[time, "transport", "packet_sent", {...}]` with `event_fields` naming the columns.
fn event_draft(cols: &[Value], fields: &[String], us: bool) -> Option<QlogEvent> {
    let col = |n: &str| fields.iter().position(|f| f == n).and_then(|i| cols.get(i));
    let t = col("relative_time")
        .or_else(|| col("time"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let category = col("category").and_then(Value::as_str).unwrap_or("");
    let event = col("event")?.as_str()?;
    let name = if category.is_empty() {
        event.to_string()
    } else {
        format!("{category}:{event}")
    };
    let data = col("data").cloned().unwrap_or(Value::Null);
    Some(QlogEvent {
        time_ms: if us { t / 1000.0 } else { t },
        packet: packet(&name, &data),
        name,
        data,
    })
}

fn packet(name: &str, data: &Value) -> Option<Packet> {
    let direction = if name.ends_with("packet_sent") {
        Direction::Sent
    } else if name.ends_with("packet_received") {
        Direction::Received
    } else {
        return None;
    };
    let h = data.get("header");
    let field = |k: &str| h.and_then(|h| h.get(k)).or_else(|| data.get(k));
    let text = |k: &str| field(k).and_then(Value::as_str).map(String::from);
    let packet_type = text("packet_type").unwrap_or_else(|| "unknown".into());
    let number = field("packet_number").and_then(|n| {
        n.as_u64()
            .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
    });
    let frames = data
        .get("frames")
        .and_then(Value::as_array)
        .map(|fs| {
            fs.iter()
                .filter_map(|f| {
                    f.get("frame_type")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect()
        })
        .unwrap_or_default();
    let length = data
        .get("raw")
        .and_then(|r| r.get("length"))
        .or_else(|| field("packet_size"))
        .or_else(|| h.and_then(|h| h.get("length")))
        .and_then(Value::as_u64);
    Some(Packet {
        direction,
        packet_type,
        number,
        dcid: text("dcid"),
        scid: text("scid"),
        frames,
        length,
    })
}
