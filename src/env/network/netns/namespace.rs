//! Named network namespaces, one per service: created and configured with iproute2 (`ip`,
//! argv only, never a shell), a hosts file in `/etc/netns/NAME/hosts` (the place `ip netns
//! exec` also reads), and removal. Names carry the owning panther's identity, so a sweep can
//! prove a namespace is a leftover of a panther that is gone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::run::owner::Owner;

use super::NetnsError;

/// Every namespace panther makes is named `panther-PID-START-…`.
pub const PREFIX: &str = "panther-";
/// Where iproute2 keeps named namespaces.
pub const RUN_DIR: &str = "/run/netns";
/// Where per-namespace `/etc` files live (bind-mounted over `/etc/…` inside).
pub const ETC_DIR: &str = "/etc/netns";

/// The namespace name of one service of one test of a run.
pub fn name(owner: Owner, test: u32, service: &str) -> String {
    let svc: String = service
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    format!("{PREFIX}{}-t{test}-{svc}", owner.token())
}

/// The owner a namespace name names, if it is one of panther's.
pub fn owner_of(name: &str) -> Option<Owner> {
    let rest = name.strip_prefix(PREFIX)?;
    let mut it = rest.splitn(3, '-');
    let (pid, start) = (it.next()?, it.next()?);
    it.next()?.strip_prefix('t')?;
    Owner::parse(&format!("{pid}-{start}"))
}

pub fn path(name: &str) -> PathBuf {
    Path::new(RUN_DIR).join(name)
}

pub fn hosts_path(name: &str) -> PathBuf {
    Path::new(ETC_DIR).join(name).join("hosts")
}

/// Runs `ip ARGS…`; a failure carries ip's own words.
pub fn ip(args: &[&str]) -> Result<(), NetnsError> {
    let out = Command::new(ip_program())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| NetnsError::Tool(format!("cannot run ip: {e} (install iproute2)")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(NetnsError::Command {
        command: format!("ip {}", args.join(" ")),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// Runs `ip -n NAME -batch -` with `commands`, one per line: one process for a whole
/// namespace's configuration instead of one per command.
pub fn ip_batch(ns: &str, commands: &[String]) -> Result<(), NetnsError> {
    let mut child = Command::new(ip_program())
        .args(["-n", ns, "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NetnsError::Tool(format!("cannot run ip: {e} (install iproute2)")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(commands.join("\n").as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| NetnsError::Tool(e.to_string()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(NetnsError::Command {
        command: format!("ip -n {ns} -batch (configuring {ns})"),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

fn ip_program() -> PathBuf {
    crate::plugin::availability::resolve_program("ip").unwrap_or_else(|| PathBuf::from("ip"))
}

/// Creates the namespace `name`.
pub fn create(name: &str) -> Result<(), NetnsError> {
    ip(&["netns", "add", name])
}

/// Names the network namespace of process `pid` (a container's) `name`, so the rest of this
/// module (and `ip -n`, and the sweep) can reach it like one panther created.
pub fn attach(name: &str, pid: u32) -> Result<(), NetnsError> {
    ip(&["netns", "attach", name, &pid.to_string()])
}

/// Writes the namespace's hosts file: every service of the test by name.
pub fn write_hosts(name: &str, entries: &[(String, String)]) -> Result<PathBuf, NetnsError> {
    let file = hosts_path(name);
    let dir = file.parent().expect("hosts file has a folder");
    std::fs::create_dir_all(dir).map_err(|e| NetnsError::Io(dir.display().to_string(), e))?;
    let mut text = String::from("# written by panther for this run's namespace\n");
    text.push_str("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for (addr, host) in entries {
        text.push_str(&format!("{addr}\t{host}\n"));
    }
    std::fs::write(&file, text).map_err(|e| NetnsError::Io(file.display().to_string(), e))?;
    Ok(file)
}

/// Removes the namespace and its `/etc/netns` folder. Processes still inside are killed
/// first: they are provably the run's (they live in its namespace).
pub fn remove(name: &str) {
    let p = path(name);
    kill_inside(&p);
    if p.exists() && ip(&["netns", "delete", name]).is_err() {
        // The mount may already be gone; the file alone still blocks a new namespace.
        let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_file(&p);
    }
    let _ = std::fs::remove_dir_all(Path::new(ETC_DIR).join(name));
}

/// SIGKILLs every process whose network namespace is the one at `ns`.
pub fn kill_inside(ns: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(ns) else {
        return 0;
    };
    let (dev, ino) = (meta.dev(), meta.ino());
    let mut killed = 0;
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(m) = std::fs::metadata(p.path().join("ns/net")) else {
            continue;
        };
        if m.dev() == dev && m.ino() == ino && pid != std::process::id() as i32 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            killed += 1;
        }
    }
    killed
}

/// Namespaces left by panthers that are gone: removed, with whatever still ran inside.
/// Anything not named by [`name`], or owned by a live panther, is never touched.
pub fn sweep() -> Vec<String> {
    let mut swept = Vec::new();
    let Ok(entries) = std::fs::read_dir(RUN_DIR) else {
        return swept;
    };
    for e in entries.flatten() {
        let Some(n) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        match owner_of(&n) {
            Some(o) if !o.alive() => {
                remove(&n);
                tracing::warn!(netns = %n, "swept a network namespace left by an earlier run");
                swept.push(n);
            }
            _ => {}
        }
    }
    // `/etc/netns` folders whose namespace is gone.
    if let Ok(entries) = std::fs::read_dir(ETC_DIR) {
        for e in entries.flatten() {
            let Some(n) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if owner_of(&n).is_some_and(|o| !o.alive()) && !path(&n).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    swept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_owner() {
        let me = Owner::current();
        let n = name(me, 3, "server one");
        assert!(n.starts_with(PREFIX));
        assert!(n.ends_with("-t3-server_one"));
        assert_eq!(owner_of(&n), Some(me));
    }

    #[test]
    fn foreign_names_have_no_owner() {
        for n in [
            "blue",
            "panther",
            "panther-12",
            "panther-12-34",
            "panther-x-34-t1-a",
            "panther-12-34-server",
            "pantherx-12-34-t1-a",
        ] {
            assert_eq!(owner_of(n), None, "{n}");
        }
    }
}
