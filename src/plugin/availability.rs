//! Whether a plugin can run on this machine, and if not, why and how to fix it. This is the
//! step after validation; discovery itself runs nothing.

use std::collections::HashMap;

use super::manifest::{Engine, Manifest};

/// Caches lookups so checking a thousand plugins costs one PATH search per distinct binary.
#[derive(Default)]
pub struct Checker {
    binaries: HashMap<String, bool>,
    python: HashMap<String, bool>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    fn has_binary(&mut self, name: &str) -> bool {
        *self.binaries.entry(name.to_string()).or_insert_with(|| {
            if name.contains('/') {
                std::path::Path::new(name).is_file()
            } else {
                resolve_program(name).is_some()
            }
        })
    }

    fn has_python_module(&mut self, module: &str) -> bool {
        if let Some(v) = self.python.get(module) {
            return *v;
        }
        let ok = which::which("python3").is_ok()
            && std::process::Command::new("python3")
                .args([
                    "-c",
                    "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 1)",
                    module,
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
        self.python.insert(module.to_string(), ok);
        ok
    }

    /// `None` when the plugin can run here; otherwise the first missing requirement, with
    /// the install recipe when the manifest has one.
    pub fn check(&mut self, m: &Manifest) -> Option<String> {
        let fix = m
            .install
            .summary()
            .map(|s| format!("; install: {s}"))
            .unwrap_or_default();
        for b in &m.requires.binaries {
            if !self.has_binary(b) {
                return Some(format!("binary {b} not found{fix}"));
            }
        }
        for py in &m.requires.python_modules {
            if !self.has_python_module(py) {
                return Some(format!("python module {py} not importable by python3{fix}"));
            }
        }
        if m.requires.root && !nix::unistd::geteuid().is_root() {
            return Some("needs root (run panther as root or with CAP_NET_ADMIN)".to_string());
        }
        if let Some(Engine::Docker) = m.requires.engine
            && !docker_socket_present()
        {
            return Some(
                    "no Docker engine: /var/run/docker.sock not found and DOCKER_HOST unset; install: apt-get install -y docker.io and start dockerd"
                        .to_string(),
                );
        }
        None
    }
}

fn docker_socket_present() -> bool {
    std::env::var_os("DOCKER_HOST").is_some()
        || std::path::Path::new("/var/run/docker.sock").exists()
        || std::path::Path::new("/run/docker.sock").exists()
}

/// Where a program is: `$PATH`, then the sbin folders a non-root Debian user lacks on PATH
/// (nginx lives in /usr/sbin). The run engine resolves argv[0] the same way.
pub fn resolve_program(name: &str) -> Option<std::path::PathBuf> {
    if name.contains('/') {
        let p = std::path::Path::new(name);
        return p.is_file().then(|| p.to_path_buf());
    }
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    let mut extra = std::ffi::OsString::from(":/usr/local/sbin:/usr/sbin:/sbin");
    if path.is_empty() {
        extra = std::ffi::OsString::from("/usr/local/sbin:/usr/sbin:/sbin");
    }
    path.push(extra);
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    which::which_in(name, Some(path), cwd).ok()
}
