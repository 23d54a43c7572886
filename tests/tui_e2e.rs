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
            "120",
            "-y",
            "40",
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
    // It opens on the quickstart experiment, valid and ready to run; Esc leaves the editor.
    wait_all(&sock, &["✓ valid", "minip_quickstart"]);
    tmux(&sock, &["send-keys", "-t", "t", "Escape"]);
    wait_for(&sock, "plugins (14)");
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
    assert!(!screen.contains("plugins (14)"), "{screen}");
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
            "plugins (15)",
        ],
    );
    let manifest = home
        .path()
        .join("config/panther/plugins/services/iut/minip/my_iut/plugin.yaml");
    assert!(manifest.exists());
    tmux(&sock, &["send-keys", "-t", "t", "q"]);
    wait_for(&sock, "PANTHER-EXITED-0");
}
