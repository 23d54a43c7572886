//! panther's images, built without a registry: a Debian base made with debootstrap and
//! imported (`panther-base:bookworm`, label `panther.base=1`), and one image per plugin that
//! has a `Dockerfile` (`panther-<plugin>:<version>`, label `panther.plugin=<name>`), its build
//! context made here (the plugin's files, plus the panther binary when the Dockerfile copies
//! `panther`). Both are skipped when an image with the expected labels exists.

use std::collections::{HashMap, VecDeque};
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use bollard::models::ImageInspect;
use bollard::query_parameters::{
    BuildImageOptions, CreateImageOptions, ListImagesOptions, RemoveImageOptions,
};
use bollard::{body_full, body_try_stream};
use bytes::{Bytes, BytesMut};
use futures_util::stream::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::engine::{Engine, EngineError, is_not_found};
use super::{LABEL_BASE, LABEL_PLUGIN};
use crate::plugin::Plugin;

/// The base every plugin Dockerfile starts `FROM`.
pub const BASE_IMAGE: &str = "panther-base:bookworm";
const SUITE: &str = "bookworm";
/// Extra packages in the base: `ip` and `ethtool` (turning off UDP GSO for captures).
const BASE_INCLUDE: &str = "iproute2,ethtool";
/// Label holding a fingerprint of a plugin image's build context.
const LABEL_CONTEXT: &str = "panther.context";
/// Where plugin images put the panther binary.
pub const PANTHER_IN_IMAGE: &str = "/usr/local/bin/panther";
/// How much of a failed build's log an error carries.
const TAIL: usize = 20;

/// What a build reports while it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A new step (`debootstrap`, `import`, `build panther-ping_pong:0.1.0`).
    Step(String),
    /// One line of the step's output.
    Line(String),
}

/// An image that exists now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub tag: String,
    pub id: String,
    /// False when an existing image with the expected labels was kept.
    pub built: bool,
}

/// One of panther's images, for `panther images list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub tag: String,
    /// The plugin it serves, or `(base)` for the base image.
    pub plugin: String,
    pub size: u64,
    /// Seconds since the epoch.
    pub created: i64,
    pub id: String,
}

/// How to build a plugin's image.
#[derive(Debug, Clone, Default)]
pub struct PluginBuildOptions {
    /// Build even when an image with the same context exists.
    pub rebuild: bool,
    /// The panther binary to put in images that copy `panther`; default: this executable.
    pub panther_binary: Option<PathBuf>,
    /// Network of the build's RUN steps (`host`); default: the engine's default bridge.
    pub network_mode: Option<String>,
}

/// "exited with code 1", "killed by signal 9".
fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "ended".into(),
    }
}

/// The last lines of a log.
#[derive(Default)]
struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: &str) {
        if self.0.len() == TAIL {
            self.0.pop_front();
        }
        self.0.push_back(line.to_string());
    }
    fn take(self) -> Vec<String> {
        self.0.into()
    }
}

/// An image's labels, or `None` when it does not exist.
async fn labels_of(
    engine: &Engine,
    image: &str,
) -> Result<Option<(ImageInspect, HashMap<String, String>)>, EngineError> {
    match engine.docker().inspect_image(image).await {
        Ok(i) => {
            let labels = i
                .config
                .as_ref()
                .and_then(|c| c.labels.clone())
                .unwrap_or_default();
            Ok(Some((i, labels)))
        }
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(EngineError::api(format!("inspecting image {image}"))(e)),
    }
}

/// The Debian mirrors the host's apt uses: (main archive, security archive).
pub fn host_mirrors() -> (String, String) {
    let sources =
        std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    let list = std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    mirrors_from(&sources, &list)
}

/// Parses deb822 `.sources` text first, then one-line `sources.list` text.
fn mirrors_from(sources: &str, list: &str) -> (String, String) {
    let mut main = None;
    let mut security = None;
    for stanza in sources.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_string())
            })
        };
        let (Some(uris), Some(suites)) = (field("URIs"), field("Suites")) else {
            continue;
        };
        let Some(uri) = uris.split_whitespace().next().map(str::to_string) else {
            continue;
        };
        let suites: Vec<&str> = suites.split_whitespace().collect();
        if suites.iter().any(|s| s.ends_with("-security")) {
            security.get_or_insert(uri);
        } else if suites.contains(&SUITE) {
            main.get_or_insert(uri);
        }
    }
    for line in list.lines() {
        let words: Vec<&str> = line
            .split_whitespace()
            .filter(|w| !w.starts_with('['))
            .collect();
        if words.len() >= 3 && words[0] == "deb" {
            if words[2].ends_with("-security") || words[2].contains("/updates") {
                security.get_or_insert(words[1].to_string());
            } else if words[2] == SUITE {
                main.get_or_insert(words[1].to_string());
            }
        }
    }
    let main = main.unwrap_or_else(|| "http://deb.debian.org/debian".into());
    let security = security.unwrap_or_else(|| "http://deb.debian.org/debian-security".into());
    (main, security)
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Result<TempDir, EngineError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("panther-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)
            .map_err(EngineError::io(format!("creating {}", p.display())))?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a program (argv, no shell), passing its output lines to `progress`; on failure the
/// error carries the last lines.
async fn run_logged(
    program: &str,
    args: &[&str],
    image: &str,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(), EngineError> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| EngineError::Build {
            image: image.to_string(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "`{}` is not installed (apt-get install {})",
                    program, program
                )
            } else {
                format!("cannot run {}: {e}", program)
            },
            log_tail: vec![],
        })?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let _ = tx.send(l);
            }
        });
    }
    drop(tx);
    let mut tail = Tail::default();
    while let Some(l) = rx.recv().await {
        tail.push(&l);
        progress(Progress::Line(l));
    }
    let status = child
        .wait()
        .await
        .map_err(EngineError::io(format!("waiting for {}", program)))?;
    if status.success() {
        Ok(())
    } else {
        Err(EngineError::Build {
            image: image.to_string(),
            message: format!("{} {}", program, describe(status)),
            log_tail: tail.take(),
        })
    }
}

/// How to build the base image.
#[derive(Debug, Clone, Default)]
pub struct BaseOptions {
    /// Build even when the image exists with its label.
    pub rebuild: bool,
    /// Debian archive to debootstrap from; default `$PANTHER_DEBIAN_MIRROR`, else the host's
    /// apt sources, else deb.debian.org.
    pub mirror: Option<String>,
    /// Debian security archive for the image's apt sources; default
    /// `$PANTHER_DEBIAN_SECURITY_MIRROR`, else the host's, else deb.debian.org.
    pub security_mirror: Option<String>,
}

/// Builds `panther-base:bookworm` unless it exists with the `panther.base=1` label (or
/// `rebuild`): debootstrap (minbase, plus iproute2 and ethtool) from the host's Debian mirror,
/// apt sources for bookworm, -updates and -security, apt caches removed, then the tree is
/// imported through the engine. Needs root and debootstrap.
pub async fn build_base(
    engine: &Engine,
    rebuild: bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ImageRef, EngineError> {
    let opts = BaseOptions {
        rebuild,
        ..Default::default()
    };
    build_base_with(engine, &opts, progress).await
}

/// [`build_base`] with a choice of mirrors.
pub async fn build_base_with(
    engine: &Engine,
    opts: &BaseOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ImageRef, EngineError> {
    let rebuild = opts.rebuild;
    if !rebuild
        && let Some((info, labels)) = labels_of(engine, BASE_IMAGE).await?
        && labels.get(LABEL_BASE).map(String::as_str) == Some("1")
    {
        return Ok(ImageRef {
            tag: BASE_IMAGE.into(),
            id: info.id.unwrap_or_default(),
            built: false,
        });
    }
    if !nix::unistd::Uid::effective().is_root() {
        return Err(EngineError::Build {
            image: BASE_IMAGE.into(),
            message: "debootstrap needs root: run `panther images build` as root".into(),
            log_tail: vec![],
        });
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let (host_main, host_security) = host_mirrors();
    let mirror = opts
        .mirror
        .clone()
        .or_else(|| env("PANTHER_DEBIAN_MIRROR"))
        .unwrap_or(host_main);
    let security = opts
        .security_mirror
        .clone()
        .or_else(|| env("PANTHER_DEBIAN_SECURITY_MIRROR"))
        .unwrap_or(host_security);
    let tmp = TempDir::new("rootfs")?;
    let rootfs = tmp.0.join("rootfs");
    let rootfs_s = rootfs.to_string_lossy().into_owned();
    progress(Progress::Step(format!("debootstrap {SUITE} from {mirror}")));
    run_logged(
        "debootstrap",
        &[
            "--variant=minbase",
            &format!("--include={BASE_INCLUDE}"),
            SUITE,
            &rootfs_s,
            &mirror,
        ],
        BASE_IMAGE,
        progress,
    )
    .await?;

    progress(Progress::Step("apt sources, caches".into()));
    let sources = format!(
        "deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\ndeb {security} {SUITE}-security main\n"
    );
    std::fs::write(rootfs.join("etc/apt/sources.list"), sources)
        .map_err(EngineError::io("writing the base's sources.list"))?;
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        let d = rootfs.join(dir);
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_file() {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }

    progress(Progress::Step(format!("import {BASE_IMAGE}")));
    let changes = [
        format!("LABEL {LABEL_BASE}=1"),
        "CMD [\"/bin/bash\"]".into(),
        "ENV LANG=C.UTF-8".into(),
    ];
    import_rootfs(engine, &rootfs, BASE_IMAGE, &changes, progress).await?;
    match labels_of(engine, BASE_IMAGE).await? {
        Some((info, labels)) if labels.get(LABEL_BASE).map(String::as_str) == Some("1") => {
            Ok(ImageRef {
                tag: BASE_IMAGE.into(),
                id: info.id.unwrap_or_default(),
                built: true,
            })
        }
        _ => Err(EngineError::Build {
            image: BASE_IMAGE.into(),
            message: "the import finished but the image (with its label) is not there".into(),
            log_tail: vec![],
        }),
    }
}

/// Imports the folder `rootfs` as the image `tag` (`repo:tag`), like
/// `tar -C ROOTFS -c . | docker import --change … - TAG`, with `changes` (Dockerfile
/// instructions such as `LABEL k=v`, `CMD […]`). GNU tar keeps device nodes, hard links, owners
/// and modes; its output is streamed to the engine without a temporary file.
pub async fn import_rootfs(
    engine: &Engine,
    rootfs: &Path,
    tag: &str,
    changes: &[String],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(), EngineError> {
    let (repo, version) = tag.rsplit_once(':').unwrap_or((tag, "latest"));
    let mut tar = tokio::process::Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["--numeric-owner", "-cf", "-", "."])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(EngineError::io("running tar"))?;
    let stdout = tar
        .stdout
        .take()
        .ok_or_else(|| EngineError::Invalid("tar has no stdout".into()))?;
    // Read tar's messages as they come, so a full stderr pipe never stalls it.
    let stderr = tar.stderr.take();
    let messages = tokio::spawn(async move {
        let mut text = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut text).await;
        }
        text
    });
    const CHUNK: usize = 1 << 20;
    let body = futures_util::stream::unfold(
        (stdout, BytesMut::with_capacity(CHUNK)),
        |(mut out, mut buf)| async move {
            if buf.capacity() < CHUNK / 4 {
                buf.reserve(CHUNK);
            }
            match out.read_buf(&mut buf).await {
                Ok(0) => None,
                Ok(_) => {
                    let chunk = buf.split().freeze();
                    Some((Ok::<Bytes, std::io::Error>(chunk), (out, buf)))
                }
                Err(e) => Some((Err(e), (out, buf))),
            }
        },
    );
    let docker = engine.docker_long();
    let mut import = docker.create_image(
        Some(CreateImageOptions {
            from_src: Some("-".into()),
            repo: Some(repo.into()),
            tag: Some(version.into()),
            changes: changes.to_vec(),
            message: Some("imported by panther".into()),
            ..Default::default()
        }),
        Some(body_try_stream(body)),
        None,
    );
    let mut tail = Tail::default();
    while let Some(item) = import.next().await {
        match item {
            Ok(info) => {
                if let Some(s) = info.status {
                    tail.push(&s);
                    progress(Progress::Line(s));
                }
            }
            Err(e) => {
                return Err(EngineError::Build {
                    image: tag.into(),
                    message: format!("import: {e}"),
                    log_tail: tail.take(),
                });
            }
        }
    }
    let status = tar
        .wait()
        .await
        .map_err(EngineError::io("waiting for tar"))?;
    let text = messages.await.unwrap_or_default();
    if !status.success() {
        return Err(EngineError::Build {
            image: tag.into(),
            message: format!("tar {}", describe(status)),
            log_tail: text.lines().map(str::to_string).collect(),
        });
    }
    Ok(())
}

/// `panther-<plugin>:<version>`.
pub fn plugin_tag(plugin: &Plugin) -> String {
    format!(
        "panther-{}:{}",
        plugin.name().to_ascii_lowercase(),
        plugin.manifest.version
    )
}

/// The plugin's Dockerfile text, if it has one.
pub fn dockerfile_of(plugin: &Plugin) -> Option<String> {
    match &plugin.dir {
        Some(dir) => std::fs::read_to_string(dir.join("Dockerfile")).ok(),
        None => {
            let rel = plugin.file.strip_prefix("plugins/").unwrap_or(&plugin.file);
            let dir = Path::new(rel).parent()?;
            let bytes =
                crate::plugin::loader::bundled_file(&dir.join("Dockerfile").to_string_lossy())?;
            String::from_utf8(bytes.to_vec()).ok()
        }
    }
}

/// The plugins of `plugins` that have a Dockerfile.
pub fn with_dockerfile<'a>(plugins: impl IntoIterator<Item = &'a Plugin>) -> Vec<&'a Plugin> {
    plugins
        .into_iter()
        .filter(|p| dockerfile_of(p).is_some())
        .collect()
}

/// Whether a Dockerfile copies the panther binary (`COPY panther …`).
fn copies_panther(dockerfile: &str) -> bool {
    dockerfile.lines().any(|l| {
        let mut w = l.split_whitespace();
        matches!(w.next(), Some(i) if i.eq_ignore_ascii_case("COPY") || i.eq_ignore_ascii_case("ADD"))
            && w.find(|a| !a.starts_with("--")) == Some("panther")
    })
}

/// A tar build context with fixed owners and times, so the same files give the same bytes.
fn context_tar(files: &[(String, Vec<u8>, u32)]) -> Result<Vec<u8>, EngineError> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data.as_slice())
            .map_err(EngineError::io(format!(
                "adding {name} to the build context"
            )))?;
    }
    b.into_inner()
        .map_err(EngineError::io("finishing the build context"))
}

/// A fingerprint of a build's inputs (change detection, not security).
fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        h.write_usize(p.len());
        h.write(p);
    }
    format!("{:016x}", h.finish())
}

/// The plugin's files (its folder on disk, or the bundled copy), relative names.
fn plugin_files(plugin: &Plugin) -> Result<Vec<(String, Vec<u8>, u32)>, EngineError> {
    let tmp;
    let dir = match &plugin.dir {
        Some(d) => d.clone(),
        None => {
            tmp = TempDir::new("plugin")?;
            crate::plugin::loader::materialize_bundled(&plugin.file, &tmp.0).map_err(
                EngineError::io(format!("copying the bundled plugin {}", plugin.name())),
            )?
        }
    };
    let mut files = Vec::new();
    for e in walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if !e.file_type().is_file() {
            continue;
        }
        let Ok(rel) = e.path().strip_prefix(&dir) else {
            continue;
        };
        let data = std::fs::read(e.path())
            .map_err(EngineError::io(format!("reading {}", e.path().display())))?;
        use std::os::unix::fs::PermissionsExt;
        let mode = e
            .metadata()
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        files.push((rel.to_string_lossy().into_owned(), data, mode));
    }
    Ok(files)
}

/// Builds the plugin's image from its Dockerfile (which starts `FROM panther-base:bookworm`)
/// unless an image with the same tag, plugin label and build context exists (or `rebuild`).
/// The context holds the plugin's files and, when the Dockerfile copies `panther`, the panther
/// binary. A failed build is [`EngineError::Build`] with the end of the build log.
pub async fn build_plugin(
    engine: &Engine,
    plugin: &Plugin,
    opts: &PluginBuildOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ImageRef, EngineError> {
    let tag = plugin_tag(plugin);
    let dockerfile = dockerfile_of(plugin).ok_or_else(|| EngineError::NoDockerfile {
        plugin: plugin.name().into(),
        path: match &plugin.dir {
            Some(d) => d.join("Dockerfile").display().to_string(),
            None => Path::new(&plugin.file)
                .with_file_name("Dockerfile")
                .display()
                .to_string(),
        },
    })?;
    let mut files = plugin_files(plugin)?;
    if copies_panther(&dockerfile) {
        let bin = match &opts.panther_binary {
            Some(b) => b.clone(),
            None => {
                std::env::current_exe().map_err(EngineError::io("finding the panther binary"))?
            }
        };
        let data =
            std::fs::read(&bin).map_err(EngineError::io(format!("reading {}", bin.display())))?;
        files.retain(|(n, _, _)| n != "panther");
        files.push(("panther".into(), data, 0o755));
    }
    let context = context_tar(&files)?;
    // The base image is an input too: a rebuilt base makes the plugin images stale.
    let base = if dockerfile.contains(BASE_IMAGE) {
        match labels_of(engine, BASE_IMAGE).await? {
            Some((info, _)) => info.id.unwrap_or_default(),
            None => {
                return Err(EngineError::MissingImage {
                    image: BASE_IMAGE.into(),
                    hint: "build it first: `panther images build`".into(),
                });
            }
        }
    } else {
        String::new()
    };
    let print = fingerprint(&[context.as_slice(), base.as_bytes()]);

    let previous = labels_of(engine, &tag).await?;
    if !opts.rebuild
        && let Some((info, labels)) = &previous
        && labels.get(LABEL_PLUGIN) == Some(&plugin.manifest.name)
        && labels.get(LABEL_CONTEXT) == Some(&print)
    {
        return Ok(ImageRef {
            tag,
            id: info.id.clone().unwrap_or_default(),
            built: false,
        });
    }
    let previous_id = previous.and_then(|(i, _)| i.id);
    progress(Progress::Step(format!("build {tag}")));
    let labels = HashMap::from([
        (LABEL_PLUGIN.to_string(), plugin.manifest.name.clone()),
        (LABEL_CONTEXT.to_string(), print),
        (
            "panther.version".to_string(),
            plugin.manifest.version.clone(),
        ),
    ]);
    let docker = engine.docker_long();
    let mut build = docker.build_image(
        BuildImageOptions {
            dockerfile: "Dockerfile".into(),
            t: Some(tag.clone()),
            rm: true,
            forcerm: true,
            nocache: opts.rebuild,
            labels: Some(labels),
            networkmode: opts.network_mode.clone(),
            ..Default::default()
        },
        None,
        Some(body_full(Bytes::from(context))),
    );
    let mut tail = Tail::default();
    let mut partial = String::new();
    while let Some(item) = build.next().await {
        match item {
            Ok(info) => {
                if let Some(s) = info.stream {
                    partial.push_str(&s);
                    while let Some(i) = partial.find('\n') {
                        let line: String = partial.drain(..=i).collect();
                        let line = line.trim_end().to_string();
                        if !line.is_empty() {
                            tail.push(&line);
                            progress(Progress::Line(line));
                        }
                    }
                }
                if let Some(s) = info.status {
                    tail.push(&s);
                }
            }
            Err(e) => {
                if !partial.trim().is_empty() {
                    tail.push(partial.trim_end());
                }
                let message = match e {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    e => e.to_string(),
                };
                return Err(EngineError::Build {
                    image: tag,
                    message,
                    log_tail: tail.take(),
                });
            }
        }
    }
    match labels_of(engine, &tag).await? {
        Some((info, _)) => {
            let id = info.id.unwrap_or_default();
            // The image this one replaces is untagged now: remove it, unless a container
            // still uses it (the engine refuses, which is fine).
            if let Some(old) = previous_id.filter(|o| *o != id) {
                let _ = engine
                    .docker()
                    .remove_image(&old, None::<RemoveImageOptions>, None)
                    .await;
            }
            Ok(ImageRef {
                tag,
                id,
                built: true,
            })
        }
        None => Err(EngineError::Build {
            image: tag,
            message: "the build ended without an image".into(),
            log_tail: tail.take(),
        }),
    }
}

/// panther's images on the engine: the base and every plugin image, newest first.
pub async fn list(engine: &Engine) -> Result<Vec<ImageInfo>, EngineError> {
    let mut out = Vec::new();
    for label in [LABEL_BASE, LABEL_PLUGIN] {
        let images = engine
            .docker()
            .list_images(Some(ListImagesOptions {
                filters: Some(HashMap::from([(
                    "label".to_string(),
                    vec![label.to_string()],
                )])),
                ..Default::default()
            }))
            .await
            .map_err(EngineError::api("listing images"))?;
        for i in images {
            // Plugin images inherit the base's label: list them once, as plugin images.
            if label == LABEL_BASE && i.labels.contains_key(LABEL_PLUGIN) {
                continue;
            }
            let plugin = if label == LABEL_BASE {
                "(base)".to_string()
            } else {
                i.labels.get(LABEL_PLUGIN).cloned().unwrap_or_default()
            };
            let tags: Vec<String> = if i.repo_tags.is_empty() || i.repo_tags == ["<none>:<none>"] {
                vec!["<none>".into()]
            } else {
                i.repo_tags.clone()
            };
            for tag in tags {
                out.push(ImageInfo {
                    tag,
                    plugin: plugin.clone(),
                    size: u64::try_from(i.size).unwrap_or(0),
                    created: i.created,
                    id: i.id.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then(a.tag.cmp(&b.tag)));
    out.dedup_by(|a, b| a.tag == b.tag && a.id == b.id);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_come_from_the_hosts_apt_sources() {
        let deb822 = "Types: deb\nURIs: http://m.example/debian\nSuites: bookworm bookworm-updates\n\
Components: main\n\nTypes: deb\nURIs: http://m.example/debian-security\nSuites: bookworm-security\n";
        assert_eq!(
            mirrors_from(deb822, ""),
            (
                "http://m.example/debian".into(),
                "http://m.example/debian-security".into()
            )
        );
        let list = "# c\ndeb [arch=amd64] http://o.example/debian bookworm main\n\
deb http://o.example/sec bookworm-security main\n";
        assert_eq!(
            mirrors_from("", list),
            (
                "http://o.example/debian".into(),
                "http://o.example/sec".into()
            )
        );
        assert_eq!(mirrors_from("", "").0, "http://deb.debian.org/debian");
    }

    #[test]
    fn finds_copies_of_the_panther_binary() {
        assert!(copies_panther(
            "FROM x\nCOPY panther /usr/local/bin/panther\n"
        ));
        assert!(copies_panther("copy --chmod=755 panther /p\n"));
        assert!(!copies_panther(
            "FROM x\nCOPY index.html /www/\n# COPY panther\n"
        ));
    }

    #[test]
    fn build_contexts_are_reproducible() {
        let files = vec![("Dockerfile".to_string(), b"FROM x\n".to_vec(), 0o644)];
        let a = context_tar(&files).unwrap();
        let b = context_tar(&files).unwrap();
        assert_eq!(fingerprint(&[&a]), fingerprint(&[&b]));
        assert_ne!(fingerprint(&[&a, b"base1"]), fingerprint(&[&a, b"base2"]));
        let mut ar = tar::Archive::new(a.as_slice());
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["Dockerfile"]);
    }
}
