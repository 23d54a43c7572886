//! `panther images build [PLUGIN]` and `panther images list`: the images the docker_compose
//! network environment runs, built without a registry.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::{Cli, Format, exit};
use crate::env::network::docker::images::{self, PluginBuildOptions, Progress};
use crate::env::network::docker::{Engine, EngineError, ImageRef};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build panther's base image, then the image of PLUGIN (or of every plugin with a
    /// Dockerfile). Images already built from the same inputs are kept.
    #[command(
        long_about = "Build the images the docker_compose network environment runs.\n\n\
First the base, panther-base:bookworm: a Debian bookworm made with `debootstrap --variant=minbase` \
from this machine's apt mirror and imported into the engine (no registry involved; needs root and \
debootstrap). Then, for PLUGIN or for every plugin that has a Dockerfile, panther-<plugin>:<version> \
from that Dockerfile (FROM panther-base:bookworm); images of the built-in services (ping_pong, \
minip_tester, http_conformance) get this panther binary, nginx and python_http install Debian's \
packages. An image that exists with the same inputs is kept; --rebuild builds the plugin images again, \
--rebuild-base the base too. A failed build shows the end of its log. The Debian mirror is the \
one this machine's apt uses; $PANTHER_DEBIAN_MIRROR (and $PANTHER_DEBIAN_SECURITY_MIRROR) \
choose another."
    )]
    Build(BuildArgs),
    /// List panther's images: image, plugin, size, created.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// A plugin with a Dockerfile (e.g. ping_pong); without it, every such plugin.
    pub plugin: Option<String>,
    /// Build the plugin images again even when images with the same inputs exist.
    #[arg(long)]
    pub rebuild: bool,
    /// Build the base image again too (debootstrap, about a minute); the plugin images
    /// follow, since their base changed.
    #[arg(long)]
    pub rebuild_base: bool,
    /// Engine to use (unix:///path/docker.sock or tcp://HOST:PORT); default $DOCKER_HOST,
    /// then /var/run/docker.sock.
    #[arg(long, value_name = "HOST")]
    pub docker_host: Option<String>,
    /// Network of the builds' RUN steps, e.g. `host` when the default bridge cannot reach
    /// the apt mirror.
    #[arg(long, value_name = "MODE")]
    pub network: Option<String>,
    /// Print every line of the build logs.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Engine to use; default $DOCKER_HOST, then /var/run/docker.sock.
    #[arg(long, value_name = "HOST")]
    pub docker_host: Option<String>,
    /// `text`: a table; `json`: one array of {image, plugin, size, created, id}.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(cli: &Cli, c: &Command) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::TEST_FAILED;
        }
    };
    match c {
        Command::Build(a) => rt.block_on(build(cli, a)),
        Command::List(a) => rt.block_on(list(a)),
    }
}

async fn connect(host: Option<&str>) -> Result<Engine, i32> {
    Engine::connect(host).await.map_err(|e| {
        eprintln!("error: {e}");
        match e {
            EngineError::BadHost { .. } => exit::BAD_INPUT,
            _ => exit::TEST_FAILED,
        }
    })
}

/// Shows build progress: a spinner with the latest log line on a terminal, plain lines
/// otherwise.
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    verbose: bool,
    step: Mutex<(String, Instant)>,
}

impl Reporter {
    fn new(verbose: bool) -> Reporter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {wide_msg}")
            {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Reporter {
            bar,
            verbose,
            step: Mutex::new((String::new(), Instant::now())),
        }
    }

    fn progress(&self, p: Progress) {
        match p {
            Progress::Step(s) => {
                if let Ok(mut step) = self.step.lock() {
                    if self.bar.is_none() && !step.0.is_empty() {
                        eprintln!(
                            "  ({} took {:.1} s)",
                            step.0,
                            step.1.elapsed().as_secs_f64()
                        );
                    }
                    *step = (s.clone(), Instant::now());
                }
                match &self.bar {
                    Some(b) => {
                        b.set_prefix(s);
                        b.set_message("");
                        b.reset_elapsed();
                    }
                    None => eprintln!("{s} …"),
                }
            }
            Progress::Line(l) => match &self.bar {
                Some(b) if self.verbose => b.println(l),
                Some(b) => b.set_message(l),
                None if self.verbose => eprintln!("  {l}"),
                None => {}
            },
        }
    }

    fn done(&self, r: &ImageRef, since: Instant) {
        if let Ok(mut step) = self.step.lock() {
            if self.bar.is_none() && !step.0.is_empty() && r.built {
                eprintln!(
                    "  ({} took {:.1} s)",
                    step.0,
                    step.1.elapsed().as_secs_f64()
                );
            }
            step.0.clear();
        }
        let what = if r.built {
            format!("built in {:.1} s", since.elapsed().as_secs_f64())
        } else {
            "up to date (kept)".to_string()
        };
        let line = format!("{}  {what}  {}", r.tag, short_id(&r.id));
        match &self.bar {
            Some(b) => b.println(line),
            None => println!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn short_id(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.get(..12).unwrap_or(id)
}

async fn build(cli: &Cli, a: &BuildArgs) -> i32 {
    let reg = cli.registry();
    let targets = match &a.plugin {
        Some(name) => match reg.find(name) {
            None => {
                eprintln!("error: no plugin named `{name}`");
                let with = images::with_dockerfile(reg.plugins());
                let names: Vec<&str> = with.iter().map(|p| p.name()).collect();
                eprintln!("plugins with a Dockerfile: {}", names.join(", "));
                return exit::BAD_INPUT;
            }
            Some(p) if images::dockerfile_of(p).is_none() => {
                eprintln!("error: plugin `{name}` has no Dockerfile, so it has no image");
                return exit::BAD_INPUT;
            }
            Some(p) => vec![p],
        },
        None => images::with_dockerfile(reg.plugins()),
    };
    let engine = match connect(a.docker_host.as_deref()).await {
        Ok(e) => e,
        Err(code) => return code,
    };
    let rep = Reporter::new(a.verbose);
    let progress = |p: Progress| rep.progress(p);
    let t = Instant::now();
    let result = images::build_base(&engine, a.rebuild_base, &progress).await;
    let code = match result {
        Ok(r) => {
            rep.done(&r, t);
            let opts = PluginBuildOptions {
                rebuild: a.rebuild,
                panther_binary: None,
                network_mode: a.network.clone(),
            };
            let mut code = exit::OK;
            for p in targets {
                let t = Instant::now();
                match images::build_plugin(&engine, p, &opts, &progress).await {
                    Ok(r) => rep.done(&r, t),
                    Err(e) => {
                        rep.finish();
                        eprintln!("error: {e}");
                        code = exit::TEST_FAILED;
                    }
                }
            }
            code
        }
        Err(e) => {
            rep.finish();
            eprintln!("error: {e}");
            exit::TEST_FAILED
        }
    };
    rep.finish();
    code
}

fn human_size(bytes: u64) -> String {
    let mb = bytes as f64 / 1_000_000.0;
    if mb >= 1000.0 {
        format!("{:.2} GB", mb / 1000.0)
    } else {
        format!("{mb:.1} MB")
    }
}

fn utc(secs: i64) -> String {
    let u = crate::results::utc_from_secs(secs);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        u.year(),
        u8::from(u.month()),
        u.day(),
        u.hour(),
        u.minute()
    )
}

async fn list(a: &ListArgs) -> i32 {
    let engine = match connect(a.docker_host.as_deref()).await {
        Ok(e) => e,
        Err(code) => return code,
    };
    let imgs = match images::list(&engine).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::TEST_FAILED;
        }
    };
    if a.format == Format::Json {
        let v: Vec<serde_json::Value> = imgs
            .iter()
            .map(|i| {
                serde_json::json!({
                    "image": i.tag, "plugin": i.plugin, "size": i.size,
                    "created": i.created, "id": i.id,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return exit::OK;
    }
    if imgs.is_empty() {
        println!(
            "no panther images on {} (build them: panther images build)",
            engine.host()
        );
        return exit::OK;
    }
    let rows: Vec<[String; 4]> = imgs
        .iter()
        .map(|i| {
            [
                i.tag.clone(),
                i.plugin.clone(),
                human_size(i.size),
                utc(i.created),
            ]
        })
        .collect();
    let head = ["IMAGE", "PLUGIN", "SIZE", "CREATED"];
    let mut w = head.map(str::len);
    for r in &rows {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.chars().count());
        }
    }
    let line = |r: [&str; 4]| {
        format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        )
    };
    println!("{}", line(head));
    for r in &rows {
        println!("{}", line([&r[0], &r[1], &r[2], &r[3]]));
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates() {
        assert_eq!(human_size(117_400_000), "117.4 MB");
        assert_eq!(human_size(1_250_000_000), "1.25 GB");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_796_158_800), "2026-12-01 21:00 UTC");
        assert_eq!(
            utc(951_782_400 + 13 * 3600 + 5 * 60),
            "2000-02-29 13:05 UTC"
        );
        assert_eq!(utc(-1), "1969-12-31 23:59 UTC");
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }
}
