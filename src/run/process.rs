//! A supervised service process: its own process group (so a stop reaches wrappers and
//! their children), PR_SET_PDEATHSIG (so it dies with panther), stdout and stderr kept in
//! log files and turned into events line by line, and a stop that escalates
//! SIGINT → SIGTERM → SIGKILL to the whole group.

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::env::network::Runner;
use crate::env::network::docker::{Container, Engine, EngineError, LogStream};
use crate::events::{Event, EventTx, Kind, Level, Record};
use crate::plugin::manifest::{EventRule, Stream};

/// How long a service's output may stay open after its process ended.
const DRAIN: Duration = Duration::from_secs(2);

/// The most of one output line that becomes an event (the log file keeps it all).
pub const MAX_LINE: usize = 64 * 1024;

/// How many stderr lines to keep for a crash report.
const TAIL: usize = 200;

/// An event rule with its regex compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    pub stream: Stream,
    pub re: regex::Regex,
    pub kind: Kind,
    pub level: Option<Level>,
    pub summary: Option<String>,
}

impl Rule {
    pub fn compile(r: &EventRule) -> Option<Rule> {
        Some(Rule {
            stream: r.stream,
            re: regex::Regex::new(&r.pattern).ok()?,
            kind: r.kind,
            level: r.level,
            summary: r.summary.clone(),
        })
    }

    fn applies(&self, stderr: bool) -> bool {
        matches!(
            (self.stream, stderr),
            (Stream::Both, _) | (Stream::Stdout, false) | (Stream::Stderr, true)
        )
    }

    fn event(&self, source: &str, line: &str) -> Option<Event> {
        let caps = self.re.captures(line)?;
        let mut ctx = serde_json::Map::new();
        ctx.insert("line".into(), line.into());
        for name in self.re.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                ctx.insert(name.into(), m.as_str().into());
            }
        }
        let ctx = serde_json::Value::Object(ctx);
        let text = match &self.summary {
            Some(s) => {
                crate::plugin::templates::render(s, &ctx).unwrap_or_else(|_| line.to_string())
            }
            None => line.to_string(),
        };
        let mut e = Event::new(source, self.kind, text);
        e.level = self.level;
        e.data = ctx;
        Some(e)
    }
}

pub struct Spec {
    pub service: String,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// Folder for stdout.log and stderr.log.
    pub log_dir: PathBuf,
    pub rules: Vec<Rule>,
    pub ready_log: Option<regex::Regex>,
    pub events: EventTx,
    /// Where the process starts: panther's namespace, or a service's own.
    pub runner: Runner,
}

/// What the line readers collected besides events.
#[derive(Debug, Default)]
pub struct Collected {
    pub stderr_tail: VecDeque<String>,
    /// Verdict records a built-in tester printed.
    pub verdicts: Vec<Record>,
}

/// Why a service's process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("program `{0}` not found")]
    NotFound(String),
    /// A caller asked for a container's service as a process (a bug in the caller).
    #[error("a container is started by its network environment, not as a process")]
    Container,
    #[error("network namespace {}: {source}", path.display())]
    Namespace {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("hosts path holds a NUL byte")]
    HostsNul,
    /// The fork or exec itself (including what the child does before exec).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub struct Supervised {
    pub service: String,
    /// The process's pid in panther's pid namespace (a container's main process for
    /// containers): the probes read its network namespace through `/proc/PID/net`.
    pub pid: u32,
    backend: Backend,
    /// Runs under panther's init (signals go to the keeper, which hands them to every
    /// process of the service's pid namespace).
    init: bool,
    readers: Vec<JoinHandle<()>>,
    pub collected: Arc<Mutex<Collected>>,
    pub log_seen: watch::Receiver<bool>,
    status: Option<ExitStatus>,
}

impl Supervised {
    pub fn spawn(mut spec: Spec) -> Result<Supervised, SpawnError> {
        let program = crate::plugin::availability::resolve_program(&spec.argv[0])
            .ok_or_else(|| SpawnError::NotFound(spec.argv[0].clone()))?;
        // Under panther's tiny init when the helper is at hand (see `super::init`): then no
        // descendant, daemonized or not, outlives the service or panther.
        let init = super::init::exe();
        let mut cmd = match &init {
            Some(exe) => {
                let mut c = tokio::process::Command::new(exe);
                c.arg(super::init::ARG).arg("--").arg(&program);
                c
            }
            None => tokio::process::Command::new(&program),
        };
        cmd.args(&spec.argv[1..])
            .current_dir(&spec.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        // Proof of origin for the startup sweep (see `super::sweep`).
        cmd.env(super::sweep::MARK, super::owner::Owner::current().token());
        let enter = match &spec.runner {
            Runner::Host => None,
            Runner::Netns { ns, hosts } => Some(NetnsEntry::open(ns, hosts)?),
            Runner::Container => return Err(SpawnError::Container),
        };
        let parent = nix::unistd::getpid();
        // SAFETY: between fork and exec the closure makes only single system calls (prctl,
        // getppid, setns, unshare, mount) on values prepared before the fork; nothing allocates.
        unsafe {
            cmd.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
                // Panther died before the line above: the death signal will never come.
                if nix::unistd::getppid() != parent {
                    return Err(std::io::Error::other("panther is gone"));
                }
                if let Some(e) = &enter {
                    e.enter()?;
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        let pid = child.id().unwrap_or(0);
        let (shared, collected, log_seen) = Shared::new(&mut spec);
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(tokio::spawn(read_lines(
                out,
                spec.log_dir.join("stdout.log"),
                false,
                shared.clone(),
            )));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(tokio::spawn(read_lines(
                err,
                spec.log_dir.join("stderr.log"),
                true,
                shared,
            )));
        }
        Ok(Supervised {
            service: spec.service,
            pid,
            backend: Backend::Local(child),
            init: init.is_some(),
            readers,
            collected,
            log_seen,
            status: None,
        })
    }

    /// A service whose main process is a started container: its log stream feeds the same
    /// line handling as a process's pipes, and a task waits for its exit.
    pub fn contained(mut spec: Spec, engine: Engine, container: Container) -> Supervised {
        let (shared, collected, log_seen) = Shared::new(&mut spec);
        let logs = engine.logs(&container.id);
        let readers = vec![tokio::spawn(pump_logs(logs, spec.log_dir.clone(), shared))];
        let (exit_tx, exit) = watch::channel(None);
        let waiter = tokio::spawn({
            let (engine, id) = (engine.clone(), container.id.clone());
            async move {
                let code = engine.wait(&id).await.unwrap_or(-1);
                exit_tx.send_replace(Some(code));
            }
        });
        Supervised {
            service: spec.service,
            pid: container.pid,
            backend: Backend::Container(Contained {
                engine,
                id: container.id,
                exit,
                waiter,
            }),
            init: false,
            readers,
            collected,
            log_seen,
            status: None,
        }
    }

    /// The exit status, once the process has exited (without waiting).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = match &mut self.backend {
                Backend::Local(child) => child.try_wait().ok().flatten(),
                Backend::Container(c) => c.exit.borrow().map(code_status),
            };
        }
        self.status
    }

    /// Waits for the process to exit and its output to be read.
    pub async fn wait(&mut self) -> ExitStatus {
        if self.status.is_none() {
            self.status = Some(match &mut self.backend {
                Backend::Local(child) => child
                    .wait()
                    .await
                    .unwrap_or_else(|_| ExitStatus::from_raw(0)),
                Backend::Container(c) => {
                    let code = c.exit.wait_for(Option::is_some).await.ok().and_then(|c| *c);
                    code_status(code.unwrap_or(-1))
                }
            });
        }
        // A descendant that escaped (without the init: a daemon that kept the pipes) must
        // not hold the run hostage: the output gets a bounded time to drain.
        let deadline = tokio::time::Instant::now() + DRAIN;
        for mut r in self.readers.drain(..) {
            if tokio::time::timeout_at(deadline, &mut r).await.is_err() {
                r.abort();
                tracing::warn!(service = %self.service, "output still open after the process ended; stopped reading it");
            }
        }
        self.status.unwrap_or_else(|| ExitStatus::from_raw(0))
    }

    /// Stops the whole process group: SIGINT, then SIGTERM, then SIGKILL, `grace` apart.
    /// Returns the exit status and whether the process was still running when asked.
    pub async fn stop(&mut self, grace: Duration) -> (ExitStatus, bool) {
        if matches!(self.backend, Backend::Container(_)) {
            if self.try_status().is_some() {
                return (self.wait().await, false);
            }
            if let Backend::Container(c) = &self.backend {
                let _ = c.engine.stop(&c.id, grace).await;
            }
            return (self.wait().await, true);
        }
        if self.try_status().is_some() {
            // The leader is gone; make sure nothing of its group lingers.
            self.kill_group(Signal::SIGKILL);
            return (self.wait().await, false);
        }
        for sig in [Signal::SIGINT, Signal::SIGTERM] {
            self.signal(sig);
            let Backend::Local(child) = &mut self.backend else {
                break;
            };
            if tokio::time::timeout(grace, child.wait()).await.is_ok() {
                self.kill_group(Signal::SIGKILL);
                return (self.wait().await, true);
            }
        }
        self.kill_group(Signal::SIGKILL);
        (self.wait().await, true)
    }

    /// A declared graceful stop: `sig`, then SIGKILL to the group after `grace` (a qlog
    /// writer flushes on SIGINT; SIGTERM's default cut its file mid-record).
    pub async fn stop_with(&mut self, sig: Signal, grace: Duration) -> (ExitStatus, bool) {
        if matches!(self.backend, Backend::Container(_)) {
            return self.stop(grace).await;
        }
        if self.try_status().is_some() {
            self.kill_group(Signal::SIGKILL);
            return (self.wait().await, false);
        }
        self.signal(sig);
        if let Backend::Local(child) = &mut self.backend {
            let _ = tokio::time::timeout(grace, child.wait()).await;
        }
        self.kill_group(Signal::SIGKILL);
        (self.wait().await, true)
    }

    /// A polite signal: to the keeper alone under the init (it forwards to the whole
    /// namespace once; the group would get it twice), else to the group.
    fn signal(&self, sig: Signal) {
        if self.init && self.pid > 0 && matches!(self.backend, Backend::Local(_)) {
            let _ = nix::sys::signal::kill(Pid::from_raw(self.pid as i32), sig);
        } else {
            self.kill_group(sig);
        }
    }

    fn kill_group(&self, sig: Signal) {
        if self.pid > 0 && matches!(self.backend, Backend::Local(_)) {
            let _ = killpg(Pid::from_raw(self.pid as i32), sig);
        }
    }
}

/// How the service's main process is held.
enum Backend {
    Local(tokio::process::Child),
    Container(Contained),
}

/// A container started for a service.
struct Contained {
    engine: Engine,
    id: String,
    /// Its exit code, once the engine reports it.
    exit: watch::Receiver<Option<i64>>,
    waiter: JoinHandle<()>,
}

impl Drop for Contained {
    fn drop(&mut self) {
        self.waiter.abort();
        // Never leave a container behind, whatever path dropped us; the environment's
        // teardown removes it too, this covers a panic or a cancelled run.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (engine, id) = (self.engine.clone(), std::mem::take(&mut self.id));
            rt.spawn(async move {
                let _ = engine.remove(&id).await;
            });
        }
    }
}

/// A container's exit code as a process exit status.
fn code_status(code: i64) -> ExitStatus {
    ExitStatus::from_raw(((code & 0xff) as i32) << 8)
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // Never leave a group behind, whatever path dropped us (panic, cancellation).
        self.kill_group(Signal::SIGKILL);
    }
}

/// What a child needs to enter a service's network namespace: the namespace's descriptor
/// and the hosts file that names the test's services there, both opened before the fork.
struct NetnsEntry {
    ns: std::fs::File,
    hosts: std::ffi::CString,
}

impl NetnsEntry {
    fn open(ns: &std::path::Path, hosts: &std::path::Path) -> Result<NetnsEntry, SpawnError> {
        use std::os::unix::ffi::OsStrExt;
        let ns = std::fs::File::open(ns).map_err(|source| SpawnError::Namespace {
            path: ns.to_path_buf(),
            source,
        })?;
        let hosts = std::ffi::CString::new(hosts.as_os_str().as_bytes())
            .map_err(|_| SpawnError::HostsNul)?;
        Ok(NetnsEntry { ns, hosts })
    }

    /// Joins the namespace, then gives the child a mount namespace of its own in which the
    /// test's hosts file is bind-mounted on /etc/hosts (what `ip netns exec` does).
    fn enter(&self) -> std::io::Result<()> {
        use nix::mount::{MsFlags, mount};
        use nix::sched::{CloneFlags, setns, unshare};
        use std::os::fd::AsFd;
        setns(self.ns.as_fd(), CloneFlags::CLONE_NEWNET)?;
        unshare(CloneFlags::CLONE_NEWNS)?;
        mount(
            None::<&std::ffi::CStr>,
            c"/",
            None::<&std::ffi::CStr>,
            MsFlags::MS_REC | MsFlags::MS_SLAVE,
            None::<&std::ffi::CStr>,
        )?;
        mount(
            Some(self.hosts.as_c_str()),
            c"/etc/hosts",
            None::<&std::ffi::CStr>,
            MsFlags::MS_BIND,
            None::<&std::ffi::CStr>,
        )?;
        Ok(())
    }
}

struct Shared {
    service: String,
    rules: Vec<Rule>,
    ready_log: Option<regex::Regex>,
    events: EventTx,
    seen: Arc<watch::Sender<bool>>,
    collected: Arc<Mutex<Collected>>,
}

type Made = (Arc<Shared>, Arc<Mutex<Collected>>, watch::Receiver<bool>);

impl Shared {
    /// What a service's line handlers share, taken from its spec.
    fn new(spec: &mut Spec) -> Made {
        let (seen_tx, log_seen) = watch::channel(false);
        let collected = Arc::new(Mutex::new(Collected::default()));
        let shared = Arc::new(Shared {
            service: spec.service.clone(),
            rules: std::mem::take(&mut spec.rules),
            ready_log: spec.ready_log.take(),
            events: spec.events.clone(),
            seen: Arc::new(seen_tx),
            collected: collected.clone(),
        });
        (shared, collected, log_seen)
    }
}

/// A container's log lines: into stdout.log and stderr.log, and through the line handling.
async fn pump_logs(
    mut logs: futures_util::stream::BoxStream<
        'static,
        Result<(LogStream, bytes::Bytes), EngineError>,
    >,
    dir: PathBuf,
    sh: Arc<Shared>,
) {
    use futures_util::StreamExt;
    let open = |name: &str| {
        std::fs::File::create(dir.join(name))
            .map(std::io::BufWriter::new)
            .ok()
    };
    let (mut out, mut err) = (open("stdout.log"), open("stderr.log"));
    let mut sampled = [Sampler::new(), Sampler::new()];
    while let Some(Ok((stream, line))) = logs.next().await {
        let stderr = matches!(stream, LogStream::Stderr);
        if let Some(f) = if stderr { err.as_mut() } else { out.as_mut() } {
            let _ = std::io::Write::write_all(f, &line);
            let _ = std::io::Write::flush(f);
        }
        let over = line.len() > MAX_LINE;
        let s = &mut sampled[usize::from(stderr)];
        line_done(&sh, &line[..line.len().min(MAX_LINE)], over, stderr, s);
        s.report(&sh, stderr, false);
    }
    for (i, s) in sampled.iter_mut().enumerate() {
        s.report(&sh, i == 1, true);
    }
}

/// Plain log lines one output stream turns into events per second, at most. Beyond that (a
/// service writing faster than events are worth) every line still reaches the log file, but
/// only a count of the others becomes an event: a service is never slowed down by panther's
/// logging (a 200 MB writer was throttled to ~10 MB/s by the event path). Records, rule
/// matches and the readiness pattern are never sampled.
const LOG_EVENTS_PER_S: u32 = 20_000;

/// The per-stream budget of log events, and what it left out.
struct Sampler {
    window: std::time::Instant,
    budget: u32,
    skipped: u64,
    /// When the last "lines left out" event went out.
    told: std::time::Instant,
}

impl Sampler {
    fn new() -> Sampler {
        let now = std::time::Instant::now();
        Sampler {
            window: now,
            budget: LOG_EVENTS_PER_S,
            skipped: 0,
            told: now,
        }
    }

    /// Whether a plain log line may become an event now.
    fn admit(&mut self) -> bool {
        let now = std::time::Instant::now();
        if now.duration_since(self.window) >= Duration::from_secs(1) {
            self.window = now;
            self.budget = LOG_EVENTS_PER_S;
        }
        if self.budget > 0 {
            self.budget -= 1;
            return true;
        }
        self.skipped += 1;
        false
    }

    /// Says how many lines were left out (at most every LOG_FLUSH_EVERY, or now at the end).
    fn report(&mut self, sh: &Shared, stderr: bool, end: bool) {
        if self.skipped == 0 || (!end && self.told.elapsed() < LOG_FLUSH_EVERY) {
            return;
        }
        self.told = std::time::Instant::now();
        let stream = if stderr { "stderr" } else { "stdout" };
        let mut e = Event::new(
            sh.service.as_str(),
            Kind::Log,
            format!(
                "{} more lines of {stream} are only in {stream}.log (output faster than {LOG_EVENTS_PER_S} lines/s is sampled)",
                self.skipped
            ),
        );
        e.level = Some(Level::Warn);
        e.data = serde_json::json!({"stream": stream, "sampled": self.skipped});
        sh.events.emit(e);
        self.skipped = 0;
    }
}

/// How long a service's log lines may wait in memory before they are in its log file.
const LOG_FLUSH_EVERY: Duration = Duration::from_millis(100);

async fn read_lines(stream: impl AsyncRead + Unpin, log: PathBuf, stderr: bool, sh: Arc<Shared>) {
    let mut file = match tokio::fs::File::create(&log).await {
        Ok(f) => Some(tokio::io::BufWriter::with_capacity(256 * 1024, f)),
        Err(e) => {
            tracing::warn!(log = %log.display(), "cannot create log file: {e}");
            None
        }
    };
    // Large buffers: a service writing fast is read in few system calls, and its log file
    // written in few trips to the blocking pool.
    let mut r = BufReader::with_capacity(64 * 1024, stream);
    let mut sampler = Sampler::new();
    let mut buf = Vec::with_capacity(256);
    // Lines are streamed: the log file gets every byte as it comes, the line handling at
    // most MAX_LINE bytes of a line (one 100 MB line no longer costs 400 MB).
    let mut over = false;
    // The log file is flushed on a timer, not per line: a flush of a tokio file is a trip
    // to the blocking pool, and a service that talks line by line paid it for every line.
    let mut tick = tokio::time::interval(LOG_FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = false;
    loop {
        let chunk = tokio::select! {
            read = r.fill_buf() => match read {
                Ok([]) | Err(_) => break,
                Ok(c) => c,
            },
            _ = tick.tick(), if dirty => {
                if let Some(f) = file.as_mut() {
                    let _ = f.flush().await;
                }
                sampler.report(&sh, stderr, false);
                dirty = false;
                continue;
            }
        };
        let (part, ends) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..=i], true),
            None => (chunk, false),
        };
        let n = part.len();
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(part).await;
        }
        let room = MAX_LINE.saturating_sub(buf.len());
        if room < n {
            over = true;
        }
        buf.extend_from_slice(&part[..n.min(room)]);
        r.consume(n);
        dirty = true;
        if ends {
            line_done(&sh, &buf, over, stderr, &mut sampler);
            buf.clear();
            over = false;
        }
    }
    if !buf.is_empty() {
        line_done(&sh, &buf, over, stderr, &mut sampler);
    }
    sampler.report(&sh, stderr, true);
    if let Some(f) = file.as_mut() {
        let _ = f.flush().await;
    }
}

/// A line read (perhaps cut at MAX_LINE), to the line handling.
fn line_done(sh: &Shared, buf: &[u8], over: bool, stderr: bool, sampler: &mut Sampler) {
    let line = String::from_utf8_lossy(buf);
    let line = line.trim_end_matches(['\n', '\r']);
    if over {
        handle_line(
            sh,
            &format!("{line} […line cut at {MAX_LINE} bytes]"),
            stderr,
            sampler,
        );
    } else {
        handle_line(sh, line, stderr, sampler);
    }
}

fn handle_line(sh: &Shared, line: &str, stderr: bool, sampler: &mut Sampler) {
    if let Some(re) = &sh.ready_log
        && re.is_match(line)
    {
        sh.seen.send_replace(true);
    }
    if stderr {
        let mut c = sh.collected.lock().unwrap_or_else(|e| e.into_inner());
        if c.stderr_tail.len() == TAIL {
            c.stderr_tail.pop_front();
        }
        c.stderr_tail.push_back(line.to_string());
    }
    if !stderr && let Some(rec) = Record::parse(line) {
        if rec.kind == Kind::Verdict {
            sh.collected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .verdicts
                .push(rec.clone());
        }
        sh.events.emit(rec.into_event(&sh.service));
        return;
    }
    for rule in sh.rules.iter().filter(|r| r.applies(stderr)) {
        if let Some(e) = rule.event(&sh.service, line) {
            sh.events.emit(e);
            return;
        }
    }
    if line.trim().is_empty() || !sampler.admit() {
        return;
    }
    let mut e = Event::new(sh.service.as_str(), Kind::Log, line);
    e.data = serde_json::json!({"stream": if stderr { "stderr" } else { "stdout" }});
    sh.events.emit(e);
}

/// "exited with code 0", "killed by SIGSEGV".
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        format!("exited with code {code}")
    } else if let Some(sig) = status.signal() {
        let name = Signal::try_from(sig)
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|_| sig.to_string());
        format!("killed by {name}")
    } else {
        "ended".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python_spec(dir: &std::path::Path, code: &str) -> Option<Spec> {
        let py = crate::plugin::availability::resolve_program("python3")?;
        let (events, _rx) = crate::events::tx::channel(crate::events::Clock::start());
        Some(Spec {
            service: "svc".into(),
            argv: vec![py.display().to_string(), "-c".into(), code.into()],
            env: Vec::new(),
            cwd: dir.to_path_buf(),
            log_dir: dir.to_path_buf(),
            rules: Vec::new(),
            ready_log: None,
            events,
            runner: Runner::Host,
        })
    }

    /// Waits until the program says its handler is set (a fixed sleep lost the race on a
    /// loaded machine: the signal came before the handler and killed the program).
    async fn armed(flag: &std::path::Path) {
        for _ in 0..400 {
            if flag.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{} never appeared", flag.display());
    }

    /// A service writing a million lines at once is not held back by the event path: every
    /// line is in its log file, at most the budget of them became events, and the rest is
    /// counted in "sampled" events.
    #[tokio::test]
    async fn output_faster_than_the_event_budget_is_sampled_and_all_logged() {
        let dir = tempfile::tempdir().unwrap();
        let Some(py) = crate::plugin::availability::resolve_program("python3") else {
            return;
        };
        let (events, mut rx) = crate::events::tx::event_channel(crate::events::Clock::start());
        let lines = 1_000_000u64;
        let code = format!(
            "import sys\nsys.stdout.write(''.join(f'line {{i}}\\n' for i in range({lines})))\n"
        );
        let spec = Spec {
            service: "svc".into(),
            argv: vec![py.display().to_string(), "-c".into(), code],
            env: Vec::new(),
            cwd: dir.path().to_path_buf(),
            log_dir: dir.path().to_path_buf(),
            rules: Vec::new(),
            ready_log: None,
            events,
            runner: Runner::Host,
        };
        let mut p = Supervised::spawn(spec).unwrap();
        let status = p.wait().await;
        assert!(status.success(), "{status:?}");
        drop(p);
        let (mut shown, mut sampled) = (0u64, 0u64);
        while let Ok(e) = rx.try_recv() {
            match e.data.get("sampled").and_then(|n| n.as_u64()) {
                Some(n) => {
                    assert_eq!(e.level, Some(Level::Warn));
                    sampled += n;
                }
                None => shown += 1,
            }
        }
        let log = std::fs::read_to_string(dir.path().join("stdout.log")).unwrap();
        assert_eq!(
            log.lines().count() as u64,
            lines,
            "every line is in the log"
        );
        assert!(log.ends_with(&format!("line {}\n", lines - 1)));
        assert!(sampled > 0, "{shown} shown");
        assert_eq!(shown + sampled, lines, "each line is shown or counted");
    }

    /// A declared stop sends its signal (here SIGUSR1), which the program handles to write
    /// its file before exiting; one that ignores the signal is killed after the grace.
    #[tokio::test]
    async fn a_declared_stop_sends_its_signal_then_kills_after_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let code = "import signal,sys,time\n\
def bye(*a):\n    open('flushed','w').write('whole'); sys.exit(0)\n\
signal.signal(signal.SIGUSR1, bye)\nopen('armed','w')\ntime.sleep(60)\n";
        let Some(spec) = python_spec(dir.path(), code) else {
            return;
        };
        let mut p = Supervised::spawn(spec).unwrap();
        armed(&dir.path().join("armed")).await;
        let (status, running) = p.stop_with(Signal::SIGUSR1, Duration::from_secs(5)).await;
        assert!(running);
        assert_eq!(status.code(), Some(0), "{status:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("flushed")).unwrap(),
            "whole"
        );

        let code = "import signal,time\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)\nopen('armed2','w')\ntime.sleep(60)\n";
        let mut p = Supervised::spawn(python_spec(dir.path(), code).unwrap()).unwrap();
        armed(&dir.path().join("armed2")).await;
        let t0 = std::time::Instant::now();
        let (status, _) = p
            .stop_with(Signal::SIGUSR1, Duration::from_millis(300))
            .await;
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!(
            status.signal(),
            Some(9),
            "killed after the grace: {status:?}"
        );
    }
}
