//! `sequence.mmd`: the message events as a Mermaid `sequenceDiagram`, one participant per
//! service, lost messages as crossed arrows, verdicts as notes.

use std::fmt::Write;

use crate::events::{Event, Kind};

/// Mermaid identifiers: keep letters, digits and `_`.
fn id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Mermaid's entity codes for the characters that end or break a message text.
/// One pass, so the `;` of an entity is not encoded again (`#` became `#35#59;`); control
/// characters (escape sequences included) become spaces.
fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            ':' => out.push_str("#58;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub fn render(events: &[Event]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let mut participants: Vec<String> = Vec::new();
    let mut add = |p: &str, out: &mut String| {
        if !participants.iter().any(|x| x == p) {
            participants.push(p.to_string());
            let _ = writeln!(out, "    participant {} as {}", id(p), label(p));
        }
    };
    // Participants in order of first appearance, so the diagram reads left to right.
    for e in events {
        if let Some(m) = &e.message {
            add(&m.from, &mut out);
            add(&m.to, &mut out);
        }
    }
    let mut test = String::new();
    for e in events {
        if e.test != test && !e.test.is_empty() && (e.message.is_some() || e.kind == Kind::Verdict)
        {
            test.clone_from(&e.test);
            if let Some(first) = participants.first() {
                let last = participants.last().expect("non-empty");
                let _ = writeln!(
                    out,
                    "    Note over {},{}: test {}",
                    id(first),
                    id(last),
                    label(&test)
                );
            }
        }
        match (&e.message, e.kind) {
            (Some(m), Kind::Message) => {
                // One arrow per message: the relay's delivery event, or the lost send.
                let delivered = e.data.get("delivered_us").is_some() || e.text == "delivered";
                if m.lost {
                    let _ = writeln!(
                        out,
                        "    {}-x{}: {} (lost)",
                        id(&m.from),
                        id(&m.to),
                        label(&m.summary)
                    );
                } else if delivered || e.source != "link" {
                    let _ = writeln!(
                        out,
                        "    {}->>{}: {}",
                        id(&m.from),
                        id(&m.to),
                        label(&m.summary)
                    );
                }
            }
            (None, Kind::Verdict)
                if participants.contains(&e.source) && e.data.get("overall").is_none() =>
            {
                let _ = writeln!(out, "    Note over {}: {}", id(&e.source), label(&e.text));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_encode_each_character_once() {
        assert_eq!(label("a#b"), "a#35;b");
        assert_eq!(label("x;y:z"), "x#59;y#58;z");
        assert_eq!(label("\u{1b}[31mred\n"), " [31mred ");
    }
}
