//! Markdown text (a plugin's README) reflowed for a pane that wraps: a paragraph or a list
//! item hard-wrapped in the file becomes one line, so the pane wraps it once at its own width
//! instead of breaking it again at every line end of the file. Headings, tables, code (fenced
//! or indented) and blank lines are kept as written.

/// The lines of `text`, each paragraph and list item joined into one.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Whether the last line of `out` is prose that the next line may continue.
    let mut open = false;
    let mut fenced = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
            out.push(line.to_string());
            open = false;
            continue;
        }
        if fenced || t.is_empty() || kept_as_is(line) {
            out.push(line.to_string());
            open = false;
            continue;
        }
        match out.last_mut() {
            Some(last) if open && !starts_item(t) => {
                last.push(' ');
                last.push_str(t.trim_end());
            }
            _ => {
                out.push(line.trim_end().to_string());
                open = true;
            }
        }
    }
    out
}

/// Lines that stand alone: headings, table rows, rules, quotes, indented code.
fn kept_as_is(line: &str) -> bool {
    let t = line.trim_start();
    line.starts_with("    ")
        || line.starts_with('\t')
        || t.starts_with('#')
        || t.starts_with('|')
        || t.starts_with('>')
        || t.starts_with("---")
}

/// A list item's first line (`- `, `* `, `+ `, `1. `): it starts a line of its own.
fn starts_item(t: &str) -> bool {
    if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ") {
        return true;
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && t[digits..].starts_with(". ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_items_join_and_the_rest_stays() {
        let md = "# Title\n\nA paragraph\nwrapped in the file.\n\n- **Install**: one\n  two\n- next\n1. first\n\n```\ncode line\nsecond\n```\n    indented\n| a | b |\n";
        assert_eq!(
            paragraphs(md),
            [
                "# Title",
                "",
                "A paragraph wrapped in the file.",
                "",
                "- **Install**: one two",
                "- next",
                "1. first",
                "",
                "```",
                "code line",
                "second",
                "```",
                "    indented",
                "| a | b |",
            ]
        );
    }

    /// The bundled aioquic README: its hard-wrapped first paragraph is one line.
    #[test]
    fn a_bundled_readme_paragraph_is_one_line() {
        let text = String::from_utf8(
            crate::plugin::loader::bundled_file("services/iut/quic/aioquic/README.md")
                .expect("bundled")
                .to_vec(),
        )
        .unwrap();
        let lines = paragraphs(&text);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("`aioquic_peer.py`, a small server and client")),
            "{lines:#?}"
        );
    }
}
