//! A matrix's files: `matrix.json` (keyed by server, client and case), `matrix.md` (a grid
//! per case), `junit.xml` (a testcase per cell) and `matrix.html` (a static grid, no network
//! and no external assets, each cell linking to its report and sequence).

use std::fmt::Write as _;
use std::path::Path;

use super::{Cell, CellVerdict, Expectations, Matrix, gates};

pub const JSON: &str = "matrix.json";
pub const MARKDOWN: &str = "matrix.md";
pub const JUNIT: &str = "junit.xml";
pub const HTML: &str = "matrix.html";

/// Writes all four files into `dir`.
pub fn write_all(dir: &Path, m: &Matrix, e: Option<&Expectations>) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(m).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(JSON), json + "\n")?;
    std::fs::write(dir.join(MARKDOWN), markdown(m))?;
    std::fs::write(dir.join(JUNIT), junit(m, e))?;
    std::fs::write(dir.join(HTML), html(m))?;
    Ok(())
}

/// Reads a matrix.json (a folder holding one, or the file).
pub fn read(path: &Path) -> Result<Matrix, String> {
    let file = if path.is_dir() {
        path.join(JSON)
    } else {
        path.to_path_buf()
    };
    let text =
        crate::results::read_limited(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a matrix.json: {e}", file.display()))
}

fn verdict_of(m: &Matrix, server: &str, client: &str, case: &str) -> Option<CellVerdict> {
    m.get(&Cell {
        server: server.into(),
        client: client.into(),
        case: case.into(),
    })
    .map(|r| r.verdict)
}

/// One table per case: a row per client, a column per server.
pub fn markdown(m: &Matrix) -> String {
    let mut out = format!(
        "# Interop matrix: {} on {}\n\n{} servers × {} clients × {} cases{}; ✓ pass, ✗ fail, ~ flaky, - unsupported, E error, · not run (another shard)\n",
        m.protocol,
        m.network_environment,
        m.servers.len(),
        m.clients.len(),
        m.cases.len(),
        m.shard
            .as_ref()
            .map(|s| format!(", shard {s}"))
            .unwrap_or_default()
    );
    for case in &m.cases {
        let _ = write!(out, "\n## {case}\n\n| client \\ server |");
        for s in &m.servers {
            let _ = write!(out, " {s} |");
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(m.servers.len()));
        out.push('\n');
        for c in &m.clients {
            let _ = write!(out, "| {c} |");
            for s in &m.servers {
                let letter = verdict_of(m, s, c, case).map_or('·', |v| v.letter());
                let _ = write!(out, " {letter} |");
            }
            out.push('\n');
        }
    }
    let flaky: Vec<String> = m
        .iter()
        .filter(|(_, r)| r.verdict == CellVerdict::Flaky)
        .map(|(c, r)| {
            format!(
                "- {} × {} × {}: passed {} of {}",
                c.server, c.client, c.case, r.passes, r.runs
            )
        })
        .collect();
    if !flaky.is_empty() {
        out.push_str("\n## Flaky cells\n\n");
        out.push_str(&flaky.join("\n"));
        out.push('\n');
    }
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// A testsuite per server × client, a testcase per case. A failing cell is a failure only
/// when it gates; the others are reported as skipped with their verdict.
pub fn junit(m: &Matrix, e: Option<&Expectations>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"panther matrix\">\n",
    );
    for s in &m.servers {
        for c in &m.clients {
            let cells: Vec<(Cell, &super::CellResult)> = m
                .iter()
                .filter(|(cell, _)| &cell.server == s && &cell.client == c)
                .collect();
            if cells.is_empty() {
                continue;
            }
            let failures = cells
                .iter()
                .filter(|(cell, r)| {
                    gates(e, cell)
                        && !matches!(r.verdict, CellVerdict::Pass | CellVerdict::Unsupported)
                })
                .count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{} × {}\" tests=\"{}\" failures=\"{failures}\">",
                xml(s),
                xml(c),
                cells.len()
            );
            for (cell, r) in cells {
                let secs = r.duration_ms as f64 / 1000.0;
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{secs:.3}\"",
                    xml(s),
                    xml(c),
                    xml(&cell.case)
                );
                let body = match r.verdict {
                    CellVerdict::Pass => None,
                    _ if !gates(e, &cell) || r.verdict == CellVerdict::Unsupported => {
                        Some(format!(
                            "<skipped message=\"{}: {}\"/>",
                            r.verdict.as_str(),
                            xml(&r.reason)
                        ))
                    }
                    v => Some(format!(
                        "<failure message=\"{}: {}\"/>",
                        v.as_str(),
                        xml(&r.reason)
                    )),
                };
                match body {
                    None => out.push_str("/>\n"),
                    Some(b) => {
                        let _ = writeln!(out, ">{b}</testcase>");
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
    }
    out.push_str("</testsuites>\n");
    out
}

/// A self-contained page: a grid per case; each cell links to its run's report and sequence.
pub fn html(m: &Matrix) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>panther matrix</title>\n<style>\
body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}\
td,th{border:1px solid #999;padding:.3em .6em;text-align:center}\
.pass{background:#cfc}.fail{background:#fcc}.flaky{background:#ffc}.unsupported{background:#eee}.error{background:#f99}\
</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Interop matrix: {} on {}</h1>",
        xml(&m.protocol),
        xml(&m.network_environment)
    );
    for case in &m.cases {
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<table><tr><th>client \\ server</th>",
            xml(case)
        );
        for s in &m.servers {
            let _ = write!(out, "<th>{}</th>", xml(s));
        }
        out.push_str("</tr>\n");
        for c in &m.clients {
            let _ = write!(out, "<tr><th>{}</th>", xml(c));
            for s in &m.servers {
                let cell = Cell {
                    server: s.clone(),
                    client: c.clone(),
                    case: case.clone(),
                };
                match m.get(&cell) {
                    Some(r) => {
                        let links = r
                            .dir
                            .as_ref()
                            .map(|d| {
                                format!(
                                    " <a href=\"{0}/report.md\">report</a> <a href=\"{0}/sequence.mmd\">sequence</a>",
                                    xml(d)
                                )
                            })
                            .unwrap_or_default();
                        let _ = write!(
                            out,
                            "<td class=\"{}\" title=\"{}\" data-cell=\"{}\">{}{links}</td>",
                            r.verdict.as_str(),
                            xml(&r.reason),
                            xml(&cell.folder()),
                            r.verdict.as_str()
                        );
                    }
                    None => out.push_str("<td>·</td>"),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// One letter per case, as the grids show them: the case's first letter not taken yet (upper
/// case), else a digit.
pub fn case_letters(cases: &[String]) -> Vec<(char, String)> {
    let mut out: Vec<(char, String)> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let taken = |c: char| out.iter().any(|(l, _)| *l == c);
        let letter = case
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .find(|c| !taken(*c))
            .unwrap_or_else(|| char::from_digit((i % 10) as u32, 10).unwrap_or('?'));
        out.push((letter, case.clone()));
    }
    out
}

/// The grid as plain text, for a terminal while the matrix runs: a row per client, a column
/// per server, per case its letter when it passed, the verdict's mark otherwise, `·` when it
/// has not run yet.
pub fn grid_text(m: &Matrix) -> String {
    let letters = case_letters(&m.cases);
    let name_w = m
        .clients
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let col_w = |s: &str| s.chars().count().max(letters.len() * 2) + 2;
    let mut out = format!("{:name_w$}  ", "");
    for s in &m.servers {
        out.push_str(&format!("{s:<w$}", w = col_w(s)));
    }
    for c in &m.clients {
        out.push_str(&format!("\n{c:<name_w$}  "));
        for s in &m.servers {
            let mut cell = String::new();
            for (l, case) in &letters {
                let cell_ref = Cell {
                    server: s.clone(),
                    client: c.clone(),
                    case: case.clone(),
                };
                let mark = match m.get(&cell_ref).map(|r| r.verdict) {
                    Some(CellVerdict::Pass) => *l,
                    Some(v) => v.letter(),
                    None => '·',
                };
                cell.push(mark);
                cell.push(' ');
            }
            out.push_str(&format!("{cell:<w$}", w = col_w(s)));
        }
    }
    let legend: Vec<String> = letters.iter().map(|(l, c)| format!("{l} {c}")).collect();
    out.push_str(&format!(
        "\n{}  (✗ fail, ~ flaky, E error, - unsupported)",
        legend.join("  ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::CellResult;

    #[test]
    fn the_text_grid_marks_each_case_and_shares_letters_with_the_screen() {
        let cases = vec!["handshake".to_string(), "http3".into(), "transfer".into()];
        let letters: Vec<char> = case_letters(&cases).iter().map(|(l, _)| *l).collect();
        assert_eq!(letters, ['H', 'T', 'R']);
        let mut m = Matrix {
            schema_version: 1,
            protocol: "quic".into(),
            network_environment: "localhost".into(),
            servers: vec!["ngtcp2".into()],
            clients: vec!["quic_tester".into()],
            cases,
            repeat: 1,
            shard: None,
            started_at: String::new(),
            duration_ms: 0,
            cells: Default::default(),
        };
        let at = |case: &str| Cell {
            server: "ngtcp2".into(),
            client: "quic_tester".into(),
            case: case.into(),
        };
        let r = |v| CellResult {
            verdict: v,
            reason: String::new(),
            passes: 0,
            runs: 1,
            duration_ms: 0,
            dir: None,
        };
        m.insert(&at("handshake"), r(CellVerdict::Pass));
        m.insert(&at("http3"), r(CellVerdict::Fail));
        let g = grid_text(&m);
        assert!(g.contains("quic_tester  H ✗ ·"), "{g}");
        assert!(g.contains("H handshake  T http3  R transfer"), "{g}");
    }
}
