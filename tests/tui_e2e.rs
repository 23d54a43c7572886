//! The real binary in a real terminal (tmux): open the workbench, find a plugin with the
//! filter, read its README, quit, and get the shell back with the terminal restored.

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(sock: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-L")
        .arg(sock)
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(sock: &str, text: &str) -> String {
    wait_all(sock, &[text])
}

/// Waits until every text is on screen at once (a capture can catch a frame half-written).
fn wait_all(sock: &str, texts: &[&str]) -> String {
    let text = texts.join("`, `");
    let t0 = Instant::now();
    loop {
        let screen = tmux(sock, &["capture-pane", "-p", "-t", "t"]);
        if texts.iter().all(|t| screen.contains(t)) {
            return screen;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "`{text}` never appeared:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A tmux server with a shell in a 120×40 window (a shell first, so we can see it come back
/// after panther exits), and a scratch home. None when tmux is missing (never under CI).
fn shell(tag: &str) -> Option<(String, Server, tempfile::TempDir)> {
    shell_sized(tag, 120, 40)
}

fn shell_sized(tag: &str, w: u16, h: u16) -> Option<(String, Server, tempfile::TempDir)> {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "under CI, tmux must be installed"
        );
        eprintln!("skipped: tmux is not installed");
        return None;
    }
    let sock = format!("{tag}-{}", std::process::id());
    let server = Server(sock.clone());
    tmux(
        &sock,
        &[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            "sh",
        ],
    );
    Some((sock, server, tempfile::tempdir().unwrap()))
}

struct Server(String);
impl Drop for Server {
    fn drop(&mut self) {
        tmux(&self.0, &["kill-server"]);
    }
}

#[test]
fn browse_to_ping_pong_read_its_readme_and_quit() {
    let Some((sock, _server, home)) = shell("panther-e2e") else {
        return;
    };
    // Run from a scratch folder holding the experiments, so results land there.
    let work = home.path().join("work");
    std::fs::create_dir_all(work.join("experiments")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.yaml"),
        work.join("experiments/quickstart.yaml"),
    )
    .unwrap();
    let cmd = format!(
        "cd {} && HOME={} PANTHER_LOG_FILE={}/log {} --no-user-plugins; echo PANTHER-EXITED-$?",
        work.display(),
        home.path().display(),
        home.path().display(),
        env!("CARGO_BIN_EXE_panther")
    );
    tmux(&sock, &["send-keys", "-t", "t", &cmd, "Enter"]);
    // It opens on the quickstart experiment, valid and ready to run; 1 goes to the plugins.
    wait_all(&sock, &["✓ valid", "minip_quickstart"]);
    tmux(&sock, &["send-keys", "-t", "t", "1"]);
    wait_for(&sock, "plugins (25)");
    tmux(
        &sock,
        &["send-keys", "-t", "t", "/", "p", "i", "n", "g", "Enter"],
    );
    // Wait for the README itself: a capture can catch a frame half-written.
    wait_all(
        &sock,
        &["# ping_pong", "matching “ping”", "ping_pong 0.1.0"],
    );
    // Open the quickstart experiment, launch it, watch the arrows and the verdict arrive.
    tmux(&sock, &["send-keys", "-t", "t", "Escape", "3"]);
    wait_all(&sock, &["✓ valid", "minip_quickstart"]);
    tmux(&sock, &["send-keys", "-t", "t", "C-r"]);
    // Arrows with MinIP summaries, the pass banner, and the run's end in the status line.
    wait_all(&sock, &["finished: pass", "PING seq=", "PONG seq=", "PASS"]);
    // An event's detail.
    tmux(&sock, &["send-keys", "-t", "t", "Enter"]);
    wait_for(&sock, "verdict #");
    tmux(&sock, &["send-keys", "-t", "t", "q"]);
    let screen = wait_for(&sock, "PANTHER-EXITED-0");
    // The alternate screen is gone: the browser's frame is no longer on the terminal.
    assert!(!screen.contains("plugins (25)"), "{screen}");
}

#[test]
fn interactive_tutorials_open_the_picker_and_the_first_steps_complete() {
    let Some((sock, _server, home)) = shell("panther-e2e-tut") else {
        return;
    };
    let cmd = format!(
        "HOME={} XDG_STATE_HOME={}/state PANTHER_LOG_FILE={}/log {} --no-user-plugins --interactive-tutorials; echo PANTHER-EXITED-$?",
        home.path().display(),
        home.path().display(),
        home.path().display(),
        env!("CARGO_BIN_EXE_panther")
    );
    tmux(&sock, &["send-keys", "-t", "t", &cmd, "Enter"]);
    // The picker, the first tutorial not finished selected; Enter starts it.
    wait_all(
        &sock,
        &["tutorials · Enter start/resume", "› Your first run"],
    );
    tmux(&sock, &["send-keys", "-t", "t", "Enter"]);
    // It opens the experiment (step 1) and the experiment validates (step 2).
    wait_all(
        &sock,
        &["tutorial: Your first run · step 3 of 4", "Press Ctrl-R"],
    );
    let saved = std::fs::read_to_string(home.path().join("state/panther/tutorials.json")).unwrap();
    assert!(saved.contains("\"first_run\": 2"), "{saved}");
    tmux(&sock, &["send-keys", "-t", "t", "C-c"]);
    wait_for(&sock, "PANTHER-EXITED-0");
}

/// `:create` asks its questions on the palette line; the plugin is written to the user's
/// plugins folder, loaded and selected in the browser.
#[test]
fn the_create_wizard_scaffolds_loads_and_selects_a_plugin() {
    let Some((sock, _server, home)) = shell("panther-e2e-create") else {
        return;
    };
    let cmd = format!(
        "HOME={h} XDG_CONFIG_HOME={h}/config XDG_STATE_HOME={h}/state PANTHER_LOG_FILE={h}/log {} --no-user-plugins; echo PANTHER-EXITED-$?",
        env!("CARGO_BIN_EXE_panther"),
        h = home.path().display(),
    );
    tmux(&sock, &["send-keys", "-t", "t", &cmd, "Enter"]);
    wait_all(&sock, &["✓ valid", "minip_quickstart"]);
    tmux(&sock, &["send-keys", "-t", "t", "C-p", "create", "Enter"]);
    wait_for(&sock, "new plugin, type (iut | tester");
    tmux(&sock, &["send-keys", "-t", "t", "iut", "Enter"]);
    wait_for(&sock, "new iut plugin, name");
    tmux(&sock, &["send-keys", "-t", "t", "my_iut", "Enter"]);
    wait_for(&sock, "my_iut: the protocol it speaks [minip]");
    tmux(&sock, &["send-keys", "-t", "t", "Enter"]);
    wait_all(
        &sock,
        &[
            "created iut plugin `my_iut`",
            "my_iut 0.1.0",
            "plugins (26)",
        ],
    );
    let manifest = home
        .path()
        .join("config/panther/plugins/services/iut/minip/my_iut/plugin.yaml");
    assert!(manifest.exists());
    tmux(&sock, &["send-keys", "-t", "t", "q"]);
    wait_for(&sock, "PANTHER-EXITED-0");
}

/// Waits until `text` is no longer on screen.
fn wait_gone(sock: &str, text: &str) -> String {
    let t0 = Instant::now();
    loop {
        let screen = tmux(sock, &["capture-pane", "-p", "-t", "t"]);
        if !screen.contains(text) {
            return screen;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "`{text}` never went away:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn keys(sock: &str, keys: &[&str]) {
    let mut args = vec!["send-keys", "-t", "t"];
    args.extend_from_slice(keys);
    tmux(sock, &args);
}

/// A newcomer's first minute at 80×24 with a fresh HOME: help for the screen they are on,
/// the screen keys, insert mode, a run, and `q` on a modified buffer asking. The file on
/// disk is unchanged, since it was never saved.
#[test]
fn a_newcomers_first_minute_at_80x24() {
    let Some((sock, _server, home)) = shell_sized("panther-e2e-first", 80, 24) else {
        return;
    };
    let work = home.path().join("work");
    std::fs::create_dir_all(work.join("experiments")).unwrap();
    let file = work.join("experiments/quickstart.yaml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.yaml"),
        &file,
    )
    .unwrap();
    let original = std::fs::read_to_string(&file).unwrap();
    let cmd = format!(
        "cd {w} && HOME={h} XDG_CONFIG_HOME={h}/config XDG_STATE_HOME={h}/state PANTHER_LOG_FILE={h}/log {} --no-user-plugins; echo PANTHER-EXITED-$?",
        env!("CARGO_BIN_EXE_panther"),
        w = work.display(),
        h = home.path().display(),
    );
    keys(&sock, &[&cmd, "Enter"]);
    // View mode, with the footer whole at 80 columns.
    let s = wait_all(&sock, &["✓ valid", "VIEW", "i edit", "? more"]);
    assert!(s.contains("i edit · Ctrl-R run"), "{s}");
    // ? opens the editor's help, ? closes it.
    keys(&sock, &["?"]);
    wait_for(&sock, "keys: the editor (view mode)");
    keys(&sock, &["?"]);
    wait_gone(&sock, "keys: the editor");
    // The screen keys go to the screens and type nothing.
    keys(&sock, &["2"]);
    wait_for(&sock, "runs in outputs");
    keys(&sock, &["1"]);
    wait_for(&sock, "plugins (25)");
    keys(&sock, &["3"]);
    wait_for(&sock, "experiments/quickstart.yaml");
    keys(&sock, &["4"]);
    wait_for(&sock, "No run open");
    keys(&sock, &["Escape"]);
    let s = wait_for(&sock, "experiments/quickstart.yaml");
    assert!(!s.contains("[modified]"), "nothing typed yet:\n{s}");
    // i edits; Esc leaves insert mode; the edit stays.
    keys(&sock, &["i"]);
    wait_for(&sock, "INSERT");
    keys(&sock, &["-l", "#q?1 "]);
    keys(&sock, &["Escape"]);
    wait_all(&sock, &["VIEW", "[modified]", "#q?1 #"]);
    // Ctrl-R runs the (still valid) buffer.
    keys(&sock, &["C-r"]);
    let s = wait_all(&sock, &["finished: pass", "PASS · run ok"]);
    assert!(
        !s.contains("live:"),
        "the title drops `live:` once the run ended:\n{s}"
    );
    keys(&sock, &["3"]);
    wait_for(&sock, "[modified]");
    // q asks; n keeps editing; q again, d discards and quits.
    keys(&sock, &["q"]);
    // Whole at 80 columns: wrapped, not cut.
    let s = wait_all(
        &sock,
        &["quit? quickstart.yaml has unsaved changes", "n/Esc keep"],
    );
    let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert_eq!(last.trim(), "editing", "{s}");
    keys(&sock, &["n"]);
    wait_for(&sock, "kept editing");
    keys(&sock, &["C-c"]);
    wait_for(&sock, "quickstart.yaml has unsaved changes");
    keys(&sock, &["d"]);
    wait_for(&sock, "PANTHER-EXITED-0");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "never saved"
    );
}

/// Killed with `sig` (SIGTERM from a supervisor, SIGHUP from a closed terminal), the workbench
/// restores the terminal (no alternate screen, no mouse reporting) and exits 128 + the signal,
/// as a shell reports it, never 0 (issue 13 #17, #8).
fn killed_by(tag: &str, sig: &str, code: i32) {
    let Some((sock, _server, home)) = shell_sized(tag, 80, 24) else {
        return;
    };
    let pidfile = home.path().join("pid");
    let cmd = format!(
        "HOME={h} XDG_CONFIG_HOME={h}/config XDG_STATE_HOME={h}/state PANTHER_LOG_FILE={h}/log sh -c 'echo $$ > {p}; exec {} --no-user-plugins'; echo PANTHER-EXITED-$?",
        env!("CARGO_BIN_EXE_panther"),
        h = home.path().display(),
        p = pidfile.display(),
    );
    keys(&sock, &[&cmd, "Enter"]);
    wait_all(&sock, &["VIEW", "? more"]);
    let on = |what: &str| tmux(&sock, &["display-message", "-p", "-t", "t", what]);
    assert_eq!(on("#{alternate_on}").trim(), "1", "the workbench is drawn");
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let pid = nix::unistd::Pid::from_raw(pid.trim().parse().unwrap());
    let signal: nix::sys::signal::Signal = sig.parse().unwrap();
    nix::sys::signal::kill(pid, signal).unwrap();
    let s = wait_for(&sock, &format!("PANTHER-EXITED-{code}"));
    assert!(!s.contains("PANTHER-EXITED-0"), "{s}");
    assert_eq!(on("#{alternate_on}").trim(), "0", "alternate screen left");
    assert_eq!(on("#{mouse_any_flag}").trim(), "0", "mouse reporting off");
    assert_eq!(
        on("#{mouse_button_flag}").trim(),
        "0",
        "mouse reporting off"
    );
}

#[test]
fn sigterm_restores_the_terminal_and_exits_143() {
    killed_by("panther-e2e-term", "SIGTERM", 143);
}

#[test]
fn sighup_restores_the_terminal_and_exits_129() {
    killed_by("panther-e2e-hup", "SIGHUP", 129);
}

/// `panther FILE` opens FILE in the editor (issue 14 #11), not the quickstart.
#[test]
fn panther_file_opens_that_file_in_the_editor() {
    let Some((sock, _server, home)) = shell_sized("panther-e2e-file", 100, 30) else {
        return;
    };
    let file = home.path().join("mine.yaml");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/quickstart.yaml"
    ))
    .unwrap()
    .replace("minip_quickstart", "my_own_test");
    std::fs::write(&file, text).unwrap();
    let cmd = format!(
        "cd {h} && HOME={h} XDG_CONFIG_HOME={h}/config XDG_STATE_HOME={h}/state PANTHER_LOG_FILE={h}/log {} --no-user-plugins mine.yaml; echo PANTHER-EXITED-$?",
        env!("CARGO_BIN_EXE_panther"),
        h = home.path().display(),
    );
    keys(&sock, &[&cmd, "Enter"]);
    let s = wait_all(&sock, &["mine.yaml", "my_own_test", "✓ valid"]);
    assert!(!s.contains("minip_quickstart"), "{s}");
    keys(&sock, &["q"]);
    wait_for(&sock, "PANTHER-EXITED-0");
}
