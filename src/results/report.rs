//! `report.md`: the run for people: verdicts per test, service and check, with reasons.

use std::fmt::Write;

use super::model::RunSummary;

pub fn render(s: &RunSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", s.experiment);
    let _ = writeln!(
        o,
        "Started {} · {:.1} s · verdict **{}** · {} · {} events{}\n",
        s.started_at,
        s.duration_ms as f64 / 1000.0,
        s.verdict,
        if s.ok {
            "all expectations met"
        } else {
            "expectations NOT met"
        },
        s.events,
        if s.interrupted { " · interrupted" } else { "" }
    );
    o.push_str("| Test | Verdict | Expected | Reason |\n|---|---|---|---|\n");
    for t in &s.tests {
        let name = if t.iteration > 1 {
            format!("{} #{}", t.name, t.iteration)
        } else {
            t.name.clone()
        };
        let exp = t
            .expected
            .map(|e| e.to_string())
            .unwrap_or_else(|| "pass".into());
        let mark = if t.met_expectation { "" } else { " ✗" };
        let _ = writeln!(
            o,
            "| {} | {}{mark} | {} | {} |",
            name,
            t.verdict,
            exp,
            t.reason.replace('|', "\\|")
        );
    }
    for t in &s.tests {
        let _ = writeln!(o, "\n## {} (iteration {})\n", t.name, t.iteration);
        for svc in &t.services {
            let exit = svc
                .exit
                .as_deref()
                .map(|e| format!(", {e}"))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "- **{}** ({} `{}`, {}{exit}): {}: {}",
                svc.name, svc.kind, svc.plugin, svc.role, svc.verdict, svc.reason
            );
            for c in &svc.checks {
                let r = c
                    .reference
                    .as_deref()
                    .map(|r| format!(" [{r}]"))
                    .unwrap_or_default();
                let _ = writeln!(o, "  - `{}`: {}: {}{r}", c.property, c.verdict, c.reason);
            }
        }
        let _ = writeln!(o, "\nLogs: `{}/`", t.dir);
    }
    o
}
