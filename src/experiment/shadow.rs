//! PANTHER's `shadow_ns` network environment, run on panther's `netns` environment.
//!
//! The Shadow simulator cannot be installed on these machines (no package in any
//! registry), so a `shadow_ns` test runs for real in network namespaces: Shadow's
//! `network.{latency, jitter, packet_loss}` become the netns `link`, `general.stop_time`
//! bounds the test's `timeout`, `host_option_defaults.pcap_enabled` becomes `capture`, and
//! a warning says that time is real, not simulated. Shadow's `packet_loss` is a fraction
//! from 0 to 1 (PANTHER writes it unchanged into Shadow's GML edge, where Shadow reads a
//! fraction), exactly what `link.loss` is.

use crate::diag::Diagnostic;
use crate::suggest;
use crate::yaml::{MapEntry, Node, Resolved, Span, Value};

use super::model::parse_duration;
use super::panther_keys::{SHADOW_UNUSED, unused_reason};

/// Where a Shadow `stop_time` was written, and its length in seconds.
pub struct StopTime {
    pub secs: f64,
    pub key_span: Span,
    pub value_span: Span,
}

const GENERAL_KEYS: &[&str] = &["stop_time", "model_unblocked_syscall_latency"];
const NETWORK_KEYS: &[&str] = &["latency", "jitter", "packet_loss"];
const HOST_DEFAULT_KEYS: &[&str] = &["pcap_enabled"];

/// Rewrites a `type: shadow_ns` block into `type: netns` in place; returns the stop time
/// for the test's timeout. Any other block is left alone.
pub fn convert(ne: &mut Node, file: &str, out: &mut Vec<Diagnostic>) -> Option<StopTime> {
    let Value::Map(entries) = &mut ne.value else {
        return None;
    };
    let ty = entries.iter_mut().find(|e| e.key == "type")?;
    let Value::Scalar(s) = &mut ty.value.value else {
        return None;
    };
    if s.text != "shadow_ns" {
        return None;
    }
    s.text = "netns".into();
    out.push(
        Diagnostic::warning(
            file,
            ty.value.span,
            "`shadow_ns` runs on panther's `netns` environment: time is real, not simulated",
        )
        .help(
            "the Shadow simulator cannot be installed here; Shadow's latency, jitter and \
             packet_loss become the netns link, general.stop_time bounds the test, \
             host_option_defaults.pcap_enabled turns the capture on",
        ),
    );

    let mut stop = None;
    if let Some(general) = take(entries, "general") {
        for e in sub_entries(general, "general", file, out) {
            match e.key.as_str() {
                "stop_time" => stop = stop_time(&e, file, out),
                "model_unblocked_syscall_latency" => unused(&e, file, out),
                _ => unknown(&e, "general", GENERAL_KEYS, file, out),
            }
        }
    }

    if let Some(network) = take(entries, "network") {
        let has_link = entries.iter().any(|e| e.key == "link");
        let (key_span, span) = (network.key_span, network.value.span);
        let mut link = Vec::new();
        for e in sub_entries(network, "network", file, out) {
            let (ours, hi, what) = match e.key.as_str() {
                "latency" => ("delay_ms", 60_000.0, "milliseconds from 0 to 60000"),
                "jitter" => ("jitter_ms", 60_000.0, "milliseconds from 0 to 60000"),
                "packet_loss" => ("loss", 1.0, "a fraction from 0 to 1 (Shadow's packet_loss)"),
                _ => {
                    unknown(&e, "network", NETWORK_KEYS, file, out);
                    continue;
                }
            };
            match number(&e.value, ours != "loss") {
                Some(v) if (0.0..=hi).contains(&v) => link.push(MapEntry {
                    key: ours.into(),
                    key_span: e.key_span,
                    value: Node::scalar(format!("{v}"), true, e.value.span),
                }),
                found => {
                    let shown = found.map_or_else(
                        || e.value.as_str().unwrap_or("a list or map").to_string(),
                        |v| v.to_string(),
                    );
                    let mut d = Diagnostic::error(
                        file,
                        e.value.span,
                        format!("Shadow's `{}` is {shown}", e.key),
                    )
                    .expected(what);
                    if let Some(v) = found
                        && hi == 1.0
                        && v > 1.0
                        && v <= 100.0
                    {
                        d = d.help(format!("a percentage? write {}", v / 100.0));
                    }
                    out.push(d);
                }
            }
        }
        if has_link {
            out.push(
                Diagnostic::warning(
                    file,
                    key_span,
                    "Shadow's `network` is ignored: this block also has a `link`",
                )
                .help("keep one of the two"),
            );
        } else if !link.is_empty() {
            entries.push(MapEntry {
                key: "link".into(),
                key_span,
                value: Node {
                    value: Value::Map(link),
                    span,
                },
            });
        }
    }

    if let Some(hod) = take(entries, "host_option_defaults") {
        let has_capture = entries.iter().any(|e| e.key == "capture");
        for e in sub_entries(hod, "host_option_defaults", file, out) {
            match e.key.as_str() {
                "pcap_enabled" if !has_capture => entries.push(MapEntry {
                    key: "capture".into(),
                    key_span: e.key_span,
                    value: e.value,
                }),
                "pcap_enabled" => {}
                _ => unknown(&e, "host_option_defaults", HOST_DEFAULT_KEYS, file, out),
            }
        }
    }

    let mut i = 0;
    while i < entries.len() {
        if unused_reason(SHADOW_UNUSED, &entries[i].key).is_some() {
            let e = entries.remove(i);
            unused(&e, file, out);
        } else {
            i += 1;
        }
    }
    stop
}

fn take(entries: &mut Vec<MapEntry>, key: &str) -> Option<MapEntry> {
    let i = entries.iter().position(|e| e.key == key)?;
    Some(entries.remove(i))
}

/// The entries of a Shadow sub-block, or an error when it is not a map.
fn sub_entries(e: MapEntry, what: &str, file: &str, out: &mut Vec<Diagnostic>) -> Vec<MapEntry> {
    match e.value.value {
        Value::Map(m) => m,
        _ if e.value.is_null() => Vec::new(),
        _ => {
            out.push(
                Diagnostic::error(
                    file,
                    e.value.span,
                    format!("Shadow's `{what}` is {}", e.value.kind_name()),
                )
                .expected("a map"),
            );
            Vec::new()
        }
    }
}

/// A number; with `times`, also a Shadow time string in milliseconds (`"10 ms"`).
fn number(n: &Node, times: bool) -> Option<f64> {
    let Value::Scalar(s) = &n.value else {
        return None;
    };
    match s.resolve() {
        Resolved::Int(i) => Some(i as f64),
        Resolved::Float(f) if f.is_finite() => Some(f),
        Resolved::Str(t) if times => parse_duration(t).ok().map(|secs| secs * 1000.0),
        _ => None,
    }
}

fn stop_time(e: &MapEntry, file: &str, out: &mut Vec<Diagnostic>) -> Option<StopTime> {
    let secs = match &e.value.value {
        Value::Scalar(s) => match s.resolve() {
            Resolved::Int(i) if i > 0 => Ok(i as f64),
            Resolved::Float(f) if f > 0.0 && f.is_finite() => Ok(f),
            _ => parse_duration(&s.text),
        },
        _ => Err(format!("found {}", e.value.kind_name())),
    };
    match secs {
        Ok(secs) => Some(StopTime {
            secs,
            key_span: e.key_span,
            value_span: e.value.span,
        }),
        Err(why) => {
            out.push(
                Diagnostic::error(file, e.value.span, format!("bad Shadow `stop_time`: {why}"))
                    .expected("a time such as \"100s\", \"1 min\" or a number of seconds"),
            );
            None
        }
    }
}

fn unused(e: &MapEntry, file: &str, out: &mut Vec<Diagnostic>) {
    let why = unused_reason(SHADOW_UNUSED, &e.key).unwrap_or("a Shadow simulator option");
    out.push(
        Diagnostic::warning(
            file,
            e.key_span,
            format!("`{}` is PANTHER's; panther does not use it", e.key),
        )
        .help(why),
    );
}

fn unknown(e: &MapEntry, block: &str, known: &[&str], file: &str, out: &mut Vec<Diagnostic>) {
    out.push(
        Diagnostic::error(
            file,
            e.key_span,
            format!("unknown key `{}` in Shadow's `{block}`", e.key),
        )
        .expected(format!("one of {}", suggest::one_of(known)))
        .help_opt(suggest::did_you_mean(&e.key, known.iter().copied())),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse};

    fn conv(src: &str) -> (Node, Option<StopTime>, Vec<Diagnostic>) {
        let mut n = parse(src, Limits::default()).unwrap();
        let mut out = Vec::new();
        let st = convert(&mut n, "f.yaml", &mut out);
        (n, st, out)
    }

    #[test]
    fn shadow_becomes_netns_with_a_link_and_a_capture() {
        let (n, st, out) = conv(
            "type: shadow_ns\ngeneral: {stop_time: \"1 min\", model_unblocked_syscall_latency: false}\nexperimental: {strace_logging_mode: standard}\nnetwork: {latency: 10, jitter: 2, packet_loss: 0.01}\nhost_option_defaults: {pcap_enabled: true}\n",
        );
        assert_eq!(n.get("type").unwrap().as_str(), Some("netns"));
        let link = n.get("link").unwrap();
        assert_eq!(link.get("delay_ms").unwrap().as_str(), Some("10"));
        assert_eq!(link.get("jitter_ms").unwrap().as_str(), Some("2"));
        assert_eq!(link.get("loss").unwrap().as_str(), Some("0.01"));
        // The value keeps the user's position.
        assert_eq!(link.get("delay_ms").unwrap().span, Span::new(4, 20));
        assert_eq!(n.get("capture").unwrap().as_str(), Some("true"));
        assert!(n.get("general").is_none() && n.get("experimental").is_none());
        assert_eq!(st.unwrap().secs, 60.0);
        let msgs: Vec<&str> = out.iter().map(|d| d.message.as_str()).collect();
        assert!(msgs[0].contains("time is real, not simulated"), "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|m| m.contains("`model_unblocked_syscall_latency` is PANTHER's")),
            "{msgs:?}"
        );
        assert!(out.iter().all(|d| !d.is_error()), "{out:#?}");
    }

    #[test]
    fn bad_shadow_values_are_located() {
        let (_, st, out) = conv(
            "type: shadow_ns\ngeneral: {stop_time: soon}\nnetwork: {latency: 10, packet_loss: 30, jiter: 1}\n",
        );
        assert!(st.is_none());
        let errs: Vec<&Diagnostic> = out.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert_eq!((errs[0].line, errs[0].column), (2, 22));
        assert!(errs[1].help.as_deref().unwrap().contains("0.3"));
        assert_eq!(errs[2].help.as_deref(), Some("did you mean `jitter`?"));
    }

    #[test]
    fn other_environments_are_untouched() {
        let (n, st, out) = conv("type: docker_compose\nnetwork: {latency: 1}\n");
        assert!(st.is_none() && out.is_empty());
        assert!(n.get("network").is_some());
    }
}
