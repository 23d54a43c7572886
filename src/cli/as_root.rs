//! Package-manager steps as a user may run them: `apt-get` needs root, so a user who is not
//! root gets it under `sudo` (an argv, never a shell), and apt's package lists are refreshed
//! first when they are missing or stale (a fresh container has none, and `apt-get install`
//! then fails with "Unable to locate package"). Shared by `panther plugins install` and the
//! workbench's `i`, so both run, and show, the same commands.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Package lists older than this are refreshed before an install.
pub const APT_LISTS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Where apt keeps its package lists.
pub const APT_LISTS: &str = "/var/lib/apt/lists";

/// What this machine offers for commands that need root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privilege {
    pub root: bool,
    pub sudo: bool,
}

impl Privilege {
    pub fn here() -> Privilege {
        Privilege {
            root: nix::unistd::geteuid().is_root(),
            sudo: which::which("sudo").is_ok(),
        }
    }
}

/// How sudo may ask for a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// On the terminal (the headless command, run by a person).
    Terminal,
    /// Never (`sudo -n`): the workbench owns the terminal, so sudo fails with "a password is
    /// required" instead of writing a prompt over the screen and waiting.
    Never,
}

/// Whether apt's lists are there and younger than [`APT_LISTS_MAX_AGE`]: the folder holds a
/// `…_Packages…` file and was changed (an update replaces its files) recently.
pub fn apt_lists_fresh(dir: &Path, now: SystemTime) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let has_packages = entries
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains("_Packages"));
    let changed = std::fs::metadata(dir).and_then(|m| m.modified());
    has_packages
        && changed.is_ok_and(|t| now.duration_since(t).unwrap_or_default() < APT_LISTS_MAX_AGE)
}

/// Whether a command is apt's (the ones that need root and fresh lists).
pub fn is_apt(argv: &[String]) -> bool {
    argv.first().is_some_and(|p| p == "apt-get" || p == "apt")
}

/// Why the commands cannot run as this user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{command}` needs root and sudo is not installed\n  help: run `panther plugins install {plugin}` as root"
)]
pub struct NeedsRoot {
    pub command: String,
    pub plugin: String,
}

/// `commands` as they will run here: `apt-get update` before the first apt command when the
/// lists are stale, and every apt command under sudo when not root.
pub fn plan(
    plugin: &str,
    commands: Vec<Vec<String>>,
    who: Privilege,
    lists_fresh: bool,
    prompt: Prompt,
) -> Result<Vec<Vec<String>>, NeedsRoot> {
    let mut out = Vec::with_capacity(commands.len() + 1);
    let mut updated = lists_fresh;
    for c in commands {
        if !is_apt(&c) {
            out.push(c);
            continue;
        }
        if !who.root && !who.sudo {
            return Err(NeedsRoot {
                command: c.join(" "),
                plugin: plugin.to_string(),
            });
        }
        if !updated && c.get(1).is_some_and(|s| s == "install") {
            out.push(elevated(
                vec!["apt-get".into(), "update".into()],
                who,
                prompt,
            ));
            updated = true;
        }
        out.push(elevated(c, who, prompt));
    }
    Ok(out)
}

/// `argv` under sudo when not root (`-n` when sudo must not prompt).
pub fn elevated(argv: Vec<String>, who: Privilege, prompt: Prompt) -> Vec<String> {
    if who.root {
        return argv;
    }
    let mut out = vec!["sudo".to_string()];
    if prompt == Prompt::Never {
        out.push("-n".into());
    }
    out.extend(argv);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    const ROOT: Privilege = Privilege {
        root: true,
        sudo: false,
    };
    const USER: Privilege = Privilege {
        root: false,
        sudo: true,
    };
    const BARE: Privilege = Privilege {
        root: false,
        sudo: false,
    };

    #[test]
    fn root_with_fresh_lists_runs_the_commands_as_written() {
        let cmds = vec![
            argv("apt-get install -y nginx"),
            argv("python3 -m pip install x"),
        ];
        assert_eq!(
            plan("p", cmds.clone(), ROOT, true, Prompt::Never).unwrap(),
            cmds
        );
    }

    #[test]
    fn stale_lists_are_updated_once_before_the_first_install() {
        let cmds = vec![argv("apt-get install -y a"), argv("apt-get install -y b")];
        let got = plan("p", cmds, ROOT, false, Prompt::Never).unwrap();
        assert_eq!(
            got,
            [
                argv("apt-get update"),
                argv("apt-get install -y a"),
                argv("apt-get install -y b")
            ]
        );
    }

    #[test]
    fn a_user_gets_apt_under_sudo_and_the_rest_as_is() {
        let cmds = vec![argv("apt-get install -y a"), argv("cargo install x")];
        let got = plan("p", cmds.clone(), USER, false, Prompt::Never).unwrap();
        assert_eq!(
            got,
            [
                argv("sudo -n apt-get update"),
                argv("sudo -n apt-get install -y a"),
                argv("cargo install x")
            ]
        );
        let got = plan("p", cmds, USER, true, Prompt::Terminal).unwrap();
        assert_eq!(got[0], argv("sudo apt-get install -y a"));
    }

    #[test]
    fn without_root_or_sudo_apt_is_refused_with_what_to_do() {
        let e = plan(
            "nginx",
            vec![argv("apt-get install -y nginx")],
            BARE,
            true,
            Prompt::Never,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("needs root and sudo is not installed")
        );
        assert!(e.to_string().contains("panther plugins install nginx"));
        // Nothing of apt: nothing refused.
        let ok = plan(
            "x",
            vec![argv("cargo install x")],
            BARE,
            false,
            Prompt::Never,
        )
        .unwrap();
        assert_eq!(ok, [argv("cargo install x")]);
    }

    #[test]
    fn lists_are_fresh_only_when_a_packages_file_is_there_and_recent() {
        let d = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        assert!(!apt_lists_fresh(d.path(), now), "empty: missing");
        std::fs::write(d.path().join("x_main_binary-amd64_Packages.lz4"), "").unwrap();
        assert!(apt_lists_fresh(d.path(), now));
        assert!(
            !apt_lists_fresh(d.path(), now + APT_LISTS_MAX_AGE * 2),
            "stale"
        );
        assert!(!apt_lists_fresh(&d.path().join("nope"), now));
    }
}
