//! A manifest's `install:` as argv steps (apt, pip, a venv, cargo into panther's tools
//! folder), each with the check that makes it skippable, so `panther plugins install` is
//! idempotent and never runs anything through a shell.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::manifest::{CargoInstall, Install, VenvInstall};

/// Where installs go: `$PANTHER_TOOLS_DIR`, else `~/.local/share/panther/tools`. Templates
/// name it `{{ tools }}`.
pub fn tools_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PANTHER_TOOLS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::data_local_dir()
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("panther")
        .join("tools")
}

/// What the steps are made for: the tools folder and, for `cargo.path`, the plugin's folder.
pub struct Ctx {
    pub tools: PathBuf,
    /// `None` when only shown (the path is written `PLUGIN_DIR`).
    pub plugin_dir: Option<PathBuf>,
    /// Resolve `venv.python` to a real interpreter (else it is shown as `python3.12`).
    pub resolve_python: bool,
}

impl Ctx {
    pub fn display() -> Ctx {
        Ctx {
            tools: tools_dir(),
            plugin_dir: None,
            resolve_python: false,
        }
    }
}

/// One command and how to tell it has nothing left to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub argv: Vec<String>,
    pub done_when: Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// These Debian packages are installed (the step then installs only the missing ones).
    Apt(Vec<String>),
    /// This interpreter has these distributions at these versions (`name==version`).
    Pip {
        python: String,
        packages: Vec<String>,
    },
    /// These files exist.
    Files(Vec<PathBuf>),
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("no Python {want} found (looked for python{want} on PATH and in ~/.pyenv/versions)")]
    NoPython { want: String },
    #[error("`cargo` entry {index} needs exactly one of `crate` and `path`")]
    CargoSource { index: usize },
    #[error("`{path}` leaves the plugin folder")]
    OutsidePlugin { path: String },
}

/// The steps of `install`, in order: apt, pip, venvs, cargo.
pub fn steps(i: &Install, ctx: &Ctx) -> Vec<Step> {
    try_steps(i, ctx).unwrap_or_else(|_| {
        // Shown only: an unresolvable entry is shown with its literal values.
        let shown = Ctx {
            tools: ctx.tools.clone(),
            plugin_dir: None,
            resolve_python: false,
        };
        try_steps(i, &shown).unwrap_or_default()
    })
}

pub fn try_steps(i: &Install, ctx: &Ctx) -> Result<Vec<Step>, InstallError> {
    let mut out = Vec::new();
    if !i.apt.is_empty() {
        let mut argv = strings(&["apt-get", "install", "-y", "--no-install-recommends"]);
        argv.extend(i.apt.iter().cloned());
        out.push(Step {
            argv,
            done_when: Done::Apt(i.apt.clone()),
        });
    }
    if !i.pip.is_empty() {
        let mut argv = strings(&["python3", "-m", "pip", "install"]);
        argv.extend(i.pip.iter().cloned());
        out.push(Step {
            argv,
            done_when: Done::Pip {
                python: "python3".into(),
                packages: i.pip.clone(),
            },
        });
    }
    for v in &i.venv {
        out.extend(venv_steps(v, ctx)?);
    }
    for (index, c) in i.cargo.iter().enumerate() {
        out.push(cargo_step(c, index, ctx)?);
    }
    Ok(out)
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn venv_steps(v: &VenvInstall, ctx: &Ctx) -> Result<Vec<Step>, InstallError> {
    let dir = ctx.tools.join(&v.path);
    let python = if ctx.resolve_python {
        find_python(&v.python).ok_or_else(|| InstallError::NoPython {
            want: v.python.clone(),
        })?
    } else {
        format!("python{}", v.python)
    };
    let vpy = dir.join("bin").join("python3");
    let make = Step {
        argv: vec![
            python,
            "-m".into(),
            "venv".into(),
            dir.display().to_string(),
        ],
        done_when: Done::Files(vec![vpy.clone()]),
    };
    let mut argv = vec![
        vpy.display().to_string(),
        "-m".into(),
        "pip".into(),
        "install".into(),
        "--disable-pip-version-check".into(),
    ];
    argv.extend(v.packages.iter().cloned());
    let pip = Step {
        argv,
        done_when: Done::Pip {
            python: vpy.display().to_string(),
            packages: v.packages.clone(),
        },
    };
    Ok(vec![make, pip])
}

fn cargo_step(c: &CargoInstall, index: usize, ctx: &Ctx) -> Result<Step, InstallError> {
    let root = ctx.tools.join(&c.root);
    let mut argv = strings(&["cargo", "install", "--locked"]);
    match (&c.krate, &c.path) {
        (Some(k), None) => argv.push(match &c.version {
            Some(v) => format!("{k}@{v}"),
            None => k.clone(),
        }),
        (None, Some(p)) => {
            let rel = Path::new(p);
            if rel.is_absolute()
                || rel
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(InstallError::OutsidePlugin { path: p.clone() });
            }
            let dir = match &ctx.plugin_dir {
                Some(d) => d.join(rel).display().to_string(),
                None => format!("PLUGIN_DIR/{p}"),
            };
            argv.extend(["--path".into(), dir]);
            // Never build inside the plugin folder (bundled plugins embed it whole).
            argv.extend([
                "--target-dir".into(),
                ctx.tools.join(".build").join(&c.root).display().to_string(),
            ]);
        }
        _ => return Err(InstallError::CargoSource { index }),
    }
    argv.extend(["--root".into(), root.display().to_string()]);
    if !c.features.is_empty() {
        argv.extend(["--features".into(), c.features.join(",")]);
    }
    let mut files = Vec::new();
    for b in &c.bins {
        argv.extend(["--bin".into(), b.clone()]);
        files.push(root.join("bin").join(b));
    }
    for e in &c.examples {
        argv.extend(["--example".into(), e.clone()]);
        files.push(root.join("bin").join(e));
    }
    Ok(Step {
        argv,
        done_when: Done::Files(files),
    })
}

/// A Python interpreter of at least version `want` ("3", "3.12"): `python{want}` on PATH,
/// else the newest matching pyenv version, checked by asking it its version.
pub fn find_python(want: &str) -> Option<String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = super::availability::resolve_program(&format!("python{want}")) {
        candidates.push(p);
    }
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".pyenv")));
    if let Some(root) = pyenv
        && let Ok(rd) = std::fs::read_dir(root.join("versions"))
    {
        let mut vs: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n == want || n.starts_with(&format!("{want}.")))
            })
            .collect();
        vs.sort();
        candidates.extend(vs.into_iter().rev().map(|v| v.join("bin").join("python3")));
    }
    if want == "3"
        && let Some(p) = super::availability::resolve_program("python3")
    {
        candidates.push(p);
    }
    candidates
        .into_iter()
        .find_map(|p| python_at_least(&p, want))
}

/// The interpreter's real path (`sys.executable`: a pyenv shim resolves to the version it
/// runs) when its version is at least `want`.
fn python_at_least(py: &Path, want: &str) -> Option<String> {
    let out = Command::new(py)
        .args([
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    let have = lines.next()?.trim();
    let exe = lines.next()?.trim();
    (out.status.success() && !exe.is_empty() && version_key(have) >= version_key(want))
        .then(|| exe.to_string())
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

impl Step {
    /// The argv still to run, or `None` when everything it installs is present (apt steps
    /// shrink to the missing packages).
    pub fn pending(&self) -> Option<Vec<String>> {
        match &self.done_when {
            Done::Apt(pkgs) => {
                let missing: Vec<&String> = pkgs.iter().filter(|p| !apt_installed(p)).collect();
                if missing.is_empty() {
                    return None;
                }
                let mut argv: Vec<String> = self.argv[..self.argv.len() - pkgs.len()].to_vec();
                argv.extend(missing.into_iter().cloned());
                Some(argv)
            }
            Done::Pip { python, packages } => {
                (!pip_present(python, packages)).then(|| self.argv.clone())
            }
            Done::Files(files) => {
                (files.is_empty() || !files.iter().all(|f| f.is_file())).then(|| self.argv.clone())
            }
        }
    }
}

fn apt_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Whether `python` has every `name[==version]` distribution (importlib.metadata, no import
/// of the packages themselves). The names are arguments, never code.
fn pip_present(python: &str, packages: &[String]) -> bool {
    const SCRIPT: &str = r#"import sys, importlib.metadata as m
def ok(spec):
    name, _, want = spec.partition("==")
    try:
        have = m.version(name.split("[")[0].strip())
    except Exception:
        return False
    return not want or have == want.strip()
sys.exit(0 if all(ok(s) for s in sys.argv[1:]) else 1)
"#;
    Command::new(python)
        .arg("-I")
        .arg("-c")
        .arg(SCRIPT)
        .args(packages)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            tools: PathBuf::from("/t"),
            plugin_dir: Some(PathBuf::from("/p")),
            resolve_python: false,
        }
    }

    #[test]
    fn cargo_steps_name_the_tools_folder_and_never_the_plugin_folder_as_target() {
        let i: Install = serde_norway::from_str(
            "cargo:\n  - {path: hq, root: quinn, bins: [hq-server, hq-client]}\n  - {crate: quiche, version: 0.30.0, root: quiche, features: [qlog], examples: [server]}\n",
        )
        .unwrap();
        let s = try_steps(&i, &ctx()).unwrap();
        assert_eq!(
            s[0].argv.join(" "),
            "cargo install --locked --path /p/hq --target-dir /t/.build/quinn --root /t/quinn --bin hq-server --bin hq-client"
        );
        assert_eq!(
            s[1].argv.join(" "),
            "cargo install --locked quiche@0.30.0 --root /t/quiche --features qlog --example server"
        );
        assert_eq!(
            s[1].done_when,
            Done::Files(vec![PathBuf::from("/t/quiche/bin/server")])
        );
    }

    #[test]
    fn bad_cargo_entries_are_typed_errors() {
        let i: Install =
            serde_norway::from_str("cargo:\n  - {path: ../x, root: q}\n  - {root: q}\n").unwrap();
        assert!(matches!(
            try_steps(&i, &ctx()),
            Err(InstallError::OutsidePlugin { .. })
        ));
        let i: Install = serde_norway::from_str("cargo:\n  - {root: q}\n").unwrap();
        assert!(matches!(
            try_steps(&i, &ctx()),
            Err(InstallError::CargoSource { index: 0 })
        ));
    }

    #[test]
    fn a_venv_is_two_steps_made_then_filled() {
        let i: Install = serde_norway::from_str(
            "venv:\n  - {path: picoquic/venv, python: '3.12', packages: [aiopquic==0.6.1]}\n",
        )
        .unwrap();
        let s = try_steps(&i, &ctx()).unwrap();
        assert_eq!(s[0].argv.join(" "), "python3.12 -m venv /t/picoquic/venv");
        assert_eq!(
            s[1].argv.join(" "),
            "/t/picoquic/venv/bin/python3 -m pip install --disable-pip-version-check aiopquic==0.6.1"
        );
    }

    #[test]
    fn pip_presence_is_asked_of_the_interpreter_without_running_package_code() {
        let Some(py) = find_python("3") else { return };
        assert!(pip_present(&py, &strings(&["pip"])));
        assert!(!pip_present(&py, &strings(&["pip==0.0.1"])));
        assert!(!pip_present(
            &py,
            &strings(&["pip", "no-such-distribution-xyz"])
        ));
    }

    #[test]
    fn an_apt_step_shrinks_to_the_missing_packages() {
        let s = Step {
            argv: strings(&["apt-get", "install", "-y", "dpkg", "no-such-package-xyz"]),
            done_when: Done::Apt(strings(&["dpkg", "no-such-package-xyz"])),
        };
        if Command::new("dpkg-query").arg("--version").output().is_ok() {
            assert_eq!(
                s.pending().unwrap().join(" "),
                "apt-get install -y no-such-package-xyz"
            );
        }
    }
}
