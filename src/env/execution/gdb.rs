//! The `gdb` parser: the session log gdb writes in batch mode (`set logging file gdb.log`)
//! becomes the crashes it saw, each with every thread's backtrace.
//!
//! The bundled plugin runs `run`, `bt`, `thread apply all bt`, `continue`, `thread apply all
//! bt`: a stop (a fatal signal, or the breakpoint on `rust_panic`, where a Rust panic starts to
//! unwind) prints the stacks, then the program goes on to its own end (a caught panic lets it
//! keep serving). A clean run prints no stop, so it leaves no events.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::valgrind::Frame;
use crate::events::model::{Event, Kind, Level};
use crate::verdict::Verdict;

/// Frames of the top of a crash named in a verdict's reason.
const TOP_FRAMES: usize = 3;

/// Why the program stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stop {
    /// `received signal SIGSEGV, Segmentation fault.`
    Signal { signal: String, description: String },
    /// The breakpoint on `rust_panic`.
    Panic,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub num: u32,
    /// What gdb says of it: `Thread 0x7ffff7cd2f00 (LWP 10312) "panther"`.
    pub what: String,
    pub frames: Vec<Frame>,
}

/// One stop and the stacks printed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    pub stop: Stop,
    /// The thread that stopped (gdb's number), when gdb named it.
    pub thread: Option<u32>,
    pub threads: Vec<Thread>,
}

impl Crash {
    fn headline(&self) -> String {
        match &self.stop {
            Stop::Signal {
                signal,
                description,
            } => format!("{signal} ({description})"),
            Stop::Panic => "Rust panic".to_string(),
        }
    }

    /// The stopped thread's stack (the first printed when gdb did not say which).
    pub fn crashed_thread(&self) -> Option<&Thread> {
        self.thread
            .and_then(|n| self.threads.iter().find(|t| t.num == n))
            .or(self.threads.first())
    }

    /// The top frames of the program's own code: the runtime's panic, abort and signal
    /// machinery (std, core, libc's raise/abort) is skipped.
    pub fn top_frames(&self) -> Vec<&Frame> {
        let Some(t) = self.crashed_thread() else {
            return Vec::new();
        };
        let own: Vec<&Frame> = t.frames.iter().filter(|f| !is_runtime(f)).collect();
        let frames = if own.is_empty() {
            t.frames.iter().collect()
        } else {
            own
        };
        frames.into_iter().take(TOP_FRAMES).collect()
    }

    pub fn reason(&self) -> String {
        let frames: Vec<String> = self.top_frames().iter().map(|f| f.to_string()).collect();
        if frames.is_empty() {
            format!("crashed: {} (no stack)", self.headline())
        } else {
            format!("crashed: {} in {}", self.headline(), frames.join(" ← "))
        }
    }
}

fn is_runtime(f: &Frame) -> bool {
    let name = f.fn_name.as_deref().unwrap_or("");
    const PREFIXES: &[&str] = &[
        "std::",
        "core::",
        "alloc::",
        "__rust",
        "rust_panic",
        "rust_begin_unwind",
        "__GI_",
        "__pthread_kill",
        "pthread_kill",
        "raise",
        "abort",
        "__libc_",
        "__assert",
        "_Unwind",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || f.file.as_deref().is_some_and(|p| p.contains("sysdeps/"))
}

/// Everything in a gdb log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub crashes: Vec<Crash>,
    /// `[Inferior 1 (process N) exited normally]` / `exited with code 0145` (gdb prints it in
    /// octal) / `Program terminated with signal SIGSEGV`.
    pub exit: Option<String>,
}

/// Reads a gdb session log.
pub fn parse_gdb_log(text: &str) -> Session {
    let mut s = Session::default();
    let mut thread: Option<Thread> = None;
    // The stopped thread is printed twice (`bt`, then in `thread apply all bt`): the longer
    // copy is kept.
    let flush = |s: &mut Session, t: &mut Option<Thread>| {
        if let (Some(t), Some(c)) = (t.take(), s.crashes.last_mut()) {
            match c.threads.iter_mut().find(|o| o.num == t.num) {
                Some(o) if o.frames.len() >= t.frames.len() => {
                    if o.what.is_empty() {
                        o.what = t.what;
                    }
                }
                Some(o) => *o = t,
                None => c.threads.push(t),
            }
        }
    };
    for line in text.lines() {
        let l = line.trim_end();
        if let Some(stop) = stop_line(l) {
            flush(&mut s, &mut thread);
            s.crashes.push(stop);
        } else if let Some(t) = thread_header(l) {
            flush(&mut s, &mut thread);
            // Stacks printed after the program ended (`No stack.`) belong to no stop.
            if !s.crashes.is_empty() {
                thread = Some(t);
            }
        } else if let Some(f) = frame_line(l) {
            match thread.as_mut() {
                Some(t) => t.frames.push(f),
                // `bt` without `thread apply all`: one unnamed thread.
                None if !s.crashes.is_empty() => {
                    thread = Some(Thread {
                        num: s.crashes.last().and_then(|c| c.thread).unwrap_or(1),
                        what: String::new(),
                        frames: vec![f],
                    })
                }
                None => {}
            }
        } else if let Some(exit) = exit_line(l) {
            flush(&mut s, &mut thread);
            s.exit = Some(exit);
        }
    }
    flush(&mut s, &mut thread);
    // A stop with no stacks at all (gdb stopped before `bt`) still says what happened.
    s
}

/// `Thread 1 "panther" received signal SIGSEGV, Segmentation fault.`,
/// `Program received signal SIGABRT, Aborted.`, `Thread 1 "x" hit Breakpoint 1, std::panicking::rust_panic () at …`.
fn stop_line(l: &str) -> Option<Crash> {
    let thread = l
        .strip_prefix("Thread ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    if let Some((_, sig)) = l.split_once(" received signal ") {
        let (signal, description) = sig.split_once(", ").unwrap_or((sig, ""));
        return Some(Crash {
            stop: Stop::Signal {
                signal: signal.trim().to_string(),
                description: description.trim_end_matches('.').to_string(),
            },
            thread,
            threads: Vec::new(),
        });
    }
    if l.contains(" hit Breakpoint ") && l.contains("rust_panic") {
        return Some(Crash {
            stop: Stop::Panic,
            thread,
            threads: Vec::new(),
        });
    }
    None
}

/// `Thread 2 (Thread 0x7ffff78e86c0 (LWP 10320) "tracing-appende"):`, `Thread 1 (process 42):`.
fn thread_header(l: &str) -> Option<Thread> {
    let rest = l.strip_prefix("Thread ")?;
    let (num, what) = rest.split_once(" (")?;
    let what = what.strip_suffix("):")?;
    Some(Thread {
        num: num.parse().ok()?,
        what: what.to_string(),
        frames: Vec::new(),
    })
}

/// `#9  panther::…::handle_trusting_length (datagram=...) at src/builtin/minip_server.rs:200`,
/// `#1  0x00005555574e3925 in std::panicking::panic_with_hook () at library/std/src/panicking.rs:850`,
/// `#0  0x00007ffff7d5e0fc in ?? () from /lib/x86_64-linux-gnu/libc.so.6`.
fn frame_line(l: &str) -> Option<Frame> {
    let rest = l.strip_prefix('#')?;
    let (num, rest) = rest.split_once(' ')?;
    num.parse::<u32>().ok()?;
    let mut rest = rest.trim_start();
    let mut ip = None;
    if rest.starts_with("0x")
        && let Some((addr, after)) = rest.split_once(" in ")
    {
        ip = Some(addr.to_string());
        rest = after;
    }
    let name_end = rest.find(" (").unwrap_or(rest.len());
    let name = &rest[..name_end];
    let mut f = Frame {
        ip,
        fn_name: (name != "??").then(|| name.to_string()),
        ..Default::default()
    };
    if let Some(i) = rest.rfind(" at ") {
        let loc = &rest[i + 4..];
        match loc.rsplit_once(':') {
            Some((file, line)) if line.parse::<u32>().is_ok() => {
                f.file = Some(file.to_string());
                f.line = line.parse().ok();
            }
            _ => f.file = Some(loc.to_string()),
        }
    } else if let Some(i) = rest.rfind(" from ") {
        f.obj = Some(rest[i + 6..].to_string());
    }
    Some(f)
}

fn exit_line(l: &str) -> Option<String> {
    if let Some(r) = l.strip_prefix("[Inferior ")
        && let Some((_, what)) = r.split_once(") ")
    {
        let what = what.trim_end_matches(']');
        // gdb prints the exit code in octal.
        if let Some(code) = what.strip_prefix("exited with code ")
            && let Ok(n) = u32::from_str_radix(code, 8)
        {
            return Some(format!("exited with code {n}"));
        }
        return Some(what.to_string());
    }
    l.strip_prefix("Program terminated with signal ")
        .map(|s| format!("terminated by {}", s.trim_end_matches('.')))
}

/// The events of one session: per crash one error event naming the top frames, and one log
/// event per thread with its whole backtrace (`data.frames`).
pub fn session_events(s: &Session, service: &str, file: &str) -> Vec<Event> {
    let mut out = Vec::new();
    for (i, c) in s.crashes.iter().enumerate() {
        let mut e = Event::new(service, Kind::Log, format!("gdb: {}", c.reason()));
        e.level = Some(Level::Error);
        e.data = json!({
            "wrapper": "gdb",
            "file": file,
            "crash": i,
            "stop": c.stop,
            "thread": c.thread,
            "top_frames": c.top_frames(),
            "threads": c.threads.len(),
        });
        out.push(e);
        for t in &c.threads {
            let top = t
                .frames
                .iter()
                .find(|f| !is_runtime(f))
                .or(t.frames.first())
                .map(|f| format!(" at {f}"))
                .unwrap_or_default();
            let mut e = Event::new(
                service,
                Kind::Log,
                format!("gdb: thread {} ({} frames){top}", t.num, t.frames.len()),
            );
            e.level = Some(Level::Info);
            e.data = json!({
                "wrapper": "gdb",
                "file": file,
                "crash": i,
                "thread": t.num,
                "what": t.what,
                "frames": t.frames,
                "stack": t.frames.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
            });
            out.push(e);
        }
    }
    out
}

/// `Error` naming the first crash's top frames when gdb saw one; `None` (no judgement, no
/// noise) for a clean run.
pub fn verdict(s: &Session) -> Option<(Verdict, String)> {
    let first = s.crashes.first()?;
    let more = if s.crashes.len() > 1 {
        format!(" (+{} more stops)", s.crashes.len() - 1)
    } else {
        String::new()
    };
    Some((Verdict::Error, format!("{}{more}", first.reason())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PANIC: &str = "Breakpoint 1 at 0x1f73898: file library/std/src/panicking.rs, line 886.\n\
[New Thread 0x7ffff78e86c0 (LWP 10320)]\n\
\n\
Thread 1 \"panther\" hit Breakpoint 1, std::panicking::rust_panic () at library/std/src/panicking.rs:886\n\
886\tlibrary/std/src/panicking.rs: No such file or directory.\n\
\n\
Thread 2 (Thread 0x7ffff78e86c0 (LWP 10320) \"tracing-appende\"):\n\
#0  syscall () at ../sysdeps/unix/sysv/linux/x86_64/syscall.S:38\n\
#1  0x00005555574e72c7 in std::thread::park () at library/std/src/thread/functions.rs:529\n\
\n\
Thread 1 (Thread 0x7ffff7cd2f00 (LWP 10312) \"panther\"):\n\
#0  std::panicking::rust_panic () at library/std/src/panicking.rs:886\n\
#6  0x000055555750b0d8 in core::slice::index::slice_index_fail () at library/core/src/panic.rs:177\n\
#9  panther::builtin::minip_server::handle_trusting_length (datagram=...) at src/builtin/minip_server.rs:200\n\
#10 0x00005555567d1ba1 in panther::builtin::minip_server::Server::handle (self=0x7fffffffc1b0, datagram=...) at src/builtin/minip_server.rs:135\n\
#11 0x0000555555f4ad6b in panther::builtin::minip_server::serve::{async_fn#0} () at src/builtin/minip_server.rs:272\n\
#12 0x0000555556746e95 in tokio::runtime::block_on () at /root/x.rs:1\n\
[Inferior 1 (process 10312) exited with code 0145]\n\
No stack.\n";

    #[test]
    fn panic_names_the_panicking_function() {
        let s = parse_gdb_log(PANIC);
        assert_eq!(s.crashes.len(), 1);
        let c = &s.crashes[0];
        assert_eq!(c.stop, Stop::Panic);
        assert_eq!(c.thread, Some(1));
        assert_eq!(c.threads.len(), 2);
        assert_eq!(c.crashed_thread().unwrap().frames.len(), 6);
        let top: Vec<String> = c.top_frames().iter().map(|f| f.to_string()).collect();
        assert_eq!(
            top[0],
            "panther::builtin::minip_server::handle_trusting_length (src/builtin/minip_server.rs:200)"
        );
        assert_eq!(top.len(), 3);
        assert_eq!(s.exit.as_deref(), Some("exited with code 101"));
        let (v, why) = verdict(&s).unwrap();
        assert_eq!(v, Verdict::Error);
        assert!(
            why.starts_with(
                "crashed: Rust panic in panther::builtin::minip_server::handle_trusting_length"
            ),
            "{why}"
        );
        let evs = session_events(&s, "srv", "gdb.log");
        assert_eq!(evs.len(), 3, "the crash and two threads");
        assert_eq!(evs[2].data["stack"].as_array().unwrap().len(), 6);
    }

    #[test]
    fn the_stopped_threads_bt_survives_an_interrupted_thread_apply() {
        let log = "Thread 1 \"p\" hit Breakpoint 1, std::panicking::rust_panic () at x.rs:1\n#0  std::panicking::rust_panic () at x.rs:1\n#1  0x1 in app::parse () at src/p.rs:9\n\nThread 2 (Thread 0x7 (LWP 9) \"w\"):\n#0  syscall () at s.S:38\nQuit\n[Inferior 1 (process 6) exited with code 0145]\n";
        let s = parse_gdb_log(log);
        let c = &s.crashes[0];
        assert_eq!(c.threads.len(), 2);
        assert_eq!(c.crashed_thread().unwrap().num, 1);
        assert_eq!(c.reason(), "crashed: Rust panic in app::parse (src/p.rs:9)");
        // Printed again by `thread apply all bt`: one thread, its name kept.
        let twice = format!(
            "{log}\nThread 1 (Thread 0x5 (LWP 6) \"p\"):\n#0  std::panicking::rust_panic () at x.rs:1\n#1  0x1 in app::parse () at src/p.rs:9\n"
        );
        let s = parse_gdb_log(&twice);
        assert_eq!(s.crashes[0].threads.len(), 2);
        assert!(s.crashes[0].threads[0].what.contains("LWP 6"));
    }

    #[test]
    fn signal_and_clean_exit() {
        let log = "Program received signal SIGSEGV, Segmentation fault.\n0x0000555555555131 in main () at c.c:4\n4\t  *p = 1;\n\nThread 1 (process 77):\n#0  0x0000555555555131 in main () at c.c:4\n[Inferior 1 (process 77) exited normally]\n";
        let s = parse_gdb_log(log);
        assert_eq!(
            s.crashes[0].stop,
            Stop::Signal {
                signal: "SIGSEGV".into(),
                description: "Segmentation fault".into()
            }
        );
        assert_eq!(
            s.crashes[0].reason(),
            "crashed: SIGSEGV (Segmentation fault) in main (c.c:4)"
        );
        let clean = parse_gdb_log("[Inferior 1 (process 5) exited normally]\nNo stack.\n");
        assert!(clean.crashes.is_empty());
        assert!(verdict(&clean).is_none());
        assert!(session_events(&clean, "s", "f").is_empty());
    }
}
