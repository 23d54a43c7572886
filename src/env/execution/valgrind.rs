//! The `valgrind` parser: memcheck's XML report (`--xml=yes --xml-file=…`, protocol 4) becomes
//! a list of errors with their stacks, leak totals, the fatal signal if any, and a verdict.
//!
//! A damaged report is still read: cut short (the process was killed with SIGKILL while
//! Valgrind was writing), or mangled by several processes writing one file (a child forked
//! without exec writes its own document into the inherited file; an exec'd child of a forking
//! launcher truncates and rewrites it). Every complete top-level block (`<error>…</error>`,
//! `<fatal_signal>…</fatal_signal>`, `<args>…</args>`, …) counts, and the report says whether
//! the file was well-formed and whether it was cut short.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

/// One stack frame as memcheck prints it. Any part may be missing (no debug info).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obj: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fn_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl std::fmt::Display for Frame {
    /// `main (c.c:8)`, `free (vgpreload_memcheck-amd64-linux.so)`, `0x109199`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self
            .fn_name
            .as_deref()
            .or(self.ip.as_deref())
            .unwrap_or("???");
        match (&self.file, self.line, &self.obj) {
            (Some(file), Some(line), _) => write!(f, "{name} ({file}:{line})"),
            (Some(file), None, _) => write!(f, "{name} ({file})"),
            (None, _, Some(obj)) => {
                let short = obj.rsplit('/').next().unwrap_or(obj);
                write!(f, "{name} ({short})")
            }
            _ => f.write_str(name),
        }
    }
}

/// A note attached to an error (`Address 0x… is 1 bytes inside a block of size 8 free'd`,
/// `Block was alloc'd at`, an uninitialised value's origin) and the stack it refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuxNote {
    pub what: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<Frame>,
}

/// One `<error>` of the report: a memory error, or a leak record (`kind` `Leak_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValgrindError {
    /// `InvalidRead`, `InvalidWrite`, `UninitCondition`, `InvalidFree`, `Leak_DefinitelyLost`, …
    pub kind: String,
    /// `Invalid read of size 1`; for leaks, `16 bytes in 1 blocks are definitely lost in …`.
    pub what: String,
    pub stack: Vec<Frame>,
    /// How many times memcheck saw it (from `<errorcounts>`; 1 for leak records).
    pub count: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aux: Vec<AuxNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaked_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaked_blocks: Option<u64>,
    /// Whether it counts as an error: every non-leak error does, a leak record only when its
    /// kind is in `--errors-for-leak-kinds` (read from the report's own argv).
    pub counts: bool,
}

impl ValgrindError {
    pub fn is_leak(&self) -> bool {
        self.kind.starts_with("Leak_")
    }

    /// `InvalidRead: Invalid read of size 1 at main (c.c:8) ← f (c.c:3)`, top 3 frames.
    pub fn headline(&self) -> String {
        let mut s = format!("{}: {}", self.kind, self.what);
        let frames: Vec<String> = self.stack.iter().take(3).map(|f| f.to_string()).collect();
        if !frames.is_empty() {
            s.push_str(" at ");
            s.push_str(&frames.join(" ← "));
        }
        if self.count > 1 {
            s.push_str(&format!(" (×{})", self.count));
        }
        s
    }
}

/// Bytes and blocks lost, per leak kind, summed over the leak records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakTotal {
    pub bytes: u64,
    pub blocks: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakSummary {
    pub definitely_lost: LeakTotal,
    pub indirectly_lost: LeakTotal,
    pub possibly_lost: LeakTotal,
    pub still_reachable: LeakTotal,
}

impl LeakSummary {
    pub fn is_empty(&self) -> bool {
        *self == LeakSummary::default()
    }
}

/// The signal that ended the program under memcheck (`<fatal_signal>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FatalSignal {
    pub signo: Option<i32>,
    pub signame: String,
    /// `Access not within mapped region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siaddr: Option<String>,
    pub stack: Vec<Frame>,
}

/// Everything one Valgrind XML file says (memcheck's, or helgrind's: the same protocol, with
/// `Race`, `LockOrder`, `UnlockUnlocked`, `Misc` … errors).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemcheckReport {
    /// `<tool>`: `memcheck`, `helgrind`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    pub pid: Option<u32>,
    pub ppid: Option<u32>,
    /// The checked program's argv (`<args><argv>`).
    pub argv: Vec<String>,
    /// Valgrind's own argv (`<args><vargv>`), flags included.
    pub valgrind_argv: Vec<String>,
    /// Memory errors and leak records, in report order.
    pub errors: Vec<ValgrindError>,
    pub leaks: LeakSummary,
    pub fatal_signal: Option<FatalSignal>,
    /// Valgrind reached `<status><state>FINISHED`.
    pub finished: bool,
    /// The file was one well-formed XML document. When not, every complete block was read.
    pub well_formed: bool,
    /// The file ends before `</valgrindoutput>`: Valgrind stopped writing mid-report.
    pub truncated: bool,
}

impl MemcheckReport {
    /// The tool that wrote the report (memcheck when the file does not say).
    pub fn tool_name(&self) -> &str {
        self.tool.as_deref().unwrap_or("memcheck")
    }

    /// The errors that count (see [`ValgrindError::counts`]).
    pub fn counted(&self) -> impl Iterator<Item = &ValgrindError> {
        self.errors.iter().filter(|e| e.counts)
    }

    /// The verdict over this report: [`verdict`] on the errors, and `Inconclusive` when the
    /// report was cut short (or never got going) without showing an error.
    pub fn verdict(&self) -> (Verdict, String) {
        let tool = self.tool_name();
        let (v, reason) = tool_verdict(tool, &self.errors);
        if v == Verdict::Pass && (self.truncated || !self.finished) {
            let why = if self.truncated {
                format!("{tool}'s report was cut short (the program was killed?)")
            } else {
                format!("{tool}'s report has no end (the program did not finish under {tool})")
            };
            return (
                Verdict::Inconclusive,
                format!("{why}; no {} in what was written", findings(tool)),
            );
        }
        (v, reason)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValgrindParseError {
    #[error("the file is empty")]
    Empty,
    #[error("not a Valgrind XML report: {0}")]
    NotValgrind(String),
}

/// What a tool looks for, for reasons: "memory errors", "thread errors".
fn findings(tool: &str) -> &'static str {
    match tool {
        "helgrind" | "drd" => "thread errors",
        _ => "memory errors",
    }
}

/// `Fail` with the first counted error's kind, what and top 3 frames as the reason when any
/// error counts; `Pass` otherwise (memcheck's wording).
pub fn verdict(errors: &[ValgrindError]) -> (Verdict, String) {
    tool_verdict("memcheck", errors)
}

/// [`verdict`] in the words of `tool` (a helgrind race is a thread error).
pub fn tool_verdict(tool: &str, errors: &[ValgrindError]) -> (Verdict, String) {
    let what = findings(tool);
    let counted: Vec<&ValgrindError> = errors.iter().filter(|e| e.counts).collect();
    let Some(first) = counted.first() else {
        let leaks = errors.iter().filter(|e| e.is_leak()).count();
        let reason = if leaks > 0 {
            format!(
                "{tool} found no {what} ({leaks} leak record{} not counted as errors)",
                if leaks == 1 { "" } else { "s" }
            )
        } else {
            format!("{tool} found no {what}")
        };
        return (Verdict::Pass, reason);
    };
    let total: u64 = counted.iter().map(|e| e.count.max(1)).sum();
    let mut reason = format!(
        "{tool}: {} error{} ({} distinct); first: {}",
        total,
        if total == 1 { "" } else { "s" },
        counted.len(),
        first.headline()
    );
    if let Some(a) = first.aux.first() {
        reason.push_str("; ");
        reason.push_str(&a.what);
    }
    (Verdict::Fail, reason)
}

/// Top-level elements read from a damaged file, each on its own.
const BLOCKS: &[&str] = &[
    "tool",
    "error",
    "fatal_signal",
    "errorcounts",
    "status",
    "args",
    "pid",
    "ppid",
];

/// Parses a memcheck XML report, tolerating a truncated or overwritten file.
pub fn parse_memcheck_xml(text: &str) -> Result<MemcheckReport, ValgrindParseError> {
    if text.trim().is_empty() {
        return Err(ValgrindParseError::Empty);
    }
    match roxmltree::Document::parse(text) {
        Ok(doc) => {
            let root = doc.root_element();
            if root.tag_name().name() != "valgrindoutput" {
                return Err(ValgrindParseError::NotValgrind(format!(
                    "the root element is <{}>",
                    root.tag_name().name()
                )));
            }
            let mut b = Builder::default();
            for n in root.children().filter(|n| n.is_element()) {
                b.element(n);
            }
            Ok(b.finish(true, false))
        }
        Err(_) => {
            if !text.contains("<valgrindoutput") && !text.contains("<error>") {
                return Err(ValgrindParseError::NotValgrind(
                    "no <valgrindoutput> element".into(),
                ));
            }
            let mut b = Builder::default();
            for_each_block(text, |block| match roxmltree::Document::parse(block) {
                Ok(doc) => {
                    b.element(doc.root_element());
                    true
                }
                Err(_) => false,
            });
            let truncated = !text.trim_end().ends_with("</valgrindoutput>");
            Ok(b.finish(false, truncated))
        }
    }
}

/// Calls `f` on each complete top-level block of a damaged report, in order. Valgrind writes
/// top-level elements at the start of a line and indents everything inside them, so a block
/// runs from `<name>` at a line start to the next `</name>`. When `f` rejects a block (it
/// spans the seam where a second writer overwrote the file), scanning resumes on the line
/// after the block's start, so the blocks inside it are still found.
fn for_each_block(text: &str, mut f: impl FnMut(&str) -> bool) {
    let mut pos = 0;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        let line = &text[pos..line_end];
        let name = BLOCKS.iter().find(|n| {
            line.strip_prefix('<')
                .and_then(|l| l.strip_prefix(**n))
                .is_some_and(|l| l.starts_with('>'))
        });
        if let Some(name) = name {
            let close = format!("</{name}>");
            // No close: cut off inside this block (a later writer's blocks may still follow).
            if let Some(i) = text[pos..].find(&close) {
                let end = pos + i + close.len();
                if f(&text[pos..end]) {
                    pos = end;
                    continue;
                }
            }
        }
        pos = line_end;
    }
}

#[derive(Default)]
struct Builder {
    report: MemcheckReport,
    counts: HashMap<String, u64>,
}

impl Builder {
    fn element(&mut self, n: roxmltree::Node) {
        let r = &mut self.report;
        match n.tag_name().name() {
            // Several documents in one file: the first one's process is the file's.
            "pid" if r.pid.is_none() => r.pid = text_of(n).parse().ok(),
            "tool" if r.tool.is_none() => r.tool = Some(text_of(n)),
            "ppid" if r.ppid.is_none() => r.ppid = text_of(n).parse().ok(),
            "args" => {
                for part in n.children().filter(|c| c.is_element()) {
                    let list: Vec<String> = part
                        .children()
                        .filter(|c| c.is_element())
                        .map(text_of)
                        .collect();
                    match part.tag_name().name() {
                        "vargv" => r.valgrind_argv = list,
                        "argv" => r.argv = list,
                        _ => {}
                    }
                }
            }
            "status" if child_text(n, "state").as_deref() == Some("FINISHED") => {
                r.finished = true;
            }
            "error" => r.errors.push(error(n)),
            "fatal_signal" => {
                r.fatal_signal = Some(FatalSignal {
                    signo: child_text(n, "signo").and_then(|s| s.parse().ok()),
                    signame: child_text(n, "signame").unwrap_or_default(),
                    event: child_text(n, "event"),
                    siaddr: child_text(n, "siaddr"),
                    stack: n
                        .children()
                        .find(|c| c.has_tag_name("stack"))
                        .map(stack)
                        .unwrap_or_default(),
                });
            }
            "errorcounts" => {
                for pair in n.children().filter(|c| c.has_tag_name("pair")) {
                    if let (Some(u), Some(c)) =
                        (child_text(pair, "unique"), child_text(pair, "count"))
                        && let Ok(c) = c.parse()
                    {
                        self.counts.insert(u, c);
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(mut self, well_formed: bool, truncated: bool) -> MemcheckReport {
        let leak_kinds = errors_for_leak_kinds(&self.report.valgrind_argv);
        for e in &mut self.report.errors {
            if let Some(c) = e.unique.as_ref().and_then(|u| self.counts.get(u)) {
                e.count = *c;
            }
            if e.is_leak() {
                e.counts = leak_kinds.contains(&e.kind.as_str());
                let total = match e.kind.as_str() {
                    "Leak_DefinitelyLost" => &mut self.report.leaks.definitely_lost,
                    "Leak_IndirectlyLost" => &mut self.report.leaks.indirectly_lost,
                    "Leak_PossiblyLost" => &mut self.report.leaks.possibly_lost,
                    "Leak_StillReachable" => &mut self.report.leaks.still_reachable,
                    _ => continue,
                };
                total.bytes += e.leaked_bytes.unwrap_or(0);
                total.blocks += e.leaked_blocks.unwrap_or(0);
            } else {
                e.counts = true;
            }
        }
        self.report.well_formed = well_formed;
        self.report.truncated = truncated;
        self.report
    }
}

/// The leak kinds that count as errors, from `--errors-for-leak-kinds=` in Valgrind's argv
/// (Valgrind's default, `definite,possible`, when absent).
fn errors_for_leak_kinds(vargv: &[String]) -> Vec<&'static str> {
    let spec = vargv
        .iter()
        .rev()
        .find_map(|a| a.strip_prefix("--errors-for-leak-kinds="))
        .unwrap_or("definite,possible");
    let mut out = Vec::new();
    for k in spec.split(',').map(str::trim) {
        match k {
            "all" => {
                return vec![
                    "Leak_DefinitelyLost",
                    "Leak_IndirectlyLost",
                    "Leak_PossiblyLost",
                    "Leak_StillReachable",
                ];
            }
            "none" => return Vec::new(),
            "definite" => out.push("Leak_DefinitelyLost"),
            "indirect" => out.push("Leak_IndirectlyLost"),
            "possible" => out.push("Leak_PossiblyLost"),
            "reachable" => out.push("Leak_StillReachable"),
            _ => {}
        }
    }
    out
}

fn error(n: roxmltree::Node) -> ValgrindError {
    let mut e = ValgrindError {
        count: 1,
        ..Default::default()
    };
    let mut pending_aux: Option<String> = None;
    let mut seen_main_stack = false;
    for c in n.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "unique" => e.unique = Some(text_of(c)),
            "tid" => e.tid = text_of(c).parse().ok(),
            "kind" => e.kind = text_of(c),
            "what" => e.what = text_of(c),
            "xwhat" => {
                e.what = child_text(c, "text").unwrap_or_default();
                e.leaked_bytes = child_text(c, "leakedbytes").and_then(|s| s.parse().ok());
                e.leaked_blocks = child_text(c, "leakedblocks").and_then(|s| s.parse().ok());
            }
            "auxwhat" | "xauxwhat" => {
                if let Some(w) = pending_aux.take() {
                    e.aux.push(AuxNote {
                        what: w,
                        stack: Vec::new(),
                    });
                }
                let w = if c.has_tag_name("xauxwhat") {
                    child_text(c, "text").unwrap_or_default()
                } else {
                    text_of(c)
                };
                pending_aux = Some(w);
            }
            "stack" => {
                if !seen_main_stack {
                    e.stack = stack(c);
                    seen_main_stack = true;
                } else {
                    e.aux.push(AuxNote {
                        what: pending_aux.take().unwrap_or_default(),
                        stack: stack(c),
                    });
                }
            }
            "origin" => {
                e.aux.push(AuxNote {
                    what: child_text(c, "what").unwrap_or_default(),
                    stack: c
                        .children()
                        .find(|s| s.has_tag_name("stack"))
                        .map(stack)
                        .unwrap_or_default(),
                });
            }
            _ => {}
        }
    }
    if let Some(w) = pending_aux {
        e.aux.push(AuxNote {
            what: w,
            stack: Vec::new(),
        });
    }
    e
}

fn stack(n: roxmltree::Node) -> Vec<Frame> {
    n.children()
        .filter(|c| c.has_tag_name("frame"))
        .map(|f| Frame {
            ip: child_text(f, "ip"),
            obj: child_text(f, "obj"),
            fn_name: child_text(f, "fn"),
            dir: child_text(f, "dir"),
            file: child_text(f, "file"),
            line: child_text(f, "line").and_then(|s| s.parse().ok()),
        })
        .collect()
}

fn text_of(n: roxmltree::Node) -> String {
    n.text().unwrap_or("").trim().to_string()
}

fn child_text(n: roxmltree::Node, name: &str) -> Option<String> {
    n.children().find(|c| c.has_tag_name(name)).map(text_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"<?xml version="1.0"?>
<valgrindoutput>
<protocolversion>4</protocolversion>
<pid>7</pid>
<ppid>1</ppid>
<args>
  <vargv>
    <exe>/usr/bin/valgrind.bin</exe>
    <arg>--errors-for-leak-kinds=definite</arg>
  </vargv>
  <argv>
    <exe>./bug</exe>
    <arg>x</arg>
  </argv>
</args>
<status>
  <state>RUNNING</state>
</status>
<error>
  <unique>0x0</unique>
  <tid>1</tid>
  <kind>InvalidWrite</kind>
  <what>Invalid write of size 4</what>
  <stack>
    <frame><ip>0x1</ip><obj>/x/bug</obj><fn>poke</fn><dir>/x</dir><file>b.c</file><line>3</line></frame>
    <frame><ip>0x2</ip><obj>/x/bug</obj><fn>main</fn><dir>/x</dir><file>b.c</file><line>9</line></frame>
    <frame><ip>0x3</ip><obj>/lib/libc.so.6</obj><fn>__libc_start_call_main</fn></frame>
    <frame><ip>0x4</ip><obj>/lib/libc.so.6</obj></frame>
  </stack>
  <auxwhat>Address 0x10 is 0 bytes after a block of size 16 alloc'd</auxwhat>
  <stack>
    <frame><ip>0x5</ip><obj>/vg/vgpreload_memcheck-amd64-linux.so</obj><fn>malloc</fn></frame>
  </stack>
</error>
<error>
  <unique>0x1</unique>
  <tid>1</tid>
  <kind>UninitCondition</kind>
  <what>Conditional jump or move depends on uninitialised value(s)</what>
  <stack><frame><ip>0x6</ip><fn>main</fn><file>b.c</file><line>11</line></frame></stack>
  <auxwhat>Uninitialised value was created by a stack allocation</auxwhat>
  <stack><frame><ip>0x7</ip><fn>main</fn><file>b.c</file><line>8</line></frame></stack>
</error>
<status>
  <state>FINISHED</state>
</status>
<error>
  <unique>0x2</unique>
  <tid>1</tid>
  <kind>Leak_DefinitelyLost</kind>
  <xwhat><text>16 bytes in 1 blocks are definitely lost in loss record 1 of 2</text><leakedbytes>16</leakedbytes><leakedblocks>1</leakedblocks></xwhat>
  <stack><frame><ip>0x8</ip><fn>malloc</fn></frame></stack>
</error>
<error>
  <unique>0x3</unique>
  <tid>1</tid>
  <kind>Leak_PossiblyLost</kind>
  <xwhat><text>8 bytes in 2 blocks are possibly lost in loss record 2 of 2</text><leakedbytes>8</leakedbytes><leakedblocks>2</leakedblocks></xwhat>
  <stack><frame><ip>0x9</ip><fn>malloc</fn></frame></stack>
</error>
<errorcounts>
  <pair><count>5</count><unique>0x0</unique></pair>
  <pair><count>1</count><unique>0x1</unique></pair>
</errorcounts>
</valgrindoutput>
"#;

    #[test]
    fn parses_errors_stacks_counts_and_leaks() {
        let r = parse_memcheck_xml(ONE).unwrap();
        assert_eq!(r.pid, Some(7));
        assert_eq!(r.ppid, Some(1));
        assert_eq!(r.argv, ["./bug", "x"]);
        assert!(r.finished);
        assert!(r.well_formed && !r.truncated);
        assert_eq!(r.errors.len(), 4);
        let e = &r.errors[0];
        assert_eq!(e.kind, "InvalidWrite");
        assert_eq!(e.what, "Invalid write of size 4");
        assert_eq!(e.count, 5);
        assert_eq!(e.stack.len(), 4);
        assert_eq!(e.stack[0].fn_name.as_deref(), Some("poke"));
        assert_eq!(e.stack[0].file.as_deref(), Some("b.c"));
        assert_eq!(e.stack[0].line, Some(3));
        assert_eq!(e.stack[3].to_string(), "0x4 (libc.so.6)");
        assert_eq!(e.aux.len(), 1);
        assert_eq!(e.aux[0].stack[0].fn_name.as_deref(), Some("malloc"));
        assert!(e.counts);
        assert_eq!(
            r.errors[1].aux[0].what,
            "Uninitialised value was created by a stack allocation"
        );
        // --errors-for-leak-kinds=definite: the definite leak counts, the possible one not.
        assert!(r.errors[2].counts);
        assert!(!r.errors[3].counts);
        assert_eq!(
            r.leaks.definitely_lost,
            LeakTotal {
                bytes: 16,
                blocks: 1
            }
        );
        assert_eq!(
            r.leaks.possibly_lost,
            LeakTotal {
                bytes: 8,
                blocks: 2
            }
        );
    }

    #[test]
    fn verdict_names_the_first_error_and_three_frames() {
        let r = parse_memcheck_xml(ONE).unwrap();
        let (v, reason) = r.verdict();
        assert_eq!(v, Verdict::Fail);
        assert!(
            reason.contains("InvalidWrite: Invalid write of size 4"),
            "{reason}"
        );
        assert!(
            reason.contains("poke (b.c:3) ← main (b.c:9) ← __libc_start_call_main (libc.so.6)"),
            "{reason}"
        );
        assert!(!reason.contains("0x4"), "only three frames: {reason}");
        assert!(reason.contains("7 errors (3 distinct)"), "{reason}");
    }

    #[test]
    fn no_counted_errors_pass() {
        assert_eq!(verdict(&[]).0, Verdict::Pass);
        let leak = ValgrindError {
            kind: "Leak_DefinitelyLost".into(),
            counts: false,
            ..Default::default()
        };
        let (v, reason) = verdict(&[leak]);
        assert_eq!(v, Verdict::Pass);
        assert!(reason.contains("1 leak record not counted"), "{reason}");
    }

    #[test]
    fn default_and_none_leak_kinds() {
        let argv = |s: &str| vec![s.to_string()];
        assert_eq!(
            errors_for_leak_kinds(&[]),
            ["Leak_DefinitelyLost", "Leak_PossiblyLost"]
        );
        assert!(errors_for_leak_kinds(&argv("--errors-for-leak-kinds=none")).is_empty());
        assert_eq!(
            errors_for_leak_kinds(&argv("--errors-for-leak-kinds=all")).len(),
            4
        );
    }

    #[test]
    fn truncated_report_keeps_complete_errors() {
        let cut = ONE.find("<kind>UninitCondition").unwrap();
        let r = parse_memcheck_xml(&ONE[..cut]).unwrap();
        assert!(r.truncated && !r.well_formed);
        assert!(!r.finished);
        assert_eq!(r.pid, Some(7));
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].kind, "InvalidWrite");
        assert_eq!(r.errors[0].count, 1, "no errorcounts were written");
        assert_eq!(r.verdict().0, Verdict::Fail);

        // Cut before any error: nothing wrong seen, but nothing proven either.
        let cut = ONE.find("<error>").unwrap() + 10;
        let r = parse_memcheck_xml(&ONE[..cut]).unwrap();
        assert!(r.errors.is_empty());
        assert_eq!(r.verdict().0, Verdict::Inconclusive);
    }

    #[test]
    fn empty_and_foreign_files() {
        assert_eq!(parse_memcheck_xml(" \n"), Err(ValgrindParseError::Empty));
        assert!(matches!(
            parse_memcheck_xml("<html></html>"),
            Err(ValgrindParseError::NotValgrind(_))
        ));
        assert!(matches!(
            parse_memcheck_xml("==123== Memcheck, a memory error detector"),
            Err(ValgrindParseError::NotValgrind(_))
        ));
    }

    #[test]
    fn fatal_signal() {
        let xml = "<valgrindoutput>\n<fatal_signal>\n  <tid>1</tid>\n  <signo>11</signo>\n  <signame>SIGSEGV</signame>\n  <sicode>1</sicode>\n  <event>Access not within mapped region</event>\n  <siaddr>0x0</siaddr>\n  <stack><frame><ip>0x1</ip><fn>main</fn><file>l.c</file><line>10</line></frame></stack>\n</fatal_signal>\n</valgrindoutput>\n";
        let r = parse_memcheck_xml(xml).unwrap();
        let f = r.fatal_signal.unwrap();
        assert_eq!(f.signo, Some(11));
        assert_eq!(f.signame, "SIGSEGV");
        assert_eq!(f.event.as_deref(), Some("Access not within mapped region"));
        assert_eq!(f.stack[0].to_string(), "main (l.c:10)");
    }
}
