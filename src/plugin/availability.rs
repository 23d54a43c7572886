//! Whether a plugin can run on this machine, and if not, why and how to fix it. This is the
//! step after validation; discovery itself runs nothing.

use std::collections::HashMap;

use super::manifest::{Engine, Manifest};

/// Caches lookups so checking a thousand plugins costs one PATH search per distinct binary.
#[derive(Default)]
pub struct Checker {
    binaries: HashMap<String, bool>,
    python: HashMap<String, bool>,
    /// python3's module search path and built-in module names, once asked.
    #[allow(clippy::type_complexity)]
    python_paths: Option<Option<(Vec<std::path::PathBuf>, Vec<String>)>>,
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

    /// Whether python3 could import `module`, found without importing anything: the module's
    /// file (or package folder) is looked for in the interpreter's own search path, asked once
    /// from an isolated interpreter (`-I`: no current folder, no PYTHON* variables) started in
    /// `/`. Importing to check would run the module's code, or a dotted name's parent
    /// package, or a same-named file in the current folder.
    fn has_python_module(&mut self, module: &str) -> bool {
        if let Some(v) = self.python.get(module) {
            return *v;
        }
        let ok = self
            .python_paths()
            .is_some_and(|(paths, builtins)| python_module_in(module, paths, builtins));
        self.python.insert(module.to_string(), ok);
        ok
    }

    fn python_paths(&mut self) -> Option<&(Vec<std::path::PathBuf>, Vec<String>)> {
        if self.python_paths.is_none() {
            self.python_paths = Some(python_search_path());
        }
        self.python_paths.as_ref().and_then(Option::as_ref)
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
        if !m.requires.tools.is_empty() {
            let tools = super::install::tools_dir();
            for t in &m.requires.tools {
                if !tools.join(t).is_file() {
                    let fix = if fix.is_empty() {
                        String::new()
                    } else {
                        format!("; install: panther plugins install {}", m.name)
                    };
                    return Some(format!("{t} not found in {}{fix}", tools.display()));
                }
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

/// python3's `sys.path` (absolute folders only, never the current one) and
/// `sys.builtin_module_names`.
fn python_search_path() -> Option<(Vec<std::path::PathBuf>, Vec<String>)> {
    let py = resolve_program("python3")?;
    let out = std::process::Command::new(py)
        .args([
            "-I",
            "-c",
            "import sys,json; print(json.dumps([sys.path, list(sys.builtin_module_names)]))",
        ])
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let (paths, builtins): (Vec<String>, Vec<String>) = serde_json::from_slice(&out.stdout).ok()?;
    let cwd = std::env::current_dir().ok();
    let paths = paths
        .into_iter()
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute() && Some(p) != cwd.as_ref() && p.is_dir())
        .collect();
    Some((paths, builtins))
}

/// Whether `module` (dotted: `a.b.c`) is a built-in module or has a source file, a compiled
/// extension or a package folder under one of `paths`. Reads folder listings only.
pub fn python_module_in(module: &str, paths: &[std::path::PathBuf], builtins: &[String]) -> bool {
    let parts: Vec<&str> = module.split('.').collect();
    let ident = |s: &&str| {
        let mut c = s.chars();
        c.next().is_some_and(|f| f == '_' || f.is_alphabetic())
            && c.all(|x| x == '_' || x.is_alphanumeric())
    };
    if parts.is_empty() || !parts.iter().all(ident) {
        return false;
    }
    if parts.len() == 1 && builtins.iter().any(|b| b == module) {
        return true;
    }
    let (last, parents) = parts.split_last().expect("not empty");
    paths.iter().any(|root| {
        let mut dir = root.clone();
        for p in parents {
            dir.push(p);
            if !dir.is_dir() {
                return false;
            }
        }
        if dir.join(last).is_dir() {
            return true;
        }
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return false;
        };
        rd.flatten().any(|e| {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                return false;
            };
            let Some(rest) = name.strip_prefix(last) else {
                return false;
            };
            // last.py, last.pyc, last.so, last.cpython-311-x86_64-linux-gnu.so, last.abi3.so
            rest == ".py" || rest == ".pyc" || (rest.starts_with('.') && rest.ends_with(".so"))
        })
    })
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
