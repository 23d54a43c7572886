//! The `strace` parser: system-call traces written by `strace -f -tt -o FILE` (the strace
//! plugin's prefix) become events on the service's timeline.
//!
//! Accepted line shapes (strace 6.x; `-f` with `-o` puts the pid in a column, `-f` to stderr
//! writes `[pid N]`, `-ff -o` writes one file per pid without either):
//!
//! ```text
//! 14843 10:25:47.970858 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3
//! [pid 14884] 10:25:47.972102 recvfrom(3,  <unfinished ...>
//! 14884 10:25:47.972511 <... recvfrom resumed>"PING hello", 2048, 0, {…}, [16]) = 10
//! 14843 10:25:47.972354 connect(4, {…}, 16) = -1 ECONNREFUSED (Connection refused)
//! 15357 10:26:26.585652 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, …} ---
//! 15365 10:26:26.616329 +++ killed by SIGSEGV +++
//! 14843 10:25:47.977354 +++ exited with 0 +++
//! ```
//!
//! Time stamps may be `-t`/`-tt` (time of day, local time) or `-ttt` (seconds since the epoch);
//! `-yy` fd decorations (`3<UDP:[127.0.0.1:5000]>`) are understood and make socket fds and
//! peers known without guessing. `-T` durations (`<0.000012>`) are kept.
//!
//! Syscalls become [`Kind::Log`] events at debug level (warn for errors such as
//! `ECONNREFUSED`); exits become [`Kind::Lifecycle`] events; signals other than `SIGCHLD`
//! become log events. Events carry `t = 0` (stamped when emitted); the syscall's own time is in
//! `data.time` as printed, plus `data.tod_us` (µs since local midnight) or `data.epoch_us`.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::events::model::{Event, Kind, Level};

/// Which syscalls become events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Socket syscalls, plus read/write/close on fds known to be sockets.
    #[default]
    Network,
    /// Every syscall in the trace.
    All,
}

/// Socket syscalls (strace's `%network` class, and the socketcall multiplexer).
pub const NETWORK_SYSCALLS: &[&str] = &[
    "socket",
    "socketpair",
    "bind",
    "connect",
    "listen",
    "accept",
    "accept4",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "send",
    "recv",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "socketcall",
];

/// Syscalls that move data on an fd: shown when the fd is a socket.
const FD_IO_SYSCALLS: &[&str] = &[
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "close",
    "splice",
    "sendfile",
    "sendfile64",
];

/// Syscalls whose returned fd is not a socket (so a reused fd number stops being one).
const FD_RETURNING: &[&str] = &[
    "open",
    "openat",
    "openat2",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "eventfd",
    "eventfd2",
    "epoll_create",
    "epoll_create1",
    "timerfd_create",
    "signalfd",
    "signalfd4",
    "memfd_create",
    "inotify_init",
    "inotify_init1",
    "fanotify_init",
    "pidfd_open",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
];

const SENDS: &[&str] = &[
    "sendto", "sendmsg", "sendmmsg", "send", "write", "writev", "pwrite64",
];
const RECVS: &[&str] = &[
    "recvfrom", "recvmsg", "recvmmsg", "recv", "read", "readv", "pread64",
];

/// Errors that say something about the exchange (a refused connection, a reset), as opposed to
/// routine ones on non-blocking sockets (`EAGAIN`, `EINPROGRESS`, `EINTR`).
const NOTABLE_ERRNOS: &[&str] = &[
    "ECONNREFUSED",
    "ECONNRESET",
    "ECONNABORTED",
    "EPIPE",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "ENETDOWN",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EACCES",
    "EPERM",
    "EMSGSIZE",
    "ETIMEDOUT",
    "EBADF",
    "ENOTSOCK",
    "EAFNOSUPPORT",
    "EPROTONOSUPPORT",
];

static PID_BRACKET: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\[pid\s+(\d+)\]\s*").unwrap());
static PID_COLUMN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\d+)\s+").unwrap());
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?|(\d{6,})\.(\d{1,9}))\s+").unwrap()
});
static EXITED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+\+\+ exited with (-?\d+) \+\+\+").unwrap());
static KILLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\+\+\+ killed by (SIG[A-Z0-9+\-]+|\d+)( \(core dumped\))? \+\+\+").unwrap()
});
static SIGNAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^--- (SIG[A-Z0-9+\-]+|\d+) (.*) ---$").unwrap());
static RESUMED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^<\.\.\. ([A-Za-z0-9_]+) resumed>\s?(.*)$").unwrap());
static CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z_][A-Za-z0-9_]*)\(").unwrap());
static RET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^=\s+(\S+(?:<[^>]*>)?)(?:\s+([A-Z][A-Z0-9_]+))?(?:\s+\(([^)]*)\))?(?:\s+(\[[^\]]*\]|\{[^}]*\}))?(?:\s+<(\d+\.\d+)>)?",
    )
    .unwrap()
});
static INET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]*)"\)"#).unwrap()
});
static INET6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]*)""#).unwrap()
});
static UNIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"sa_family=AF_UNIX, sun_path=(@?"[^"]*")"#).unwrap());
static PAIR_FD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:\[|,\s*)(\d+)").unwrap());
static FD_DECOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(-?\d+)(?:<(.*)>)?$").unwrap());

/// A syscall line whose end has not been seen yet (`<unfinished ...>`).
#[derive(Debug, Clone)]
struct Pending {
    name: String,
    head: String,
    time: Option<String>,
}

/// A parsed time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// `-t`/`-tt`: microseconds since local midnight.
    TimeOfDay(u64),
    /// `-ttt`: microseconds since the Unix epoch.
    Epoch(u64),
}

/// A streaming parser for live tailing: feed it lines, get events. Keeps the state that spans
/// lines: unfinished syscalls per pid, the fds known to be sockets, the main pid.
#[derive(Debug, Clone)]
pub struct StraceParser {
    service: String,
    filter: Filter,
    default_pid: Option<u32>,
    main_pid: Option<u32>,
    pending: HashMap<u32, Pending>,
    sockets: HashSet<i64>,
    last_stamp: Option<Stamp>,
}

impl StraceParser {
    /// A parser for `service`'s trace, keeping network syscalls.
    pub fn new(service: &str) -> Self {
        StraceParser {
            service: service.to_string(),
            filter: Filter::Network,
            default_pid: None,
            main_pid: None,
            pending: HashMap::new(),
            sockets: HashSet::new(),
            last_stamp: None,
        }
    }

    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// The pid of lines that carry none (a `-ff` file `strace.log.<pid>`, or strace's single
    /// process on stderr).
    pub fn with_default_pid(mut self, pid: u32) -> Self {
        self.default_pid = Some(pid);
        self
    }

    /// The time stamp of the last line seen, event or not.
    pub fn last_stamp(&self) -> Option<Stamp> {
        self.last_stamp
    }

    /// The first pid seen: the wrapped program itself.
    pub fn main_pid(&self) -> Option<u32> {
        self.main_pid
    }

    /// One complete line of the trace (with or without its newline; a live tailer must hold
    /// back a last line that has no newline yet). `None` for lines that make no event: other
    /// syscalls, the first half of an unfinished call, strace's own notes.
    pub fn line(&mut self, line: &str) -> Option<Event> {
        let line = line.trim_end_matches(['\n', '\r']);
        let (pid, rest) = split_pid(line);
        let pid = pid.or(self.default_pid);
        let (time, body) = split_time(rest);
        let body = body.trim_end();
        if body.is_empty() {
            return None;
        }
        if let Some(st) = time.and_then(parse_stamp) {
            self.last_stamp = Some(st);
        }
        let pid_key = pid.unwrap_or(0);
        if let Some(p) = pid
            && self.main_pid.is_none()
        {
            self.main_pid = Some(p);
        }

        if body.starts_with("+++") {
            return self.exit_event(pid, time, body);
        }
        if body.starts_with("---") {
            return self.signal_event(pid, time, body);
        }
        if let Some(c) = RESUMED.captures(body) {
            let name = c[1].to_string();
            let rest = c.get(2).map_or("", |m| m.as_str());
            // On stderr, strace drops the `[pid N]` prefix while it traces one process, so a
            // call may start unprefixed and resume prefixed.
            let pending = match self.pending.remove(&pid_key) {
                None if pid_key != 0 && self.pending.get(&0).is_some_and(|p| p.name == name) => {
                    self.pending.remove(&0)
                }
                p => p,
            };
            let (head, started) = match pending {
                Some(p) if p.name == name => (p.head, p.time),
                // A resumed call whose start we never saw (tailing began mid-call).
                Some(_) | None => (String::new(), None),
            };
            // Killed mid-call: `<... recvfrom resumed> <unfinished ...>) = ?`.
            let rest = rest
                .trim_start()
                .strip_prefix("<unfinished ...>")
                .unwrap_or(rest);
            let joined = format!("{name}({head}{rest}");
            return self.call_event(pid, time, started, &joined);
        }
        if let Some(head) = body.strip_suffix("<unfinished ...>") {
            let c = CALL.captures(head)?;
            let name = c[1].to_string();
            let args = head[c.get(0).unwrap().end()..].trim_end_matches(' ');
            // strace writes `recvfrom(3, ` + ` <unfinished ...>`: keep the `, `.
            let args = if args.ends_with(',') {
                format!("{args} ")
            } else {
                args.to_string()
            };
            self.pending.insert(
                pid_key,
                Pending {
                    name,
                    head: args,
                    time: time.map(str::to_string),
                },
            );
            return None;
        }
        if CALL.is_match(body) {
            return self.call_event(pid, time, None, body);
        }
        None
    }

    /// The calls left unfinished when the trace ended (the process died, or strace was
    /// killed, mid-call): one event each, with `ret` `?` and `data.unfinished = true`.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut pending: Vec<(u32, Pending)> = self.pending.drain().collect();
        pending.sort_by(|a, b| a.1.time.cmp(&b.1.time).then(a.0.cmp(&b.0)));
        let mut out = Vec::new();
        for (pid, p) in pending {
            let pid = (pid != 0).then_some(pid);
            let joined = format!("{}({}) = ?", p.name, p.head.trim_end_matches([',', ' ']));
            if let Some(mut e) = self.call_event(pid, p.time.as_deref(), None, &joined)
                && let Some(d) = e.data.as_object_mut()
            {
                d.insert("unfinished".into(), Value::Bool(true));
                out.push(e);
            }
        }
        out
    }

    fn base_data(&self, pid: Option<u32>, time: Option<&str>) -> Map<String, Value> {
        let mut d = Map::new();
        d.insert("wrapper".into(), json!("strace"));
        if let Some(p) = pid {
            d.insert("pid".into(), json!(p));
        }
        if let Some(t) = time {
            d.insert("time".into(), json!(t));
            match parse_stamp(t) {
                Some(Stamp::TimeOfDay(us)) => {
                    d.insert("tod_us".into(), json!(us));
                }
                Some(Stamp::Epoch(us)) => {
                    d.insert("epoch_us".into(), json!(us));
                }
                None => {}
            }
        }
        d
    }

    fn exit_event(&mut self, pid: Option<u32>, time: Option<&str>, body: &str) -> Option<Event> {
        let main = pid.is_none() || pid == self.main_pid;
        let who = pid.map_or_else(|| "process".to_string(), |p| format!("pid {p}"));
        let mut d = self.base_data(pid, time);
        d.insert("main".into(), json!(main));
        let (text, level) = if let Some(c) = EXITED.captures(body) {
            let code: i64 = c[1].parse().ok()?;
            d.insert("exit_code".into(), json!(code));
            let level = match (code, main) {
                (0, true) => Level::Info,
                (0, false) => Level::Debug,
                _ => Level::Warn,
            };
            (format!("{who} exited with {code}"), level)
        } else if let Some(c) = KILLED.captures(body) {
            let sig = c[1].to_string();
            let core = c.get(2).is_some();
            d.insert("signal".into(), json!(sig));
            d.insert("core_dumped".into(), json!(core));
            let level = if is_crash_signal(&sig) || core {
                Level::Error
            } else {
                Level::Warn
            };
            let core = if core { " (core dumped)" } else { "" };
            (format!("{who} killed by {sig}{core}"), level)
        } else {
            return None;
        };
        if let Some(p) = pid {
            self.pending.remove(&p);
        }
        let mut e = Event::new(self.service.clone(), Kind::Lifecycle, text);
        e.level = Some(level);
        e.data = Value::Object(d);
        Some(e)
    }

    fn signal_event(&mut self, pid: Option<u32>, time: Option<&str>, body: &str) -> Option<Event> {
        let c = SIGNAL.captures(body)?;
        let sig = c[1].to_string();
        if sig == "SIGCHLD" {
            return None;
        }
        let info = c[2].to_string();
        let who = pid.map_or_else(|| "process".to_string(), |p| format!("pid {p}"));
        let mut d = self.base_data(pid, time);
        d.insert("signal".into(), json!(sig));
        d.insert("siginfo".into(), json!(info));
        let level = if is_crash_signal(&sig) {
            Level::Warn
        } else {
            Level::Debug
        };
        let mut e = Event::new(
            self.service.clone(),
            Kind::Log,
            format!("{who} received {sig}"),
        );
        e.level = Some(level);
        e.data = Value::Object(d);
        Some(e)
    }

    fn call_event(
        &mut self,
        pid: Option<u32>,
        time: Option<&str>,
        started: Option<String>,
        body: &str,
    ) -> Option<Event> {
        let call = parse_call(body)?;
        let name = call.name.as_str();
        let fd = call.args.first().and_then(|a| parse_fd(a));
        let ret_fd = parse_fd(&call.ret);

        // Keep the socket-fd table current before deciding what to show.
        let fd_is_socket = match &fd {
            Some((n, Some(decor))) => {
                let s = is_socket_decor(decor);
                if s {
                    self.sockets.insert(*n);
                }
                s
            }
            Some((n, None)) => self.sockets.contains(n),
            None => false,
        };
        match name {
            "socket" | "accept" | "accept4" => {
                if let Some((n, _)) = ret_fd
                    && n >= 0
                {
                    self.sockets.insert(n);
                }
            }
            "socketpair" => {
                if call.ret == "0"
                    && let Some(pair) = call.args.get(3)
                {
                    for c in PAIR_FD.captures_iter(pair) {
                        if let Ok(n) = c[1].parse() {
                            self.sockets.insert(n);
                        }
                    }
                }
            }
            _ if FD_RETURNING.contains(&name) => {
                if let Some((n, decor)) = &ret_fd {
                    if decor.as_deref().is_some_and(is_socket_decor) {
                        self.sockets.insert(*n);
                    } else {
                        self.sockets.remove(n);
                    }
                }
            }
            _ => {}
        }
        let is_close = name == "close";
        if is_close && let Some((n, _)) = &fd {
            self.sockets.remove(n);
        }

        let shown = match self.filter {
            Filter::All => true,
            Filter::Network => {
                NETWORK_SYSCALLS.contains(&name) || (FD_IO_SYSCALLS.contains(&name) && fd_is_socket)
            }
        };
        if !shown {
            return None;
        }

        let mut d = self.base_data(pid, time);
        d.insert("syscall".into(), json!(name));
        d.insert("args".into(), json!(call.args));
        let ret_num: Option<i64> = ret_number(&call.ret);
        d.insert(
            "ret".into(),
            ret_num.map_or_else(|| json!(call.ret), |n| json!(n)),
        );
        d.insert("errno".into(), json!(call.errno));
        if let Some(m) = &call.errno_text {
            d.insert("errno_text".into(), json!(m));
        }
        if let Some(dur) = &call.duration {
            d.insert("duration_s".into(), json!(dur.parse::<f64>().ok()));
        }
        if let Some(s) = &started
            && Some(s.as_str()) != time
        {
            d.insert("started".into(), json!(s));
        }
        if let Some((n, decor)) = &fd {
            d.insert("fd".into(), json!(n));
            if let Some(decor) = decor {
                d.insert("fd_info".into(), json!(decor));
            }
        }

        // Bytes moved, and the peer.
        let is_send = SENDS.contains(&name);
        let is_recv = RECVS.contains(&name);
        let mut bytes: Option<i64> = None;
        if is_send || is_recv {
            bytes = match ret_num {
                Some(n) if n >= 0 && call.errno.is_none() => Some(n),
                // A failed send still says how much it tried.
                _ if is_send => call.args.get(2).and_then(|a| a.parse().ok()),
                _ => None,
            };
            if name.ends_with("mmsg") {
                // sendmmsg/recvmmsg return a message count, not bytes.
                bytes = None;
                if let Some(n) = ret_num.filter(|n| *n >= 0) {
                    d.insert("messages".into(), json!(n));
                }
            }
        }
        if let Some(b) = bytes {
            d.insert("bytes".into(), json!(b));
        }
        let addr_args: &[String] = match name {
            "connect" | "bind" | "sendto" | "recvfrom" | "sendmsg" | "recvmsg" | "accept"
            | "accept4" => &call.args[1.min(call.args.len())..],
            _ => &[],
        };
        let mut peer = addr_args.iter().find_map(|a| sockaddr(a));
        if peer.is_none()
            && (is_send || is_recv || name == "shutdown")
            && let Some((_, Some(decor))) = &fd
        {
            peer = decor_peer(decor);
        }
        let peer_key = if name == "bind" { "local" } else { "peer" };
        if let Some(p) = &peer {
            d.insert(peer_key.into(), json!(p));
        }

        let text = summary(&call, fd.as_ref(), bytes, peer.as_deref(), is_send, is_recv);
        let level = match &call.errno {
            Some(e) if NOTABLE_ERRNOS.contains(&e.as_str()) => Level::Warn,
            _ => Level::Debug,
        };
        let mut e = Event::new(self.service.clone(), Kind::Log, text);
        e.level = Some(level);
        e.data = Value::Object(d);
        Some(e)
    }
}

/// Parses a whole trace (the `strace.log` of a finished run), network syscalls only.
pub fn parse_strace(text: &str, service: &str) -> Vec<Event> {
    let mut p = StraceParser::new(service);
    let mut out: Vec<Event> = text.lines().filter_map(|l| p.line(l)).collect();
    out.extend(p.finish());
    out
}

const DAY_US: i64 = 86_400_000_000;

/// The moment (µs since the epoch) of the local time of day `tod_us`, on the day that puts it
/// nearest `near_epoch_us` (so a trace across midnight still lines up). `utc_offset_s` is
/// local time minus UTC.
pub fn tod_to_epoch_us(tod_us: u64, utc_offset_s: i64, near_epoch_us: u64) -> u64 {
    let local_near = near_epoch_us as i64 + utc_offset_s * 1_000_000;
    let mut local = local_near - local_near.rem_euclid(DAY_US) + tod_us as i64;
    if local - local_near > DAY_US / 2 {
        local -= DAY_US;
    } else if local_near - local > DAY_US / 2 {
        local += DAY_US;
    }
    (local - utc_offset_s * 1_000_000).max(0) as u64
}

/// The local-time offset (seconds, a multiple of 15 minutes) implied by a time of day
/// `tod_us` written at about the moment `at_epoch_us`: the last stamp of a trace and the
/// trace file's modification time. Good while they are within 7 minutes of each other.
pub fn utc_offset_near(tod_us: u64, at_epoch_us: u64) -> i64 {
    const QUARTER_US: i64 = 15 * 60 * 1_000_000;
    let mut diff = (tod_us as i64 - at_epoch_us as i64).rem_euclid(DAY_US);
    if diff > DAY_US / 2 {
        diff -= DAY_US;
    }
    let quarters = (diff + diff.signum() * QUARTER_US / 2) / QUARTER_US;
    quarters * QUARTER_US / 1_000_000
}

/// Adds `data.epoch_us` to events that only have `data.tod_us` (`-tt`), given the local-time
/// offset (see [`utc_offset_near`]) and a moment near the trace.
pub fn add_epoch(events: &mut [Event], utc_offset_s: i64, near_epoch_us: u64) {
    for e in events {
        let Some(d) = e.data.as_object_mut() else {
            continue;
        };
        if d.contains_key("epoch_us") {
            continue;
        }
        if let Some(tod) = d.get("tod_us").and_then(Value::as_u64) {
            let epoch = tod_to_epoch_us(tod, utc_offset_s, near_epoch_us);
            d.insert("epoch_us".into(), json!(epoch));
        }
    }
}

/// Sets each event's run time `t` (µs since `run_start_epoch_us`) from its strace stamp:
/// `data.epoch_us` directly, else `data.tod_us` (`-tt`, local time of day) through
/// `utc_offset_s` (local time minus UTC). Events stamped before the run start get `t = 1`.
pub fn stamp_run_times(events: &mut [Event], run_start_epoch_us: u64, utc_offset_s: i64) {
    let start = run_start_epoch_us as i64;
    for e in events {
        let epoch = if let Some(us) = e.data.get("epoch_us").and_then(Value::as_u64) {
            us as i64
        } else if let Some(tod) = e.data.get("tod_us").and_then(Value::as_u64) {
            tod_to_epoch_us(tod, utc_offset_s, run_start_epoch_us) as i64
        } else {
            continue;
        };
        e.t = (epoch - start).max(1) as u64;
    }
}

/// A syscall line split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    /// Top-level arguments as strace printed them.
    pub args: Vec<String>,
    /// The return value as printed: `10`, `-1`, `?`, `0x7f…`, `3<TCP:[…]>`.
    pub ret: String,
    pub errno: Option<String>,
    pub errno_text: Option<String>,
    /// `-T`: seconds spent in the call.
    pub duration: Option<String>,
}

/// Parses `name(args…) = ret [ERRNO (text)] [<dur>]`. `None` when the line is not complete.
pub fn parse_call(body: &str) -> Option<Call> {
    let c = CALL.captures(body)?;
    let name = c[1].to_string();
    let open = c.get(0).unwrap().end();
    let close = open + matching_paren(&body[open..])?;
    let args = split_args(&body[open..close]);
    let after = body[close + 1..].trim_start();
    let (ret, errno, errno_text, duration) = match RET.captures(after) {
        Some(r) => (
            r[1].to_string(),
            r.get(2).map(|m| m.as_str().to_string()),
            r.get(3).map(|m| m.as_str().to_string()),
            r.get(5).map(|m| m.as_str().to_string()),
        ),
        // `exit_group(0) = ?` and friends print `= ?`; a bare `)` has no result at all.
        None => ("?".to_string(), None, None, None),
    };
    Some(Call {
        name,
        args,
        ret,
        errno,
        errno_text,
        duration,
    })
}

/// Walks `s` calling `f(index, char, depth)` for each character outside string literals and
/// `-y` fd decorations (`3<TCP:[a->b]>`), `depth` being the bracket nesting before the
/// character. Stops at the first character `f` accepts and returns its index.
fn scan(s: &str, mut f: impl FnMut(usize, char, i32) -> bool) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_str = false;
    let mut esc = false;
    let mut in_decor = false;
    let mut prev = '\0';
    for (i, ch) in s.char_indices() {
        let before = std::mem::replace(&mut prev, ch);
        if in_str {
            match ch {
                _ if esc => esc = false,
                '\\' => esc = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        if in_decor {
            // `->` inside a decoration joins two endpoints; any other `>` ends it.
            if ch == '>' && before != '-' {
                in_decor = false;
            }
            continue;
        }
        if f(i, ch, depth) {
            return Some(i);
        }
        match ch {
            '"' => in_str = true,
            '<' if before.is_ascii_digit() => in_decor = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = (depth - 1).max(0),
            _ => {}
        }
    }
    None
}

/// The index of the `)` closing the argument list that starts at `s[0]`.
fn matching_paren(s: &str) -> Option<usize> {
    scan(s, |_, ch, depth| ch == ')' && depth == 0)
}

/// Splits an argument list on top-level commas.
pub fn split_args(s: &str) -> Vec<String> {
    let mut cuts = Vec::new();
    scan(s, |i, ch, depth| {
        if ch == ',' && depth == 0 {
            cuts.push(i);
        }
        false
    });
    let mut out = Vec::new();
    let mut start = 0;
    for c in cuts {
        out.push(s[start..c].trim().to_string());
        start = c + 1;
    }
    let last = s[start..].trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last.to_string());
    }
    out
}

fn split_pid(line: &str) -> (Option<u32>, &str) {
    if let Some(c) = PID_BRACKET.captures(line) {
        return (c[1].parse().ok(), &line[c.get(0).unwrap().end()..]);
    }
    if let Some(c) = PID_COLUMN.captures(line) {
        // A pid column is digits then spaces; `-ttt` stamps have a dot, `-tt` ones a colon.
        return (c[1].parse().ok(), &line[c.get(0).unwrap().end()..]);
    }
    (None, line)
}

fn split_time(s: &str) -> (Option<&str>, &str) {
    match TIME.find(s) {
        Some(m) => (Some(m.as_str().trim_end()), &s[m.end()..]),
        None => (None, s),
    }
}

/// Parses a time stamp as strace prints it: `HH:MM:SS[.frac]` or `SECONDS.frac`.
pub fn parse_stamp(s: &str) -> Option<Stamp> {
    let owned = format!("{} ", s.trim());
    let c = TIME.captures(&owned)?;
    if c.get(0)?.end() != owned.len() {
        return None;
    }
    let frac_us = |m: Option<regex::Match>| -> u64 {
        m.map_or(0, |m| {
            let f = m.as_str();
            let mut digits: String = f.chars().take(6).collect();
            while digits.len() < 6 {
                digits.push('0');
            }
            digits.parse().unwrap_or(0)
        })
    };
    if let Some(h) = c.get(1) {
        let h: u64 = h.as_str().parse().ok()?;
        let m: u64 = c[2].parse().ok()?;
        let sec: u64 = c[3].parse().ok()?;
        Some(Stamp::TimeOfDay(
            ((h * 60 + m) * 60 + sec) * 1_000_000 + frac_us(c.get(4)),
        ))
    } else {
        let sec: u64 = c[5].parse().ok()?;
        Some(Stamp::Epoch(sec * 1_000_000 + frac_us(c.get(6))))
    }
}

/// `3` or `3<UDP:[127.0.0.1:5000]>` (`-y`/`-yy`) → (3, decoration).
fn parse_fd(s: &str) -> Option<(i64, Option<String>)> {
    let c = FD_DECOR.captures(s.trim())?;
    let n = c[1].parse().ok()?;
    Some((n, c.get(2).map(|m| m.as_str().to_string())))
}

fn ret_number(ret: &str) -> Option<i64> {
    let digits = ret.split('<').next().unwrap_or(ret);
    if let Some(hex) = digits.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    digits.parse().ok()
}

fn is_socket_decor(d: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "TCP", "UDP", "UDPLITE", "RAW", "UNIX", "NETLINK", "PACKET", "SCTP", "DCCP", "L2TP",
        "MPTCP", "socket:", "PING", "XDP", "VSOCK",
    ];
    PREFIXES.iter().any(|p| d.starts_with(p))
}

/// The remote end in a `-yy` decoration: `TCP:[a->b]` → `b`.
fn decor_peer(d: &str) -> Option<String> {
    let inner = d.split_once(":[")?.1.strip_suffix(']')?;
    let (_, remote) = inner.split_once("->")?;
    // IP endpoints have a port; UNIX ones are inode numbers, not worth showing.
    remote.contains(':').then(|| remote.to_string())
}

/// The address in a sockaddr argument: `127.0.0.1:5000`, `[::1]:5000`, or a unix path.
fn sockaddr(arg: &str) -> Option<String> {
    if let Some(c) = INET.captures(arg) {
        return Some(format!("{}:{}", &c[2], &c[1]));
    }
    if let Some(c) = INET6.captures(arg) {
        return Some(format!("[{}]:{}", &c[2], &c[1]));
    }
    if let Some(c) = UNIX.captures(arg) {
        return Some(c[1].trim_matches('"').to_string());
    }
    None
}

fn is_crash_signal(sig: &str) -> bool {
    matches!(
        sig,
        "SIGSEGV" | "SIGBUS" | "SIGILL" | "SIGFPE" | "SIGABRT" | "SIGSYS" | "SIGTRAP"
    )
}

/// `sendto(3, 10 bytes → 127.0.0.1:5000) = 10`, `connect(4, 127.0.0.1:1) = -1 ECONNREFUSED`.
fn summary(
    call: &Call,
    fd: Option<&(i64, Option<String>)>,
    bytes: Option<i64>,
    peer: Option<&str>,
    is_send: bool,
    is_recv: bool,
) -> String {
    let name = call.name.as_str();
    let mut parts: Vec<String> = Vec::new();
    match fd {
        Some((n, _)) => parts.push(n.to_string()),
        None => {
            // socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP): the first two, shortened.
            for a in call.args.iter().take(2) {
                parts.push(a.split('|').next().unwrap_or(a).to_string());
            }
        }
    }
    if matches!(name, "listen" | "shutdown") {
        // The backlog, or SHUT_RD/SHUT_WR/SHUT_RDWR.
        if let Some(a) = call.args.get(1) {
            parts.push(a.clone());
        }
    } else if let Some(b) = bytes {
        let unit = if b == 1 { "byte" } else { "bytes" };
        match (peer, is_send, is_recv) {
            (Some(p), true, _) => parts.push(format!("{b} {unit} → {p}")),
            (Some(p), _, true) => parts.push(format!("{b} {unit} ← {p}")),
            _ => parts.push(format!("{b} {unit}")),
        }
    } else if let Some(p) = peer {
        match name {
            "accept" | "accept4" => parts.push(format!("← {p}")),
            _ => parts.push(p.to_string()),
        }
    }
    let ret = call.ret.split('<').next().unwrap_or(&call.ret);
    let mut s = format!("{name}({}) = {ret}", parts.join(", "));
    if let Some(e) = &call.errno {
        s.push(' ');
        s.push_str(e);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(e: &Event) -> &Map<String, Value> {
        e.data.as_object().unwrap()
    }

    #[test]
    fn pid_column_and_time() {
        let mut p = StraceParser::new("srv");
        let e = p
            .line("14843 10:25:47.970858 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3")
            .unwrap();
        assert_eq!(e.kind, Kind::Log);
        assert_eq!(e.source, "srv");
        assert_eq!(e.level, Some(Level::Debug));
        assert_eq!(e.text, "socket(AF_INET, SOCK_DGRAM) = 3");
        let d = data(&e);
        assert_eq!(d["syscall"], "socket");
        assert_eq!(d["pid"], 14843);
        assert_eq!(d["ret"], 3);
        assert_eq!(d["errno"], Value::Null);
        assert_eq!(d["time"], "10:25:47.970858");
        assert_eq!(
            d["tod_us"],
            ((10 * 3600 + 25 * 60 + 47) * 1_000_000u64 + 970_858)
        );
        assert_eq!(p.main_pid(), Some(14843));
    }

    #[test]
    fn sendto_summary_has_bytes_and_peer() {
        let mut p = StraceParser::new("c");
        let e = p
            .line(r#"14843 10:25:47.972354 sendto(4, "PING hello", 10, 0, {sa_family=AF_INET, sin_port=htons(35178), sin_addr=inet_addr("127.0.0.1")}, 16) = 10"#)
            .unwrap();
        assert_eq!(e.text, "sendto(4, 10 bytes → 127.0.0.1:35178) = 10");
        let d = data(&e);
        assert_eq!(d["bytes"], 10);
        assert_eq!(d["fd"], 4);
        assert_eq!(d["peer"], "127.0.0.1:35178");
        assert_eq!(d["args"][1], "\"PING hello\"");
        assert_eq!(d["args"].as_array().unwrap().len(), 6);
    }

    #[test]
    fn bracket_pid_and_unfinished_resumed_are_joined() {
        let mut p = StraceParser::new("s");
        assert!(
            p.line("[pid 14884] 10:25:47.972102 recvfrom(3,  <unfinished ...>")
                .is_none()
        );
        // Another pid's line in between does not disturb the pending call.
        let other = p.line(
            "[pid 14843] 10:25:47.972118 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 4",
        );
        assert!(other.is_some());
        let e = p
            .line(r#"[pid 14884] 10:25:47.972511 <... recvfrom resumed>"PING hello", 2048, 0, {sa_family=AF_INET, sin_port=htons(54087), sin_addr=inet_addr("127.0.0.1")}, [16]) = 10"#)
            .unwrap();
        assert_eq!(e.text, "recvfrom(3, 10 bytes ← 127.0.0.1:54087) = 10");
        let d = data(&e);
        assert_eq!(d["pid"], 14884);
        assert_eq!(d["time"], "10:25:47.972511");
        assert_eq!(d["started"], "10:25:47.972102");
        assert_eq!(
            d["args"],
            json!([
                "3",
                "\"PING hello\"",
                "2048",
                "0",
                "{sa_family=AF_INET, sin_port=htons(54087), sin_addr=inet_addr(\"127.0.0.1\")}",
                "[16]"
            ])
        );
    }

    #[test]
    fn unfinished_with_args_before_the_marker() {
        let mut p = StraceParser::new("s");
        assert!(
            p.line(
                r#"15314 10:26:16.103946 sendto(5, "hello tcp", 9, 0, NULL, 0 <unfinished ...>"#
            )
            .is_none()
        );
        let e = p
            .line("15314 10:26:16.104078 <... sendto resumed>) = 9")
            .unwrap();
        assert_eq!(e.text, "sendto(5, 9 bytes) = 9");
        assert_eq!(data(&e)["args"][5], "0");
    }

    #[test]
    fn errors_are_kept_and_notable_ones_warn() {
        let mut p = StraceParser::new("s");
        let e = p.line(r#"15314 10:26:16.105625 connect(4, {sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)"#).unwrap();
        assert_eq!(e.text, "connect(4, 127.0.0.1:1) = -1 ECONNREFUSED");
        assert_eq!(e.level, Some(Level::Warn));
        let d = data(&e);
        assert_eq!(d["ret"], -1);
        assert_eq!(d["errno"], "ECONNREFUSED");
        assert_eq!(d["errno_text"], "Connection refused");

        let e = p
            .line("15357 10:26:26.101980 recvfrom(3, 0x7f5c732aa330, 100, 0, 0x7ffcb5cf2070, [16]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)")
            .unwrap();
        assert_eq!(e.level, Some(Level::Debug));
        assert_eq!(data(&e)["ret"], "?");
        assert_eq!(data(&e)["errno"], "ERESTARTSYS");
        assert!(data(&e).get("bytes").is_none());

        let e = p
            .line("9 10:00:00.000001 recvfrom(3, 0x55, 100, MSG_DONTWAIT, NULL, NULL) = -1 EAGAIN (Resource temporarily unavailable)")
            .unwrap();
        assert_eq!(e.level, Some(Level::Debug));
    }

    #[test]
    fn exits_and_kills_are_lifecycle() {
        let mut p = StraceParser::new("s");
        p.line("100 10:00:00.000000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3");
        let t = p.line("101 10:00:00.100000 +++ exited with 0 +++").unwrap();
        assert_eq!(t.kind, Kind::Lifecycle);
        assert_eq!(t.level, Some(Level::Debug), "a thread's exit is detail");
        assert_eq!(data(&t)["main"], false);
        let m = p.line("100 10:00:00.200000 +++ exited with 3 +++").unwrap();
        assert_eq!(m.text, "pid 100 exited with 3");
        assert_eq!(m.level, Some(Level::Warn));
        assert_eq!(data(&m)["exit_code"], 3);
        assert_eq!(data(&m)["main"], true);
        let k = p
            .line("100 10:00:00.300000 +++ killed by SIGSEGV (core dumped) +++")
            .unwrap();
        assert_eq!(k.text, "pid 100 killed by SIGSEGV (core dumped)");
        assert_eq!(k.level, Some(Level::Error));
        assert_eq!(data(&k)["signal"], "SIGSEGV");
        assert_eq!(data(&k)["core_dumped"], true);
        let k = p
            .line("100 10:00:00.300000 +++ killed by SIGTERM +++")
            .unwrap();
        assert_eq!(k.level, Some(Level::Warn));
    }

    #[test]
    fn signals_are_logs_except_sigchld() {
        let mut p = StraceParser::new("s");
        assert!(p.line("1 10:00:00.000000 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---").is_none());
        let e = p
            .line("1 10:00:00.000000 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---")
            .unwrap();
        assert_eq!(e.kind, Kind::Log);
        assert_eq!(e.text, "pid 1 received SIGSEGV");
        assert_eq!(e.level, Some(Level::Warn));
    }

    #[test]
    fn killed_mid_call_is_joined_or_flushed() {
        let mut p = StraceParser::new("s");
        assert!(
            p.line("7 10:00:00.000000 recvfrom(3,  <unfinished ...>")
                .is_none()
        );
        let e = p
            .line("7 10:00:01.000000 <... recvfrom resumed> <unfinished ...>) = ?")
            .unwrap();
        assert_eq!(e.text, "recvfrom(3) = ?");
        assert_eq!(data(&e)["ret"], "?");

        // No resumed line at all: `finish` reports the call.
        let text = "7 10:00:00.000000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3\n8 10:00:00.000001 recvfrom(3,  <unfinished ...>\n";
        let evs = parse_strace(text, "s");
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[1].text, "recvfrom(3) = ?");
        assert_eq!(evs[1].data["unfinished"], true);
    }

    #[test]
    fn socket_fds_make_read_write_close_visible() {
        let text = "\
1 10:00:00.000000 openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY) = 5
1 10:00:00.000001 read(5, \"x\", 1) = 1
1 10:00:00.000002 close(5) = 0
1 10:00:00.000003 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5
1 10:00:00.000004 write(5, \"hello\", 5) = 5
1 10:00:00.000005 read(5, \"HELLO\", 100) = 5
1 10:00:00.000006 close(5) = 0
1 10:00:00.000007 write(5, \"x\", 1) = 1
";
        let evs = parse_strace(text, "s");
        let texts: Vec<&str> = evs.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "socket(AF_INET, SOCK_STREAM) = 5",
                "write(5, 5 bytes) = 5",
                "read(5, 5 bytes) = 5",
                "close(5) = 0",
            ]
        );
    }

    #[test]
    fn yy_decorations_name_sockets_and_peers() {
        let mut p = StraceParser::new("s");
        let e = p
            .line(r#"16201 1795602450.274091 sendto(5<TCP:[127.0.0.1:37776->127.0.0.1:46855]>, "hello tcp", 9, 0, NULL, 0) = 9"#)
            .unwrap();
        assert_eq!(e.text, "sendto(5, 9 bytes → 127.0.0.1:46855) = 9");
        let d = data(&e);
        assert_eq!(d["fd"], 5);
        assert_eq!(d["fd_info"], "TCP:[127.0.0.1:37776->127.0.0.1:46855]");
        assert_eq!(d["epoch_us"], 1_795_602_450_274_091u64);
        // A read on a decorated socket fd is shown without having seen the socket() call.
        let e = p
            .line(r#"16201 1795602450.274100 read(7<UDP:[127.0.0.1:1->127.0.0.1:2]>, "x", 10) = 1"#)
            .unwrap();
        assert_eq!(e.text, "read(7, 1 byte ← 127.0.0.1:2) = 1");
        assert!(
            p.line(r#"16201 1795602450.274100 read(3</etc/hosts>, "x", 10) = 1"#)
                .is_none()
        );
        let e = p
            .line("16201 1795602450.275011 socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDPv6:[75144]>")
            .unwrap();
        assert_eq!(e.text, "socket(AF_INET6, SOCK_DGRAM) = 3");
        assert_eq!(data(&e)["ret"], 3);
    }

    #[test]
    fn ipv6_and_unix_addresses() {
        assert_eq!(
            sockaddr(r#"{sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}"#).as_deref(),
            Some("[::1]:9")
        );
        assert_eq!(
            sockaddr(r#"{sa_family=AF_UNIX, sun_path="/run/x.sock"}"#).as_deref(),
            Some("/run/x.sock")
        );
        assert_eq!(sockaddr("NULL"), None);
    }

    #[test]
    fn strings_with_parens_commas_and_quotes() {
        let c = parse_call(r#"sendto(3, "a), \"b\", (c", 9, 0, NULL, 0) = 9"#).unwrap();
        assert_eq!(c.args.len(), 6);
        assert_eq!(c.args[1], r#""a), \"b\", (c""#);
        assert_eq!(c.ret, "9");
        let c = parse_call(r#"sendto(3, "xx"..., 100, 0, NULL, 0) = 100 <0.000021>"#).unwrap();
        assert_eq!(c.args[1], "\"xx\"...");
        assert_eq!(c.duration.as_deref(), Some("0.000021"));
        let c = parse_call("listen(3, 1)      = 0").unwrap();
        assert_eq!(c.ret, "0");
        assert_eq!(c.args, ["3", "1"]);
    }

    #[test]
    fn nested_arrows_and_decorations_do_not_split() {
        let c = parse_call(r#"recvmsg(3<UDP:[127.0.0.1:1->127.0.0.1:2]>, {msg_name={sa_family=AF_INET, sin_port=htons(2), sin_addr=inet_addr("127.0.0.1")}, msg_namelen=128 => 16, msg_iov=[{iov_base="abc", iov_len=100}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 3"#).unwrap();
        assert_eq!(c.args.len(), 3, "{:?}", c.args);
        assert_eq!(c.args[2], "0");
        let c = parse_call("read(7</tmp/odd (name), here>, \"x\", 1) = 1").unwrap();
        assert_eq!(c.args, ["7</tmp/odd (name), here>", "\"x\"", "1"]);
        let c = parse_call(
            "getsockname(5<UNIX-STREAM:[119658->119659]>, {sa_family=AF_UNIX}, [128 => 2]) = 0",
        )
        .unwrap();
        assert_eq!(c.args.len(), 3);
    }

    #[test]
    fn socketpair_fds_with_decorations() {
        let mut p = StraceParser::new("s");
        p.line("1 10:00:00.000000 socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [5<UNIX-STREAM:[119658->119659]>, 6<UNIX-STREAM:[119659->119658]>]) = 0").unwrap();
        p.line("1 10:00:00.000000 socketpair(AF_UNIX, SOCK_DGRAM, 0, [7, 8]) = 0")
            .unwrap();
        for fd in [5, 6, 7, 8] {
            let e = p
                .line(&format!("1 10:00:00.000001 write({fd}, \"hi\", 2) = 2"))
                .unwrap();
            assert_eq!(e.text, format!("write({fd}, 2 bytes) = 2"));
        }
    }

    #[test]
    fn filter_all_keeps_other_syscalls() {
        let mut p = StraceParser::new("s").with_filter(Filter::All);
        let e = p
            .line("1 10:00:00.000000 openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY|O_CLOEXEC) = 3")
            .unwrap();
        assert_eq!(data(&e)["syscall"], "openat");
        assert!(
            StraceParser::new("s")
                .line("1 10:00:00.000000 openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY) = 3")
                .is_none()
        );
    }

    #[test]
    fn lines_without_pid_use_the_default() {
        let mut p = StraceParser::new("s").with_default_pid(42);
        let e = p
            .line("10:27:30.337826 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3")
            .unwrap();
        assert_eq!(data(&e)["pid"], 42);
        let e = StraceParser::new("s")
            .line("10:26:26.645592 +++ exited with 0 +++")
            .unwrap();
        assert_eq!(e.text, "process exited with 0");
        assert!(data(&e).get("pid").is_none());
    }

    #[test]
    fn noise_is_ignored() {
        let mut p = StraceParser::new("s");
        for l in [
            "",
            "strace: Process 123 attached",
            "1 10:00:00.000000 ???( <unfinished ...>",
            "garbage (",
            "1 10:00:00.000000 <... recvfrom resumed>",
        ] {
            let _ = p.line(l);
        }
        assert!(p.line("strace: Process 123 detached").is_none());
    }

    #[test]
    fn run_times_from_stamps() {
        // Run started 2023-11-14 22:13:20 UTC = 23:13:20 local at UTC+1.
        let start = 1_700_000_000_000_000u64;
        let mut evs = parse_strace(
            "1 23:13:20.500000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3\n\
             1 00:00:01.000000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 4\n\
             1 1700000002.000000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 5\n",
            "s",
        );
        stamp_run_times(&mut evs, start, 3600);
        assert_eq!(evs[0].t, 500_000);
        // After local midnight: the next day.
        assert_eq!(evs[1].t, (46 * 60 + 41) * 1_000_000);
        assert_eq!(evs[2].t, 2_000_000);
    }

    #[test]
    fn utc_offsets_from_a_nearby_moment() {
        // 2023-11-14 22:13:20 UTC.
        let at = 1_700_000_000_000_000u64;
        let utc_tod = (22 * 3600 + 13 * 60 + 20) * 1_000_000u64;
        assert_eq!(utc_offset_near(utc_tod, at), 0);
        assert_eq!(
            utc_offset_near(utc_tod - 2_000_000, at),
            0,
            "written 2 s before"
        );
        assert_eq!(utc_offset_near(utc_tod + 3600 * 1_000_000 + 5, at), 3600);
        // UTC+5:30 and UTC-3.
        let ist = (utc_tod + 5 * 3600 * 1_000_000 + 1800 * 1_000_000) % (DAY_US as u64);
        assert_eq!(utc_offset_near(ist, at), 5 * 3600 + 1800);
        let brt = utc_tod - 3 * 3600 * 1_000_000;
        assert_eq!(utc_offset_near(brt, at), -3 * 3600);
        // Round trip through add_epoch.
        let mut evs = parse_strace(
            &format!("1 {} socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3\n", {
                let s = ist / 1_000_000;
                format!("{:02}:{:02}:{:02}.000000", s / 3600, s / 60 % 60, s % 60)
            }),
            "s",
        );
        add_epoch(&mut evs, utc_offset_near(ist, at), at);
        assert_eq!(evs[0].data["epoch_us"], at);
    }

    #[test]
    fn stamps() {
        assert_eq!(parse_stamp("00:00:01.5"), Some(Stamp::TimeOfDay(1_500_000)));
        assert_eq!(
            parse_stamp("23:59:59"),
            Some(Stamp::TimeOfDay(86_399_000_000))
        );
        assert_eq!(
            parse_stamp("1700000000.000001"),
            Some(Stamp::Epoch(1_700_000_000_000_001))
        );
        assert_eq!(parse_stamp("x"), None);
    }
}
