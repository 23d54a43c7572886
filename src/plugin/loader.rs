//! Discovery: find every `plugin.yaml`, parse and check it, read its README. Nothing runs.
//! A broken manifest becomes diagnostics with file:line:column; the others still load.

use std::path::{Path as FsPath, PathBuf};

use include_dir::{Dir, include_dir};

use crate::diag::Diagnostic;
use crate::yaml::{self, Limits, Span};

use super::check;
use super::manifest::Manifest;

/// The bundled plugins, compiled in so the binary works from any directory.
static BUNDLED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/plugins");

pub const MANIFEST_FILE: &str = "plugin.yaml";
const MANIFEST_LIMITS: Limits = Limits {
    max_bytes: 1024 * 1024,
    max_nodes: 50_000,
    max_depth: 32,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Shipped inside the binary.
    Bundled,
    /// `~/.config/panther/plugins`.
    User,
    /// `--plugin-dir` or a folder given on the command line.
    Dir,
}

/// Where to look for plugins.
#[derive(Debug, Clone)]
pub enum Source {
    Bundled,
    Dir(PathBuf, Origin),
}

#[derive(Debug, Clone)]
pub struct Discovered {
    pub manifest: Manifest,
    /// The manifest's path as shown to users (`plugins/…` for bundled ones).
    pub file: String,
    /// The plugin folder on disk; `None` for bundled plugins, which live in the binary.
    pub dir: Option<PathBuf>,
    pub readme: Option<String>,
    pub origin: Origin,
    /// The parsed document, kept so later checks can point at a line.
    pub root: yaml::Node,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub plugins: Vec<Discovered>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse and check one manifest's text.
pub fn load_manifest(
    text: &str,
    file: &str,
) -> Result<(Manifest, yaml::Node, Vec<Diagnostic>), Vec<Diagnostic>> {
    let root = yaml::parse(text, MANIFEST_LIMITS)
        .map_err(|e| vec![Diagnostic::error(file, e.span, e.message).help_opt(e.help)])?;
    if root.as_map().is_none() {
        return Err(vec![
            Diagnostic::error(
                file,
                root.span,
                format!("a manifest must be a map, found {}", root.kind_name()),
            )
            .expected("keys such as name, kind, version, description"),
        ]);
    }
    let manifest: Manifest = yaml::from_node(&root).map_err(|e| {
        let mut d =
            Diagnostic::error(file, e.span.unwrap_or(Span::START), e.message).help_opt(e.help);
        d.expected = e.expected;
        vec![d]
    })?;
    let diags = check::check(&manifest, &root, file);
    if crate::diag::has_errors(&diags) {
        Err(diags)
    } else {
        Ok((manifest, root, diags))
    }
}

pub fn discover(sources: &[Source]) -> Discovery {
    let mut out = Discovery::default();
    for s in sources {
        match s {
            Source::Bundled => discover_bundled(&BUNDLED, &mut out),
            Source::Dir(p, origin) => discover_dir(p, *origin, &mut out),
        }
    }
    out
}

fn discover_bundled(dir: &Dir<'static>, out: &mut Discovery) {
    for entry in dir.dirs() {
        discover_bundled(entry, out);
    }
    let Some(f) = dir.get_file(dir.path().join(MANIFEST_FILE)) else {
        return;
    };
    let file = format!("plugins/{}", f.path().display());
    let text = match f.contents_utf8() {
        Some(t) => t,
        None => {
            out.diagnostics.push(Diagnostic::error(
                &file,
                Span::START,
                "manifest is not valid UTF-8",
            ));
            return;
        }
    };
    let readme = dir
        .get_file(dir.path().join("README.md"))
        .and_then(|r| r.contents_utf8())
        .map(str::to_string);
    let base = dir.path().to_path_buf();
    let read = |rel: &str| {
        BUNDLED
            .get_file(base.join(rel))
            .and_then(|f| f.contents_utf8())
            .map(str::to_string)
    };
    push(out, text, file, None, readme, Origin::Bundled, &read);
}

fn push(
    out: &mut Discovery,
    text: &str,
    file: String,
    dir: Option<PathBuf>,
    readme: Option<String>,
    origin: Origin,
    read: &dyn Fn(&str) -> Option<String>,
) {
    match load_manifest(text, &file) {
        Ok((manifest, root, mut warnings)) => {
            warnings.extend(check::check_files(&manifest, &root, &file, read));
            let broken = crate::diag::has_errors(&warnings);
            out.diagnostics.extend(warnings);
            if broken {
                return;
            }
            out.plugins.push(Discovered {
                manifest,
                file,
                dir,
                readme,
                origin,
                root,
            });
        }
        Err(diags) => out.diagnostics.extend(diags),
    }
}

/// How deep plugin folders are searched (a warning says when something lies deeper).
pub const MAX_DEPTH: usize = 16;

fn discover_dir(root: &FsPath, origin: Origin, out: &mut Discovery) {
    if !root.exists() {
        if origin == Origin::Dir {
            out.diagnostics.push(Diagnostic::error(
                root.display().to_string(),
                Span::START,
                "plugin folder does not exist",
            ));
        }
        return;
    }
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .max_depth(MAX_DEPTH)
        .sort_by_file_name();
    let mut it = walker.into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| root.display().to_string());
                out.diagnostics.push(Diagnostic::error(
                    path,
                    Span::START,
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_dir() {
            if entry.depth() == MAX_DEPTH
                && std::fs::read_dir(entry.path()).is_ok_and(|mut r| r.next().is_some())
            {
                out.diagnostics.push(Diagnostic::warning(
                    entry.path().display().to_string(),
                    Span::START,
                    format!(
                        "folder nested {MAX_DEPTH} levels deep: plugins below it are not loaded"
                    ),
                ));
            }
            if entry.depth() > 0
                && (name.starts_with('.') || name == "target" || name == "__pycache__")
            {
                it.skip_current_dir();
            }
            continue;
        }
        if name != MANIFEST_FILE {
            continue;
        }
        let path = entry.path();
        let file = path.display().to_string();
        let text = match read_limited(path, MANIFEST_LIMITS.max_bytes) {
            Ok(t) => t,
            Err(e) => {
                out.diagnostics.push(e.into_diagnostic(&file));
                continue;
            }
        };
        let dir = path.parent().map(FsPath::to_path_buf);
        let readme = dir
            .as_ref()
            .and_then(|d| read_text_limited(&d.join("README.md"), README_MAX).ok());
        let base = dir.clone();
        let read = |rel: &str| {
            let d = base.as_ref()?;
            read_limited(&inside(d, rel)?, MANIFEST_LIMITS.max_bytes).ok()
        };
        push(out, &text, file, dir, readme, origin, &read);
    }
}

/// Why a file could not be read, with the position when there is one (a bad UTF-8 byte).
#[derive(Debug, Clone)]
pub struct ReadError {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

impl ReadError {
    pub fn into_diagnostic(self, file: &str) -> Diagnostic {
        Diagnostic::error(file, self.span, self.message).help_opt(self.help)
    }
}

/// The bytes of a regular file, at most `max` of them: what every reader of a user-supplied
/// file goes through. A FIFO, a device or a socket is refused before any read (`metadata()`
/// says 0 bytes for a FIFO or `/dev/zero`, and reading one blocks or never ends), the file is
/// opened without blocking (opening a FIFO would wait for a writer), and the read stops at
/// `max + 1` bytes whatever the size said (a file may grow between the check and the read).
pub fn read_bytes_limited(path: &FsPath, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)?;
    let meta = f.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "this is a folder, not a file",
        ));
    }
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a socket)",
        ));
    }
    if meta.len() > max as u64 {
        return Err(too_big(meta.len(), max));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(max as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(too_big(bytes.len() as u64, max));
    }
    Ok(bytes)
}

/// [`read_bytes_limited`], as UTF-8 (lossy).
pub fn read_text_limited(path: &FsPath, max: usize) -> std::io::Result<String> {
    let b = read_bytes_limited(path, max)?;
    Ok(String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn too_big(len: u64, max: usize) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!(
            "file is {:.1} MiB, over the {:.0} MiB limit",
            len as f64 / (1024.0 * 1024.0),
            max as f64 / (1024.0 * 1024.0)
        ),
    )
}

/// `dir/rel` if it exists and, symbolic links resolved, is still inside `dir`.
pub fn inside(dir: &FsPath, rel: &str) -> Option<PathBuf> {
    let base = dir.canonicalize().ok()?;
    let p = dir.join(rel).canonicalize().ok()?;
    p.starts_with(&base).then_some(p)
}

/// The most of a plugin's README that is read.
pub const README_MAX: usize = 1 << 20;

/// Read a UTF-8 file, refusing files over `max` bytes and anything but a regular file.
pub fn read_limited(path: &FsPath, max: usize) -> Result<String, ReadError> {
    let err = |span, message: String, help: Option<&str>| ReadError {
        span,
        message,
        help: help.map(String::from),
    };
    let bytes = read_bytes_limited(path, max).map_err(|e| match e.kind() {
        std::io::ErrorKind::IsADirectory => err(Span::START, e.to_string(), None),
        std::io::ErrorKind::FileTooLarge => err(
            Span::START,
            e.to_string(),
            Some("is this the right file? experiment configs and manifests are a few KiB"),
        ),
        std::io::ErrorKind::InvalidInput => err(
            Span::START,
            format!("cannot read: {e}"),
            Some("give a path to an ordinary file"),
        ),
        _ => err(Span::START, format!("cannot read: {e}"), None),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let ok = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = ok.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let line_start = ok
            .iter()
            .rposition(|&b| b == b'\n')
            .map(|p| p + 1)
            .unwrap_or(0);
        let col = String::from_utf8_lossy(&ok[line_start..]).chars().count() as u32 + 1;
        err(
            Span::new(line, col),
            "file is not valid UTF-8".into(),
            Some("save the file as UTF-8"),
        )
    })
}

/// Plugin files bundled in the binary, for scaffolding and materialising into a run folder.
pub fn bundled_file(path: &str) -> Option<&'static [u8]> {
    BUNDLED.get_file(path).map(|f| f.contents())
}

/// Writes the bundled plugin folder holding `manifest_file` (`plugins/…/plugin.yaml`) under
/// `dest`, so its commands and templates can use `{{ plugin_dir }}` like any plugin on disk.
pub fn materialize_bundled(manifest_file: &str, dest: &FsPath) -> std::io::Result<PathBuf> {
    let rel = manifest_file
        .strip_prefix("plugins/")
        .unwrap_or(manifest_file);
    let dir_rel = FsPath::new(rel).parent().unwrap_or(FsPath::new(""));
    let dir = BUNDLED.get_dir(dir_rel).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no bundled folder {}", dir_rel.display()),
        )
    })?;
    let out = dest.join(dir_rel);
    std::fs::create_dir_all(&out)?;
    for f in dir.files() {
        let name = f.path().file_name().unwrap_or_default();
        std::fs::write(out.join(name), f.contents())?;
    }
    Ok(out)
}

/// Like [`materialize_bundled`], with the folder's subfolders too (a crate a plugin builds
/// at install time).
pub fn materialize_bundled_tree(manifest_file: &str, dest: &FsPath) -> std::io::Result<PathBuf> {
    let rel = manifest_file
        .strip_prefix("plugins/")
        .unwrap_or(manifest_file);
    let dir_rel = FsPath::new(rel).parent().unwrap_or(FsPath::new(""));
    let dir = BUNDLED.get_dir(dir_rel).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no bundled folder {}", dir_rel.display()),
        )
    })?;
    fn write_tree(d: &Dir<'static>, dest: &FsPath) -> std::io::Result<()> {
        for f in d.files() {
            let out = dest.join(f.path());
            if let Some(p) = out.parent() {
                std::fs::create_dir_all(p)?;
            }
            std::fs::write(out, f.contents())?;
        }
        for sub in d.dirs() {
            write_tree(sub, dest)?;
        }
        Ok(())
    }
    write_tree(dir, dest)?;
    Ok(dest.join(dir_rel))
}
