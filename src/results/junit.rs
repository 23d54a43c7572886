//! `junit.xml`: one testsuite per experiment test (and iteration), one testcase per service
//! and per check, so CI systems show what failed and why.

use std::fmt::Write;

use super::model::{RunSummary, TestResult};
use crate::verdict::Verdict;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

fn case(
    out: &mut String,
    class: &str,
    name: &str,
    verdict: Verdict,
    expected_ok: bool,
    reason: &str,
) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        esc(class),
        esc(name)
    );
    match (verdict, expected_ok) {
        (_, true) | (Verdict::Pass, _) => out.push_str("/>\n"),
        (Verdict::Inconclusive, _) => {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                esc(reason)
            );
        }
        (Verdict::Fail, _) => {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"fail\"/>\n    </testcase>",
                esc(reason)
            );
        }
        (Verdict::Error, _) => {
            let _ = writeln!(
                out,
                ">\n      <error message=\"{}\" type=\"error\"/>\n    </testcase>",
                esc(reason)
            );
        }
    }
}

fn suite_name(t: &TestResult) -> String {
    if t.iteration > 1 {
        format!("{} #{}", t.name, t.iteration)
    } else {
        t.name.clone()
    }
}

pub fn render(s: &RunSummary) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" time=\"{:.3}\">",
        esc(&s.experiment),
        s.duration_ms as f64 / 1000.0
    );
    for (i, t) in s.tests.iter().enumerate() {
        let cases: usize = 1 + t.services.iter().map(|x| 1 + x.checks.len()).sum::<usize>();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{cases}\" time=\"{:.3}\">",
            esc(&suite_name(t)),
            t.duration_ms as f64 / 1000.0
        );
        // The test itself: judged against its expectation.
        let reason = if t.met_expectation {
            t.reason.clone()
        } else {
            match t.expected {
                Some(e) => format!("expected {e}, got {}: {}", t.verdict, t.reason),
                None => t.reason.clone(),
            }
        };
        if s.cancelled_test() == Some(i) {
            // Cancelled: an error of its own type, so CI goes red (the test never reached a
            // verdict) and says why (a skip would read as green).
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"verdict\">\n      <error message=\"cancelled: {}\" type=\"cancelled\"/>\n    </testcase>",
                esc(&suite_name(t)),
                esc(&t.reason)
            );
        } else {
            case(
                &mut out,
                &suite_name(t),
                "verdict",
                t.verdict,
                t.met_expectation,
                &reason,
            );
        }
        for svc in &t.services {
            let class = format!("{}.{}", suite_name(t), svc.name);
            case(
                &mut out,
                &class,
                &format!("{} ({})", svc.name, svc.plugin),
                svc.verdict,
                t.met_expectation,
                &svc.reason,
            );
            for c in &svc.checks {
                case(
                    &mut out,
                    &class,
                    &c.property,
                    c.verdict,
                    t.met_expectation,
                    &c.reason,
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
