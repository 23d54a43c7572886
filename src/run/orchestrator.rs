//! One run of an experiment: for each test (and iteration) plan → network environment →
//! wrappers → services started in dependency order with readiness probes → run until the
//! testers end, `steps.wait` elapses or the timeout fires → collect → verdicts → teardown
//! in reverse order. Lifecycle steps are events on the same timeline as everything else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::env::execution::stretch::Stretch;
use crate::env::network::{self, NetworkEnvironment, Runner, Topology};
use crate::events::{Bus, Clock, Event, EventTx, Kind, Level};
use crate::experiment::model::{Expect, Experiment, Test};
use crate::experiment::plan;
use crate::plugin::manifest::Transport;
use crate::plugin::{Kind as PluginKind, Plugin, Registry, Role, loader};
use crate::results::{self, CheckResult, RunSummary, ServiceResult, TestResult};
use crate::verdict::Verdict;

use super::context::{self, ServiceVars};
use super::error::{NetworkUpError, NotReady, RunError, StartError};
use super::owner::Owner;
use super::process::{self, Rule, Spec, Supervised};
use super::{certs, ready, sweep};

pub const ORCHESTRATOR: &str = "orchestrator";
const DEFAULT_TEST_TIMEOUT: f64 = 60.0;
const DEFAULT_WAIT: f64 = 5.0;
const DEFAULT_READY_TIMEOUT: f64 = 30.0;
/// A service's qlog folder under its own folder (`{{ qlog_dir }}`).
pub const QLOG_DIR: &str = "qlog";
/// A service's NSS key log under its own folder (`{{ keylog }}`, `SSLKEYLOGFILE`).
pub const KEYLOG_FILE: &str = "keys.log";

/// QUIC services get certificates whatever the experiment says (TLS is part of QUIC) and
/// `SSLKEYLOGFILE`.
fn speaks_quic(protocol: &str) -> bool {
    protocol == "quic"
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Results root (`outputs/`).
    pub output_root: PathBuf,
    /// Only this test.
    pub only_test: Option<String>,
    /// Time between SIGINT, SIGTERM and SIGKILL at teardown.
    pub grace: Duration,
    /// The config file, for the summary.
    pub config_path: String,
    /// The results folder's exact name under `output_root` (an interop matrix's cell), instead
    /// of a dated one.
    pub folder: Option<String>,
    /// The panther executable `{{ panther }}` names in manifests, when the process running
    /// the orchestrator is not it (an embedding app, a test harness). Else `$PANTHER_EXE`,
    /// else this executable.
    pub panther_exe: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output_root: PathBuf::from("outputs"),
            only_test: None,
            grace: Duration::from_secs(2),
            config_path: String::new(),
            folder: None,
            panther_exe: None,
        }
    }
}

/// A run in progress: its folder, its live events, and the switch that cancels it.
pub struct Run {
    pub dir: PathBuf,
    pub live: tokio::sync::broadcast::Receiver<std::sync::Arc<Event>>,
    pub cancel: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<RunSummary, RunError>>,
}

impl Run {
    pub async fn finish(self) -> Result<RunSummary, RunError> {
        self.task.await?
    }
}

/// Starts a run in the background. Fails only when the results folder cannot be created.
pub fn start(exp: Experiment, name: &str, reg: Registry, opts: Options) -> Result<Run, RunError> {
    if let Some(p) = &opts.panther_exe {
        super::init::set_exe(p.clone());
    }
    let swept = sweep::sweep(&opts.output_root);
    let swept_env = network::sweep();
    let (dir, started_at) = match &opts.folder {
        Some(f) => results::exact_dir(&opts.output_root, f)?,
        None => results::new_dir(&opts.output_root, name)?,
    };
    let config = serde_norway::to_string(&exp)?;
    std::fs::write(dir.join(results::CONFIG), config)?;
    let clock = Clock::start();
    let bus = Bus::start(&dir.join(crate::events::store::FILE_NAME), clock)?;
    let live = bus.subscribe();
    let (cancel, cancelled) = watch::channel(false);
    let name = name.to_string();
    let d = dir.clone();
    let task = tokio::spawn(async move {
        if swept > 0 {
            let mut e = Event::new(
                ORCHESTRATOR,
                Kind::Log,
                format!("swept {swept} process groups left by an earlier run"),
            );
            e.level = Some(Level::Warn);
            bus.tx.emit(e);
        }
        if !swept_env.is_empty() {
            let mut e = Event::new(
                ORCHESTRATOR,
                Kind::Log,
                format!(
                    "swept {} network namespaces left by an earlier run: {}",
                    swept_env.namespaces.len(),
                    swept_env.namespaces.join(", ")
                ),
            );
            e.level = Some(Level::Warn);
            bus.tx.emit(e);
        }
        let t0 = Instant::now();
        let mut tests = Vec::new();
        let mut interrupted = false;
        for t in exp
            .tests
            .iter()
            .filter(|t| opts.only_test.as_ref().is_none_or(|n| *n == t.name))
        {
            let mut stop = false;
            for it in 1..=t.iterations.max(1) {
                if *cancelled.borrow() {
                    interrupted = true;
                    break;
                }
                let r = run_test(t, it, &reg, &d, &bus.tx, &opts, cancelled.clone()).await;
                let failed = !r.met_expectation;
                tests.push(r);
                if *cancelled.borrow() {
                    interrupted = true;
                }
                if failed && t.continue_on_failure == Some(false) {
                    stop = true;
                    break;
                }
            }
            if stop || interrupted {
                break;
            }
        }
        let verdict = tests
            .iter()
            .map(|t| t.verdict)
            .max()
            .unwrap_or(Verdict::Inconclusive);
        let ok = !interrupted && !tests.is_empty() && tests.iter().all(|t| t.met_expectation);
        let mut e = Event::new(
            ORCHESTRATOR,
            Kind::Verdict,
            format!("run {}: {verdict}", if ok { "ok" } else { "not ok" }),
        );
        e.data = serde_json::json!({"overall": verdict, "ok": ok});
        bus.tx.emit(e);
        let store = bus.finish().await?;
        let summary = RunSummary {
            schema_version: results::model::SCHEMA_VERSION,
            panther_version: env!("CARGO_PKG_VERSION").into(),
            experiment: name,
            config: opts.config_path.clone(),
            started_at,
            duration_ms: t0.elapsed().as_millis() as u64,
            verdict,
            ok,
            interrupted,
            events: store.len() as u64,
            tests,
        };
        results::write_all(&d, &summary, store.path())?;
        sweep::clear(&d);
        Ok(summary)
    });
    Ok(Run {
        dir,
        live,
        cancel,
        task,
    })
}

/// A service as started for one test.
struct Started {
    name: String,
    plugin: Plugin,
    role: Role,
    proc: Option<Supervised>,
    port: Option<u16>,
    /// Set when it could not start or was not ready: the reason.
    failed: Option<String>,
    /// Exit seen before teardown began (a crash for an IUT, the end for a tester).
    early_exit: Option<std::process::ExitStatus>,
    wrappers: Vec<(Plugin, PathBuf)>,
    artifact_dir: PathBuf,
    target: Option<String>,
    runner: Runner,
    /// The live qlog tailer of a QUIC service: its stop switch and task.
    qlog: Option<QlogTail>,
    /// The test's stretch for slow wrappers, with this service's stretched parameters.
    stretch: Stretch,
}

type QlogTail = (
    watch::Sender<bool>,
    tokio::task::JoinHandle<crate::quic::qlog::tail::Tailed>,
);

impl Started {
    /// Testers and client IUTs run to their own end, and the test ends when they all have.
    fn decides_the_end(&self) -> bool {
        self.plugin.kind() == PluginKind::Tester || self.role == Role::Client
    }
}

pub(crate) fn lifecycle(
    tx: &EventTx,
    source: &str,
    text: impl Into<String>,
    data: serde_json::Value,
) {
    let mut e = Event::new(source, Kind::Lifecycle, text);
    e.data = data;
    tx.emit(e);
}

#[allow(clippy::too_many_arguments)]
async fn run_test(
    t: &Test,
    iteration: u32,
    reg: &Registry,
    run_dir: &Path,
    tx: &EventTx,
    opts: &Options,
    mut cancelled: watch::Receiver<bool>,
) -> TestResult {
    let t0 = Instant::now();
    let label = if t.iterations > 1 {
        format!("{} #{iteration}", t.name)
    } else {
        t.name.clone()
    };
    let tx = tx.for_test(&label);
    let dir_name = if t.iterations > 1 {
        results::iteration_folder(&t.name, iteration)
    } else {
        results::slug(&t.name)
    };
    let test_dir = run_dir.join(&dir_name);
    let mut result = TestResult {
        name: t.name.clone(),
        iteration,
        verdict: Verdict::Pass,
        expected: t.expect.map(expect_verdict),
        met_expectation: false,
        reason: String::new(),
        duration_ms: 0,
        dir: dir_name.clone(),
        services: Vec::new(),
    };
    lifecycle(
        &tx,
        ORCHESTRATOR,
        format!("test {label} starting"),
        serde_json::json!({"step": "test_start"}),
    );

    let order = match plan::start_order(t) {
        Ok(o) => o,
        Err(cycle) => {
            result.verdict = Verdict::Error;
            result.reason = format!(
                "services depend on each other in a cycle: {}",
                cycle.join(" → ")
            );
            return finish_test(result, t0, &tx);
        }
    };
    // `{{ panther }}`: this binary, unless the embedder (a benchmark, a test harness) says
    // where the panther executable is.
    let panther = opts
        .panther_exe
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| std::env::var("PANTHER_EXE").ok())
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .map(|p| p.display().to_string())
        })
        .unwrap_or_else(|| "panther".into());
    // Slow wrappers stretch the test's timeout, readiness waits and timeout parameters.
    let stretch = wrappers_stretch(t, reg);
    let timeout = stretch.seconds(t.timeout.unwrap_or(DEFAULT_TEST_TIMEOUT));
    let deadline = ready::after(ready::seconds(timeout));
    if !stretch.is_none() {
        lifecycle(
            &tx,
            ORCHESTRATOR,
            format!(
                "timeouts stretched {} for slow execution environments: test timeout {timeout} s, readiness waits and timeout parameters alike",
                stretch.describe()
            ),
            serde_json::json!({"step": "stretch", "factor": stretch.factor, "by": stretch.by, "test_timeout_s": timeout}),
        );
    }

    let mut env = match network_up(t, reg, &test_dir, &tx).await {
        Ok(env) => env,
        Err(reason) => {
            result.verdict = Verdict::Error;
            result.reason = reason.to_string();
            return finish_test(result, t0, &tx);
        }
    };

    // One CA and server certificate per test, for the services that ask for them (and every
    // QUIC service: `Test::wants_certificates`).
    let cert_names = t.certificate_names();
    let certs = if !cert_names.is_empty() {
        match certs::generate(&test_dir.join("certs"), &cert_names) {
            Ok(c) => Some(c),
            Err(e) => {
                env.down().await;
                result.verdict = Verdict::Error;
                result.reason = format!("cannot make the test's certificates: {e}");
                return finish_test(result, t0, &tx);
            }
        }
    } else {
        None
    };
    let mut started: Vec<Started> = Vec::new();
    let plugins_cache = run_dir.join(".plugins");
    // steps.pre_commands: argv lists, before the first service.
    if let Err(reason) = super::steps::run_all(
        ORCHESTRATOR,
        "pre_commands",
        &t.steps.pre_commands,
        &test_dir,
        &test_dir.join("steps"),
        &tx,
    )
    .await
    {
        env.down().await;
        result.verdict = Verdict::Error;
        result.reason = reason.to_string();
        return finish_test(result, t0, &tx);
    }

    for name in &order {
        let svc = &t.services[name];
        let Some(plugin) = reg.service(&svc.implementation.name).cloned() else {
            result.verdict = Verdict::Error;
            result.reason = format!("plugin {} not found", svc.implementation.name);
            break;
        };
        let svc_dir = test_dir.join(results::slug(name));
        let artifact_dir = svc_dir.join("artifacts");
        let _ = std::fs::create_dir_all(&artifact_dir);
        let mut st = Started {
            name: name.clone(),
            plugin: plugin.clone(),
            role: svc.protocol.role,
            proc: None,
            port: None,
            failed: None,
            early_exit: None,
            wrappers: Vec::new(),
            artifact_dir: artifact_dir.clone(),
            target: svc.protocol.target.clone(),
            runner: Runner::Host,
            qlog: None,
            stretch: stretch.clone(),
        };
        match start_service(
            t,
            name,
            &plugin,
            reg,
            &panther,
            &svc_dir,
            &artifact_dir,
            &plugins_cache,
            certs.as_ref().filter(|_| t.wants_certificates(name)),
            env.as_mut(),
            &tx,
            &mut st,
        )
        .await
        {
            Ok(()) => {}
            Err(reason) => {
                lifecycle(
                    &tx,
                    name,
                    format!("failed to start: {reason}"),
                    serde_json::json!({"step": "start_failed"}),
                );
                st.failed = Some(reason.to_string());
                started.push(st);
                break;
            }
        }
        if speaks_quic(&svc.protocol.name) && st.proc.is_some() {
            st.qlog = Some(tail_qlog(t, name, &svc_dir, &tx));
        }
        // Readiness before dependants start.
        if let Err(reason) = wait_ready(
            &plugin,
            &mut st,
            env.as_ref(),
            &svc_dir,
            &mut cancelled,
            &tx,
        )
        .await
        {
            st.failed = Some(reason.to_string());
            started.push(st);
            break;
        }
        started.push(st);
        if *cancelled.borrow() {
            break;
        }
    }

    // Run phase.
    let all_up = started.len() == order.len() && started.iter().all(|s| s.failed.is_none());
    let mut timed_out = false;
    if all_up && !*cancelled.borrow() {
        let has_testers = started.iter().any(Started::decides_the_end);
        let wait_until = if has_testers {
            deadline
        } else {
            ready::after(ready::seconds(t.steps.wait.unwrap_or(DEFAULT_WAIT))).min(deadline)
        };
        lifecycle(
            &tx,
            ORCHESTRATOR,
            "all services ready; running",
            serde_json::json!({"step": "running"}),
        );
        loop {
            for s in started.iter_mut() {
                if s.early_exit.is_none()
                    && let Some(status) = s.proc.as_mut().and_then(|p| p.try_status())
                {
                    s.early_exit = Some(status);
                    lifecycle(
                        &tx,
                        &s.name,
                        process::describe(status),
                        serde_json::json!({"step": "exited", "code": status.code()}),
                    );
                }
            }
            let testers_done = has_testers
                && started
                    .iter()
                    .filter(|s| s.decides_the_end())
                    .all(|s| s.early_exit.is_some());
            if testers_done {
                break;
            }
            if Instant::now() >= wait_until {
                timed_out = has_testers || Instant::now() >= deadline;
                if !has_testers && Instant::now() < deadline {
                    timed_out = false;
                }
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                _ = cancelled.changed() => {}
            }
            if *cancelled.borrow() {
                lifecycle(
                    &tx,
                    ORCHESTRATOR,
                    "cancelled",
                    serde_json::json!({"step": "cancelled"}),
                );
                break;
            }
        }
    }

    // Teardown, in reverse start order.
    lifecycle(
        &tx,
        ORCHESTRATOR,
        "teardown",
        serde_json::json!({"step": "teardown"}),
    );
    let mut statuses: HashMap<String, (std::process::ExitStatus, bool)> = HashMap::new();
    for s in started.iter_mut().rev() {
        if let Some(p) = s.proc.as_mut() {
            let declared = s
                .plugin
                .manifest
                .run
                .get(&s.role)
                .and_then(|r| r.stop.as_ref());
            // A wrapped service needs longer to end (memcheck's leak check, a profile dump).
            let (status, was_running) = match declared {
                Some(d) => {
                    let grace = d.grace_s.map(ready::seconds).unwrap_or(opts.grace);
                    p.stop_with(d.signal.signal(), s.stretch.grace(grace)).await
                }
                None => p.stop(s.stretch.grace(opts.grace)).await,
            };
            if was_running {
                lifecycle(
                    &tx,
                    &s.name,
                    format!("stopped ({})", process::describe(status)),
                    serde_json::json!({"step": "stopped"}),
                );
            }
            statuses.insert(s.name.clone(), (status, was_running));
        }
        if let Some((stop, task)) = s.qlog.take() {
            let _ = stop.send(true);
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(10), task).await {
                lifecycle(
                    &tx,
                    &s.name,
                    format!(
                        "qlog: {} packets from {} events in {} files",
                        n.packets, n.events, n.files
                    ),
                    serde_json::json!({"step": "qlog", "files": n.files, "events": n.events, "packets": n.packets}),
                );
            }
        }
        // The manifest's post_run phase, in the service's folder.
        if let Some(svc_dir) = s.artifact_dir.parent()
            && let Err(reason) = super::steps::run_all(
                &s.name,
                "post_run",
                &s.plugin.manifest.phases.post_run,
                svc_dir,
                &svc_dir.join("phases"),
                &tx,
            )
            .await
        {
            s.failed.get_or_insert(reason.to_string());
        }
    }
    qlog_losses(t, &started, &test_dir, &tx);
    // steps.post_commands, after the services stopped.
    if let Err(reason) = super::steps::run_all(
        ORCHESTRATOR,
        "post_commands",
        &t.steps.post_commands,
        &test_dir,
        &test_dir.join("steps"),
        &tx,
    )
    .await
    {
        result.verdict = Verdict::Error;
        result.reason = reason.to_string();
    }
    env.down().await;
    lifecycle(
        &tx,
        "environment",
        "network environment down",
        serde_json::json!({"step": "network_down"}),
    );

    // Verdicts.
    let cancelled_now = *cancelled.borrow();
    for s in &started {
        let sr = judge(
            s,
            statuses.get(&s.name).copied(),
            timed_out,
            timeout,
            cancelled_now,
            &tx,
        );
        result.services.push(sr);
    }
    apply_assertions(t, &mut result.services, &tx);
    for sr in &result.services {
        result.verdict = result.verdict.join(sr.verdict);
    }
    if !all_up && result.services.iter().all(|s| s.verdict < Verdict::Error) {
        result.verdict = Verdict::Error;
        if result.reason.is_empty() {
            result.reason = "not every service started".into();
        }
    }
    if cancelled_now {
        result.verdict = result.verdict.join(Verdict::Inconclusive);
    }
    if result.reason.is_empty() {
        // The worst service explains the verdict; among equals, a tester's words first.
        let mut worst: Vec<&ServiceResult> = result
            .services
            .iter()
            .filter(|s| s.verdict == result.verdict)
            .collect();
        worst.sort_by_key(|s| s.kind != "tester");
        result.reason = worst
            .first()
            .map(|s| format!("{}: {}", s.name, s.reason))
            .unwrap_or_else(|| "every service passed".into());
    }
    finish_test(result, t0, &tx)
}

/// `assertions:` turn a check's outcome into what the experiment expects of it: a property
/// declared `violated` (a known finding, such as python's http.server ignoring a missing Host)
/// passes when the tester saw it fail, and fails when it held. A property no tester checked is
/// inconclusive.
fn apply_assertions(t: &Test, services: &mut [ServiceResult], tx: &EventTx) {
    use crate::experiment::model::PropertyOutcome;
    for a in &t.assertions {
        let mut seen = false;
        for svc in services.iter_mut() {
            let mut changed = false;
            for c in svc.checks.iter_mut() {
                let subject_ok = a
                    .service
                    .as_ref()
                    .is_none_or(|s| c.subject.as_ref() == Some(s));
                if c.property != a.property || !subject_ok {
                    continue;
                }
                seen = true;
                if a.expect == PropertyOutcome::Violated {
                    match c.verdict {
                        Verdict::Fail => {
                            c.verdict = Verdict::Pass;
                            c.reason = format!("violated, as the experiment expects: {}", c.reason);
                        }
                        Verdict::Pass => {
                            c.verdict = Verdict::Fail;
                            c.reason = format!(
                                "expected a violation, but the property held: {}",
                                c.reason
                            );
                        }
                        _ => {}
                    }
                    changed = true;
                }
            }
            if changed && svc.verdict <= Verdict::Fail {
                // The tester's verdict is the worst of its checks once expectations apply.
                svc.verdict = svc
                    .checks
                    .iter()
                    .map(|c| c.verdict.min(Verdict::Fail))
                    .max()
                    .unwrap_or(Verdict::Pass);
                let failed = failed_checks(&svc.checks);
                svc.reason = if failed.is_empty() {
                    format!(
                        "{} checks met the experiment's expectations",
                        svc.checks.len()
                    )
                } else {
                    format!("failed: {}", failed.join(", "))
                };
            }
        }
        if !seen {
            let mut e = Event::new(
                ORCHESTRATOR,
                Kind::Log,
                format!("assertion on `{}`: no tester checked it", a.property),
            );
            e.level = Some(Level::Warn);
            tx.emit(e);
            if let Some(svc) = services.iter_mut().find(|s| s.kind == "tester") {
                svc.verdict = svc.verdict.join(Verdict::Inconclusive);
            }
        }
    }
}

/// The properties whose checks failed (or worse).
fn failed_checks(checks: &[CheckResult]) -> Vec<&str> {
    checks
        .iter()
        .filter(|c| c.verdict >= Verdict::Fail)
        .map(|c| c.property.as_str())
        .collect()
}

fn expect_verdict(e: Expect) -> Verdict {
    match e {
        Expect::Pass => Verdict::Pass,
        Expect::Inconclusive => Verdict::Inconclusive,
        Expect::Fail => Verdict::Fail,
        Expect::Error => Verdict::Error,
    }
}

fn finish_test(mut r: TestResult, t0: Instant, tx: &EventTx) -> TestResult {
    r.duration_ms = t0.elapsed().as_millis() as u64;
    r.met_expectation = r.verdict == r.expected.unwrap_or(Verdict::Pass);
    let mut e = Event::new(
        ORCHESTRATOR,
        Kind::Verdict,
        format!("{}: {}", r.verdict, r.reason),
    );
    e.data = serde_json::json!({"verdict": r.verdict, "expected": r.expected, "met_expectation": r.met_expectation, "test_verdict": true});
    tx.emit(e);
    r
}

#[allow(clippy::too_many_arguments)]
async fn start_service(
    t: &Test,
    name: &str,
    plugin: &Plugin,
    reg: &Registry,
    panther: &str,
    svc_dir: &Path,
    artifact_dir: &Path,
    plugins_cache: &Path,
    certs: Option<&certs::CertFiles>,
    net: &mut dyn NetworkEnvironment,
    tx: &EventTx,
    st: &mut Started,
) -> Result<(), StartError> {
    let svc = &t.services[name];
    if let Some(reason) = plugin.availability.reason() {
        return Err(StartError::Unavailable {
            plugin: plugin.name().to_string(),
            reason: reason.to_string(),
        });
    }
    let m = &plugin.manifest;
    let role = svc.protocol.role;
    let spec = m.run.get(&role).ok_or_else(|| StartError::NoRun {
        plugin: m.name.clone(),
        role: role.to_string(),
    })?;
    let proto = reg
        .protocol(&svc.protocol.name)
        .and_then(|p| p.manifest.protocol.clone());
    let version = svc
        .protocol
        .version
        .clone()
        .or_else(|| proto.as_ref().map(|p| p.default_version.clone()))
        .unwrap_or_default();

    let plugin_dir = plugin_dir(plugin, plugins_cache)?;
    // Servers and peers listen where the environment puts them; clients get the address that
    // reaches their target (through the link when the environment emulates one that way).
    let place = net.place(name)?;
    let port = if role != Role::Client {
        Some(net.listen(name)?.port)
    } else {
        None
    };
    st.port = port;
    let target = match &svc.protocol.target {
        Some(tg) => {
            let ep = net.route(name, tg).await?;
            Some((tg.as_str(), ep.host.to_string(), ep.port))
        }
        None => None,
    };
    let host_s = place.host.to_string();
    let panther = &net.panther_path(panther);
    if place.runner == Runner::Container && t.execution_environment.iter().any(|e| e.enabled) {
        return Err(StartError::WrappedInContainer(
            t.network_environment.kind.clone(),
        ));
    }
    // Every service gets a qlog folder (made now: ngtcp2 exits 1 without it) and a key log
    // path; a QUIC service has SSLKEYLOGFILE set to it.
    let qlog_dir = svc_dir.join(QLOG_DIR);
    std::fs::create_dir_all(&qlog_dir).map_err(|source| StartError::Prepare {
        path: qlog_dir.clone(),
        source,
    })?;
    let keylog = svc_dir.join(KEYLOG_FILE);
    let tools = crate::plugin::install::tools_dir();
    let vars = ServiceVars {
        panther,
        plugin_dir: &plugin_dir,
        service: name,
        test: &t.name,
        role: role.as_str(),
        protocol: &svc.protocol.name,
        version: &version,
        host: &host_s,
        port,
        target,
        run_dir: svc_dir,
        artifact_dir,
        timeout: st
            .stretch
            .seconds(svc.timeout.or(t.timeout).unwrap_or(DEFAULT_TEST_TIMEOUT)),
        qlog_dir: &qlog_dir,
        keylog: &keylog,
        tools: &tools,
    };
    let mut params = context::parameters(m, &svc.plugin_config);
    st.stretch.parameters(m, &mut params);
    if !st.stretch.parameters.is_empty() {
        let changes: Vec<String> = st
            .stretch
            .parameters
            .iter()
            .map(|p| format!("{} {} → {}", p.parameter, p.from, p.to))
            .collect();
        lifecycle(
            tx,
            name,
            format!(
                "stretched {}: {}",
                st.stretch.describe(),
                changes.join(", ")
            ),
            serde_json::json!({"step": "stretch", "factor": st.stretch.factor, "parameters": st.stretch.parameters}),
        );
    }
    let mut ctx = context::service_context(&vars, params);
    if let Some(c) = certs {
        hand_certificates(c, svc_dir, &mut ctx)?;
    }
    if speaks_quic(&svc.protocol.name) {
        quic_folders(svc_dir, plugins_cache, &mut ctx)?;
    }
    context::render_files(m, &plugin_dir, svc_dir, &ctx)?;
    let mut argv = context::render_all(&spec.argv, &ctx).map_err(StartError::Template)?;
    let mut env = Vec::new();
    if speaks_quic(&svc.protocol.name) {
        env.push(("SSLKEYLOGFILE".to_string(), keylog.display().to_string()));
    }
    for (k, v) in &spec.env {
        let v = crate::plugin::templates::render(v, &ctx).map_err(StartError::Template)?;
        env.push((k.clone(), v));
    }
    for (k, v) in &svc.environment {
        env.push((k.clone(), v.clone()));
    }
    // Execution environments wrap the command; the first listed is outermost.
    let mut prefix = Vec::new();
    for ee in t.execution_environment.iter().filter(|e| e.enabled) {
        let Some(wp) = reg
            .get(&[PluginKind::ExecutionEnvironment], &ee.kind)
            .cloned()
        else {
            return Err(StartError::NoWrapper(ee.kind.clone()));
        };
        if let Some(reason) = wp.availability.reason() {
            return Err(StartError::WrapperUnavailable {
                plugin: wp.name().to_string(),
                reason: reason.to_string(),
            });
        }
        let wdir = self::plugin_dir(&wp, plugins_cache)?;
        prefix.extend(
            context::wrapper_prefix(
                &wp,
                ee,
                panther,
                &wdir,
                name,
                &t.name,
                svc_dir,
                artifact_dir,
            )
            .map_err(StartError::Template)?,
        );
        st.wrappers.push((wp, wdir));
    }
    if !prefix.is_empty() {
        prefix.append(&mut argv);
        argv = prefix;
    }
    let mut rules: Vec<Rule> = m.events.iter().filter_map(Rule::compile).collect();
    for (wp, _) in &st.wrappers {
        rules.extend(wp.manifest.events.iter().filter_map(Rule::compile));
    }
    let ready_log = spec
        .ready
        .as_ref()
        .and_then(|r| r.log.as_ref())
        .and_then(|l| regex::Regex::new(l).ok());
    lifecycle(
        tx,
        name,
        format!("starting {} ({})", plugin.name(), role),
        serde_json::json!({"step": "starting", "argv": argv, "port": port}),
    );
    let spec = Spec {
        service: name.to_string(),
        argv,
        env,
        cwd: svc_dir.to_path_buf(),
        log_dir: svc_dir.to_path_buf(),
        rules,
        ready_log,
        events: tx.clone(),
        runner: place.runner.clone(),
    };
    // The manifest's prepare and pre_run phases, in the service's folder.
    let phases = &plugin.manifest.phases;
    let pre: Vec<Vec<String>> = phases
        .prepare
        .iter()
        .chain(&phases.pre_run)
        .cloned()
        .collect();
    super::steps::run_all(name, "pre_run", &pre, svc_dir, &svc_dir.join("phases"), tx).await?;
    let proc = net.spawn(name, spec).await.map_err(StartError::Spawn)?;
    if place.runner != Runner::Container {
        let _ = sweep::record(
            svc_dir.parent().and_then(Path::parent).unwrap_or(svc_dir),
            proc.pid,
            name,
        );
    }
    lifecycle(
        tx,
        name,
        format!("started, pid {}", proc.pid),
        serde_json::json!({"step": "started", "pid": proc.pid}),
    );
    st.proc = Some(proc);
    st.runner = place.runner;
    Ok(())
}

/// The other endpoint of a QUIC service's packets: a client's target, else the service
/// that targets it.
fn quic_peer(t: &Test, name: &str) -> Option<String> {
    t.services[name].protocol.target.clone().or_else(|| {
        t.services
            .iter()
            .find(|(_, s)| s.protocol.target.as_deref() == Some(name))
            .map(|(n, _)| n.clone())
    })
}

/// Starts following the service's qlog folder (`crate::quic::qlog::tail`).
fn tail_qlog(t: &Test, name: &str, svc_dir: &Path, tx: &EventTx) -> QlogTail {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(crate::quic::qlog::tail::follow(
        svc_dir.join(QLOG_DIR),
        name.to_string(),
        quic_peer(t, name),
        tx.clone(),
        stopped,
    ));
    (stop, task)
}

/// For each QUIC client and its target: packets one endpoint's qlog sent and the other's
/// never received, as lost message events.
fn qlog_losses(t: &Test, started: &[Started], test_dir: &Path, tx: &EventTx) {
    for s in started.iter().filter(|s| s.role == Role::Client) {
        let svc = &t.services[&s.name];
        let Some(target) = &svc.protocol.target else {
            continue;
        };
        if !speaks_quic(&svc.protocol.name) || !started.iter().any(|o| &o.name == target) {
            continue;
        }
        let a = test_dir.join(results::slug(&s.name)).join(QLOG_DIR);
        let b = test_dir.join(results::slug(target)).join(QLOG_DIR);
        let lost = crate::quic::qlog::tail::lost_events((&a, &s.name), (&b, target));
        if !lost.is_empty() {
            lifecycle(
                tx,
                ORCHESTRATOR,
                format!(
                    "qlog: {} packets sent and never received between {} and {target}",
                    lost.len(),
                    s.name
                ),
                serde_json::json!({"step": "qlog_lost", "lost": lost.len()}),
            );
        }
        for e in lost {
            tx.emit(e);
        }
    }
}

/// The test's stretch: its enabled execution environments' declared slowdowns.
fn wrappers_stretch(t: &Test, reg: &Registry) -> Stretch {
    Stretch::of(
        t.execution_environment
            .iter()
            .filter(|e| e.enabled)
            .filter_map(|e| {
                let p = reg.get(&[PluginKind::ExecutionEnvironment], &e.kind)?;
                let declared = p.manifest.wrapper.as_ref()?.slowdown;
                Some((p.name(), e.slowdown.unwrap_or(declared)))
            }),
    )
}

/// Copies the test's certificate files into the service's own folder (which every
/// environment makes visible to the service at the same path) and names them in its template
/// context as `cert`, `key` and `ca`.
fn hand_certificates(
    c: &certs::CertFiles,
    svc_dir: &Path,
    ctx: &mut serde_json::Value,
) -> Result<(), StartError> {
    let dir = svc_dir.join("certs");
    std::fs::create_dir_all(&dir).map_err(|e| prepare(&dir, e))?;
    for (var, src) in [("cert", &c.cert), ("key", &c.key), ("ca", &c.ca)] {
        let dest = dir.join(src.file_name().unwrap_or_default());
        std::fs::copy(src, &dest).map_err(|e| prepare(&dest, e))?;
        if let Some(o) = ctx.as_object_mut() {
            o.insert(var.into(), dest.display().to_string().into());
        }
    }
    Ok(())
}

/// A QUIC service's `www` (the test's files, which a server serves and the tester checks
/// byte for byte: `builtin::quic_tester::content`) and `downloads` (where a client puts
/// what it fetched), both inside its own folder so every environment shows them.
///
/// The files (11 MiB) are written once per run and hard-linked into each service's folder,
/// so a matrix of hundreds of QUIC cells does not write gigabytes.
fn quic_folders(
    svc_dir: &Path,
    cache: &Path,
    ctx: &mut serde_json::Value,
) -> Result<(), StartError> {
    let www = svc_dir.join("www");
    let shared = cache.join("quic-www");
    let io = prepare;
    if !shared.join("index.html").exists() {
        crate::builtin::quic_tester::content::write_all(&shared).map_err(|e| io(&shared, e))?;
    }
    std::fs::create_dir_all(&www).map_err(|e| io(&www, e))?;
    for f in std::fs::read_dir(&shared)
        .map_err(|e| io(&shared, e))?
        .flatten()
    {
        let dest = www.join(f.file_name());
        if std::fs::hard_link(f.path(), &dest).is_err() {
            std::fs::copy(f.path(), &dest).map_err(|e| io(&dest, e))?;
        }
    }
    let downloads = svc_dir.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| prepare(&downloads, e))?;
    if let Some(o) = ctx.as_object_mut() {
        o.insert("www".into(), www.display().to_string().into());
        o.insert("downloads".into(), downloads.display().to_string().into());
    }
    Ok(())
}

/// Opens the test's network environment (the driver its plugin names) and brings the
/// test's topology up; the error is the test's reason.
async fn network_up(
    t: &Test,
    reg: &Registry,
    test_dir: &Path,
    tx: &EventTx,
) -> Result<Box<dyn NetworkEnvironment>, NetworkUpError> {
    let kind = &t.network_environment.kind;
    let driver = reg
        .get(&[PluginKind::NetworkEnvironment], kind)
        .and_then(|p| p.manifest.network.as_ref())
        .map(|n| n.driver.clone())
        .ok_or_else(|| NetworkUpError::NotFound(kind.clone()))?;
    let topo = topology(t, reg, test_dir);
    let mut env = network::open(&driver, tx.clone()).map_err(NetworkUpError::Open)?;
    let outcome = env.up(&topo).await;
    match outcome {
        Ok(()) => {
            lifecycle(
                tx,
                "environment",
                format!("network environment {kind} up"),
                serde_json::json!({"step": "network_up", "driver": driver}),
            );
            Ok(env)
        }
        Err(source) => {
            let reason = NetworkUpError::Up {
                kind: kind.clone(),
                source,
            };
            lifecycle(
                tx,
                "environment",
                reason.to_string(),
                serde_json::json!({"step": "network_failed", "driver": driver}),
            );
            env.down().await;
            Err(reason)
        }
    }
}

/// The test's services as its network environment needs them.
/// Numbers every topology this process brings up (see `Topology::index`).
static TOPOLOGIES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

fn topology(t: &Test, reg: &Registry, test_dir: &Path) -> Topology {
    let services = t
        .services
        .iter()
        .map(|(name, svc)| {
            let proto = reg
                .protocol(&svc.protocol.name)
                .and_then(|p| p.manifest.protocol.clone());
            network::Node {
                name: name.clone(),
                role: svc.protocol.role,
                protocol: svc.protocol.name.clone(),
                transport: proto
                    .as_ref()
                    .map(|p| p.transport)
                    .unwrap_or(Transport::Tcp),
                target: svc.protocol.target.clone(),
                port: port_mappings(&svc.ports)
                    .first()
                    .map(|m| m.1)
                    .or(proto.map(|p| p.default_port).filter(|p| *p != 0)),
                publish: port_mappings(&svc.ports),
                plugin: reg.service(&svc.implementation.name).cloned(),
            }
        })
        .collect();
    Topology {
        owner: Owner::current(),
        index: TOPOLOGIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        label: t.name.clone(),
        dir: test_dir.to_path_buf(),
        services,
        link: t.network_environment.link.clone(),
        links: t.network_environment.links.clone(),
        capture: t.wants_capture(),
        config: t.network_environment.plugin_config.clone(),
    }
}

/// `host:container` mappings (validation has checked their form).
fn port_mappings(ports: &[String]) -> Vec<(u16, u16)> {
    ports
        .iter()
        .filter_map(|p| {
            let (h, c) = p.split_once(':')?;
            let c = c.split('/').next()?;
            Some((h.trim().parse().ok()?, c.trim().parse().ok()?))
        })
        .collect()
}

/// A folder or file made for a service could not be: which, and why.
fn prepare(path: &Path, source: std::io::Error) -> StartError {
    StartError::Prepare {
        path: path.to_path_buf(),
        source,
    }
}

/// The plugin's folder on disk; bundled plugins are written out once per run.
fn plugin_dir(p: &Plugin, cache: &Path) -> Result<PathBuf, StartError> {
    match &p.dir {
        Some(d) => Ok(d.clone()),
        None => {
            let rel = p.file.strip_prefix("plugins/").unwrap_or(&p.file);
            let dir = cache.join(Path::new(rel).parent().unwrap_or(Path::new("")));
            if dir.exists() {
                return Ok(dir);
            }
            loader::materialize_bundled(&p.file, cache).map_err(|source| StartError::Unpack {
                plugin: p.name().to_string(),
                source,
            })
        }
    }
}

async fn wait_ready(
    plugin: &Plugin,
    st: &mut Started,
    env: &dyn NetworkEnvironment,
    svc_dir: &Path,
    cancelled: &mut watch::Receiver<bool>,
    tx: &EventTx,
) -> Result<(), NotReady> {
    let role = st.role;
    let Some(spec) = plugin.manifest.run.get(&role) else {
        return Ok(());
    };
    let Some(r) = &spec.ready else { return Ok(()) };
    let port = st.port;
    let host = env
        .place(&st.name)
        .map(|p| p.host)
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
    let parse_port = |s: &Option<String>| -> Option<u16> {
        let s = s.as_ref()?;
        if s.contains("{{") {
            port
        } else {
            s.parse().ok().or(port)
        }
    };
    let probe = ready::Probe {
        tcp: parse_port(&r.tcp_port).map(|p| (host, p).into()),
        udp: parse_port(&r.udp_port).map(|p| (host, p).into()),
        quic: parse_port(&r.quic_port).map(|p| (host, p).into()),
        log: r.log.as_ref().and_then(|l| regex::Regex::new(l).ok()),
        file: r.file.as_ref().map(|f| svc_dir.join(f)),
        delay: r.delay_ms.map(Duration::from_millis),
        // A service in its own namespace is probed through its socket tables there.
        net_of: match st.runner {
            Runner::Host => None,
            _ => st.proc.as_ref().map(|p| p.pid),
        },
    };
    let limit = ready::seconds(
        st.stretch
            .seconds(r.timeout_s.unwrap_or(DEFAULT_READY_TIMEOUT)),
    );
    let proc = st.proc.as_mut().expect("started");
    let seen = proc.log_seen.clone();
    let t0 = Instant::now();
    let outcome = tokio::select! {
        _ = ready::wait(&probe, seen) => Ok(()),
        _ = tokio::time::sleep(limit) => Err(NotReady::Timeout { secs: limit.as_secs_f64() }),
        status = exited(proc) => Err(NotReady::Exited { how: process::describe(status) }),
        _ = cancelled.wait_for(|c| *c) => Err(NotReady::Cancelled),
    };
    // A process that died before it was ready: say why, from its last words.
    let outcome = match outcome {
        Err(reason) if proc.try_status().is_some() => {
            proc.wait().await;
            let tail: Vec<String> = proc
                .collected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .stderr_tail
                .iter()
                .cloned()
                .collect();
            st.early_exit = proc.try_status();
            Err(NotReady::LastWords {
                reason: Box::new(reason),
                last_lines: last_lines(&tail),
            })
        }
        other => other,
    };
    match &outcome {
        Ok(()) => lifecycle(
            tx,
            &st.name,
            format!("ready after {} ms", t0.elapsed().as_millis()),
            serde_json::json!({"step": "ready", "ms": t0.elapsed().as_millis() as u64}),
        ),
        Err(reason) => lifecycle(
            tx,
            &st.name,
            format!("not ready: {reason}"),
            serde_json::json!({"step": "not_ready"}),
        ),
    }
    outcome
}

async fn exited(p: &mut Supervised) -> std::process::ExitStatus {
    loop {
        if let Some(s) = p.try_status() {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A service's verdict from how it ended, what it reported, and its wrappers' findings.
fn judge(
    s: &Started,
    stopped: Option<(std::process::ExitStatus, bool)>,
    timed_out: bool,
    timeout: f64,
    cancelled: bool,
    tx: &EventTx,
) -> ServiceResult {
    let mut r = ServiceResult {
        name: s.name.clone(),
        plugin: s.plugin.name().to_string(),
        kind: s.plugin.kind().to_string(),
        role: s.role.to_string(),
        verdict: Verdict::Pass,
        reason: String::new(),
        exit: stopped.map(|(st, _)| process::describe(st)),
        checks: Vec::new(),
        evidence: Vec::new(),
        stretch: (!s.stretch.is_none()).then(|| s.stretch.clone()),
        profiles: Vec::new(),
        stacks: Vec::new(),
    };
    if let Some(f) = &s.failed {
        r.verdict = Verdict::Error;
        r.reason = f.clone();
        return r;
    }
    // One look at what the process's output handlers gathered: verdict records and the
    // end of stderr.
    let (collected, tail) = s
        .proc
        .as_ref()
        .map(|p| {
            let c = p.collected.lock().unwrap_or_else(|e| e.into_inner());
            (
                c.verdicts.clone(),
                c.stderr_tail.iter().cloned().collect::<Vec<_>>(),
            )
        })
        .unwrap_or_default();
    // A client IUT (PANTHER's ping_pong client) ends by itself, like a tester: its exit
    // code is its verdict, not a crash.
    let is_tester = s.decides_the_end();
    for rec in &collected {
        if let Ok(c) = serde_json::from_value::<crate::events::record::Check>(rec.data.clone()) {
            r.checks.push(CheckResult {
                property: c.property,
                verdict: c.verdict,
                reason: rec.text.clone(),
                reference: c.reference,
                subject: s.target.clone(),
            });
        }
    }
    match (is_tester, s.early_exit, stopped) {
        // A tester still running at the deadline hangs.
        (true, None, _) if timed_out => {
            r.verdict = Verdict::Error;
            r.reason = format!("tester hang: still running after the {timeout} s timeout");
        }
        (true, None, _) if cancelled => {
            r.verdict = Verdict::Inconclusive;
            r.reason = "cancelled before the tester finished".into();
        }
        (true, Some(status), _) | (true, None, Some((status, _))) => match status.code() {
            Some(0) => r.reason = format!("{} checks passed", r.checks.len()),
            Some(1) => {
                r.verdict = Verdict::Fail;
                let failed = failed_checks(&r.checks);
                r.reason = if failed.is_empty() {
                    "tester reported failure (exit code 1)".into()
                } else {
                    format!("failed: {}", failed.join(", "))
                };
            }
            _ => {
                r.verdict = Verdict::Error;
                r.reason = format!("tester {}{}", process::describe(status), last_lines(&tail));
            }
        },
        // An IUT that ended before teardown crashed.
        (false, Some(status), _) => {
            r.verdict = Verdict::Error;
            r.reason = format!(
                "IUT crashed: {}{}",
                process::describe(status),
                last_lines(&tail)
            );
        }
        (false, None, _) => r.reason = "ran until teardown".into(),
        (true, None, None) => {
            r.verdict = Verdict::Error;
            r.reason = "tester did not run".into();
        }
    }
    for c in &r.checks {
        r.verdict = r.verdict.join(if c.verdict == Verdict::Error {
            Verdict::Error
        } else {
            c.verdict.min(Verdict::Fail)
        });
    }
    // Wrappers' own findings (valgrind errors, …).
    for (wp, _) in &s.wrappers {
        if let Some(w) = &wp.manifest.wrapper {
            let mut parsed =
                crate::env::execution::parse_artifacts(&w.parser, &s.artifact_dir, &s.name);
            // Put trace lines at the moment they happened, not when they were read.
            parsed.stamp_times(tx.clock().wall_start());
            for e in parsed.events {
                tx.emit(e);
            }
            r.profiles.extend(parsed.profiles);
            r.stacks.extend(parsed.stacks);
            if let Some((v, why)) = parsed.verdict {
                if v > r.verdict {
                    r.reason = format!("{}: {why}", wp.name());
                } else if v == r.verdict && v != Verdict::Pass {
                    // Already as bad (a crash): the wrapper says where it happened.
                    r.reason = format!("{}; {}: {why}", r.reason, wp.name());
                }
                r.verdict = r.verdict.join(v);
            }
        }
    }
    let mut e = Event::new(
        s.name.as_str(),
        Kind::Verdict,
        format!("{}: {}", r.verdict, r.reason),
    );
    e.data = serde_json::json!({"verdict": r.verdict, "service_verdict": true});
    tx.emit(e);
    r
}

fn thread_id() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r" \(\d+\) panicked").expect("valid"))
}

/// The last words of a process for a crash report: a Rust panic's location and message when
/// there is one (a backtrace after it says less), else the last three stderr lines.
fn last_lines(tail: &[String]) -> String {
    if let Some(i) = tail.iter().rposition(|l| l.contains("panicked at")) {
        let msg = tail
            .get(i + 1)
            .map(|m| format!(" {}", m.trim()))
            .unwrap_or_default();
        // Rust names the panicking thread with its id (`thread 'main' (4711) panicked`);
        // the id differs every run and says nothing, so the reason leaves it out.
        let line = thread_id().replace(tail[i].trim(), " panicked");
        return format!("; {line}{msg}");
    }
    let n = tail.len().saturating_sub(3);
    let lines: Vec<&str> = tail[n..].iter().map(|l| l.trim()).collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("; last stderr: {}", lines.join(" | "))
    }
}
