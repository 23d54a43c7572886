//! `sequence.mmd`: the message events as a Mermaid `sequenceDiagram`, one participant per
//! service, lost messages as crossed arrows, verdicts as notes.

use std::io::{self, Write};
use std::path::Path;

use crate::events::store::Reader;
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

/// The diagram of a list of events held in memory (a live view, tests).
pub fn render(events: &[Event]) -> String {
    let mut d = Diagram::default();
    events.iter().for_each(|e| d.see(e));
    let mut out = Vec::new();
    let written = d
        .header(&mut out)
        .and_then(|()| events.iter().try_for_each(|e| d.line(e, &mut out)));
    debug_assert!(written.is_ok(), "writes to memory");
    String::from_utf8(out).unwrap_or_default()
}

/// The diagram of a results folder's `events.jsonl`, streamed: two passes over the file
/// (participants, then arrows), so a run of any length costs the memory of its
/// participants. Returns how many lines were skipped as torn.
pub fn write_from_file(events: &Path, out: &mut (impl Write + ?Sized)) -> io::Result<usize> {
    let mut d = Diagram::default();
    let mut first = Reader::<Event>::open(events)?;
    while let Some(e) = first.next_event()? {
        d.see(&e);
    }
    d.header(out)?;
    let mut second = Reader::<Event>::open(events)?;
    while let Some(e) = second.next_event()? {
        d.line(&e, out)?;
    }
    out.flush()?;
    Ok(first.bad())
}

/// Writes `sequence.mmd` for a results folder from its events.
pub fn write_file(events: &Path, to: &Path) -> io::Result<usize> {
    let mut out = io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(to)?);
    write_from_file(events, &mut out)
}

/// The diagram's state: participants gathered in a first pass over the events (in order of
/// first appearance, so the diagram reads left to right), lines written in a second.
#[derive(Debug, Default)]
struct Diagram {
    participants: Vec<String>,
    test: String,
}

impl Diagram {
    /// First pass: the participants of a message.
    fn see(&mut self, e: &Event) {
        if let Some(m) = &e.message {
            for p in [&m.from, &m.to] {
                if !self.participants.iter().any(|x| x == p) {
                    self.participants.push(p.clone());
                }
            }
        }
    }

    fn header(&self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        out.write_all(b"sequenceDiagram\n")?;
        for p in &self.participants {
            writeln!(out, "    participant {} as {}", id(p), label(p))?;
        }
        Ok(())
    }

    /// Second pass: an event's arrow or note, if it has one.
    fn line(&mut self, e: &Event, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        let participants = &self.participants;
        if e.test != self.test
            && !e.test.is_empty()
            && (e.message.is_some() || e.kind == Kind::Verdict)
        {
            self.test.clone_from(&e.test);
            if let (Some(first), Some(last)) = (participants.first(), participants.last()) {
                writeln!(
                    out,
                    "    Note over {},{}: test {}",
                    id(first),
                    id(last),
                    label(&self.test)
                )?;
            }
        }
        match (&e.message, e.kind) {
            (Some(m), Kind::Message) => {
                // One arrow per message: the relay's delivery event, or the lost send.
                let delivered = e.data.get("delivered_us").is_some() || e.text == "delivered";
                if m.lost {
                    writeln!(
                        out,
                        "    {}-x{}: {} (lost)",
                        id(&m.from),
                        id(&m.to),
                        label(&m.summary)
                    )?;
                } else if delivered || e.source != "link" {
                    writeln!(
                        out,
                        "    {}->>{}: {}",
                        id(&m.from),
                        id(&m.to),
                        label(&m.summary)
                    )?;
                }
            }
            (None, Kind::Verdict)
                if participants.contains(&e.source) && e.data.get("overall").is_none() =>
            {
                writeln!(out, "    Note over {}: {}", id(&e.source), label(&e.text))?;
            }
            _ => {}
        }
        Ok(())
    }
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
