//! `report.md`: the run for people: verdicts per test, service and check, with reasons; and
//! what execution environments found: the stretch of timeouts, profiles (top functions) and
//! stacks (crashes, races). The workbench's runs screen shows this file in its detail pane.

use std::fmt::Write;

use super::model::{RunSummary, ServiceResult};
use crate::env::execution::profile::Profile;

/// Rows of each profile ranking in the report.
const PROFILE_ROWS: usize = 10;
/// Frames of each stack in the report.
const STACK_FRAMES: usize = 12;

pub fn render(s: &RunSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", s.experiment);
    let _ = writeln!(
        o,
        "Started {} · {:.1} s · verdict **{}** · {} · {} events{}\n",
        s.started_at,
        s.duration_ms as f64 / 1000.0,
        s.outcome(),
        if s.ok {
            "all expectations met"
        } else {
            "expectations NOT met"
        },
        s.events,
        if s.interrupted {
            " · stopped before its end"
        } else {
            ""
        }
    );
    o.push_str("| Test | Verdict | Expected | Reason |\n|---|---|---|---|\n");
    for (i, t) in s.tests.iter().enumerate() {
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
            s.test_outcome(i),
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
            wrapper_findings(&mut o, svc);
        }
        let _ = writeln!(o, "\nLogs: `{}/`", t.dir);
    }
    o
}

/// A service's stretch, profiles and stacks, under its line.
fn wrapper_findings(o: &mut String, svc: &ServiceResult) {
    if let Some(st) = &svc.stretch {
        let params: Vec<String> = st
            .parameters
            .iter()
            .map(|p| format!("`{}` {} → {}", p.parameter, p.from, p.to))
            .collect();
        let params = if params.is_empty() {
            String::new()
        } else {
            format!("; {}", params.join(", "))
        };
        let _ = writeln!(
            o,
            "  - timeouts stretched {} for slow execution environments (readiness, test timeout{params})",
            st.describe()
        );
    }
    for p in &svc.profiles {
        profile_table(o, p);
    }
    for s in &svc.stacks {
        let _ = writeln!(
            o,
            "  - {} stack: {}",
            s.wrapper,
            s.title.replace('|', "\\|")
        );
        for (i, f) in s.frames.iter().take(STACK_FRAMES).enumerate() {
            let _ = writeln!(o, "    {i:>2}. {f}");
        }
        if s.frames.len() > STACK_FRAMES {
            let _ = writeln!(o, "    … {} more frames", s.frames.len() - STACK_FRAMES);
        }
    }
}

fn profile_table(o: &mut String, p: &Profile) {
    let total = if p.unit == "bytes" {
        format!("{} B in use", p.total as u64)
    } else {
        format!("{} samples", p.total as u64)
    };
    let event = p
        .event
        .as_ref()
        .map(|e| format!(" of `{e}`"))
        .unwrap_or_default();
    let file = std::path::Path::new(&p.file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let note = p
        .note
        .as_ref()
        .map(|n| format!("; {n}"))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "  - {} profile (`{file}`, {total}{event}{note}), top functions:\n",
        p.tool
    );
    let _ = writeln!(o, "    | Function | Self | Cumulative |\n    |---|---|---|");
    let mut shown: Vec<&str> = Vec::new();
    for e in p.by_self.iter().take(PROFILE_ROWS) {
        shown.push(&e.function);
        let _ = writeln!(
            o,
            "    | `{}` | {:.1}% | {:.1}% |",
            e.function.replace('|', "\\|"),
            e.self_pct,
            e.cum_pct
        );
    }
    // The callers that hold most of the time, when the top self entries did not show them.
    for e in p
        .by_cumulative
        .iter()
        .filter(|e| !shown.contains(&e.function.as_str()))
        .take(PROFILE_ROWS / 2)
    {
        let _ = writeln!(
            o,
            "    | `{}` (caller) | {:.1}% | {:.1}% |",
            e.function.replace('|', "\\|"),
            e.self_pct,
            e.cum_pct
        );
    }
    o.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::execution::Stack;
    use crate::env::execution::profile::parse_pprof_text;
    use crate::env::execution::stretch::Stretch;
    use crate::results::model::TestResult;
    use crate::verdict::Verdict;

    #[test]
    fn profiles_stacks_and_stretch_under_their_service() {
        let profile = parse_pprof_text(
            "Total: 10 samples\n       6  60.0%  60.0%        6  60.0% app::parse\n       0   0.0%  60.0%       10 100.0% main\n",
            "gperf_cpu",
            "/r/t/server/artifacts/cpu.prof",
        )
        .unwrap();
        let svc = ServiceResult {
            name: "server".into(),
            plugin: "ping_pong".into(),
            kind: "iut".into(),
            role: "server".into(),
            verdict: Verdict::Error,
            reason: "IUT crashed".into(),
            exit: None,
            checks: Vec::new(),
            evidence: Vec::new(),
            stretch: Some(Stretch::of([("gdb", 2.0)])),
            profiles: vec![profile],
            stacks: vec![Stack {
                wrapper: "gdb".into(),
                title: "crashed: SIGSEGV (Segmentation fault) in app::parse (p.c:3)".into(),
                frames: (0..15).map(|i| format!("f{i} (p.c:{i})")).collect(),
            }],
        };
        let s = RunSummary {
            schema_version: 1,
            panther_version: "0".into(),
            experiment: "e".into(),
            config: "e.yaml".into(),
            started_at: "now".into(),
            duration_ms: 1,
            verdict: Verdict::Error,
            ok: false,
            interrupted: false,
            events: 1,
            tests: vec![TestResult {
                name: "t".into(),
                iteration: 1,
                verdict: Verdict::Error,
                expected: None,
                met_expectation: false,
                reason: "r".into(),
                duration_ms: 1,
                dir: "t".into(),
                services: vec![svc],
            }],
        };
        let md = render(&s);
        assert!(md.contains("  - timeouts stretched ×2 (gdb ×2)"), "{md}");
        assert!(
            md.contains("  - gperf_cpu profile (`cpu.prof`, 10 samples), top functions:"),
            "{md}"
        );
        assert!(md.contains("    | `app::parse` | 60.0% | 60.0% |"), "{md}");
        assert!(md.contains("    | `main` | 0.0% | 100.0% |"), "{md}");
        assert!(md.contains("  - gdb stack: crashed: SIGSEGV"), "{md}");
        assert!(md.contains("    11. f11 (p.c:11)"), "{md}");
        assert!(!md.contains("f12 (p.c:12)"), "12 frames shown");
        assert!(md.contains("    … 3 more frames"), "{md}");
        assert!(!md.contains("/r/t/server"), "no absolute path: {md}");
    }
}
