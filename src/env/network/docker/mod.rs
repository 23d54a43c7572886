//! Docker as a network environment (the `docker_compose` driver's engine half): connecting to
//! an engine, building panther's images without a registry, running one network and its
//! containers per test, and writing an equivalent `docker-compose.yml`.
//!
//! One concept per file: [`engine`] (connect, errors), [`images`] (base + plugin images),
//! [`containers`] (networks, containers, logs, exit codes, sweeping leftovers), [`compose`]
//! (the compose file a user can re-run by hand).
//!
//! A test, the way a driver runs it:
//!
//! ```no_run
//! # async fn f() -> Result<(), panther::env::network::docker::EngineError> {
//! use futures_util::StreamExt;
//! use panther::env::network::docker::{ContainerSpec, Engine, LogStream};
//!
//! let engine = Engine::connect(None).await?; // $DOCKER_HOST, else /var/run/docker.sock
//! engine.sweep().await?; // what a panther that died left behind
//! let net = engine.create_network("run-1", "minip").await?;
//! let spec = ContainerSpec {
//!     name: "run-1-server".into(),
//!     image: "panther-ping_pong:0.1.0".into(),
//!     argv: ["panther", "builtin", "minip-server", "--host", "0.0.0.0", "--port", "4000"]
//!         .map(String::from)
//!         .to_vec(),
//!     network: net.name.clone(),
//!     aliases: vec!["server".into()],
//!     ..Default::default()
//! };
//! let server = engine.start_container(&spec).await?;
//! let mut logs = engine.logs(&server.id);
//! while let Some(line) = logs.next().await {
//!     let (stream, bytes) = line?;
//!     let stderr = stream == LogStream::Stderr;
//!     // … handle_line(String::from_utf8_lossy(&bytes), stderr)
//! #   let _ = (stderr, bytes);
//! #   break;
//! }
//! let _code: Option<i64> = engine.exit_status(&server.id).await?;
//! engine.stop(&server.id, std::time::Duration::from_secs(5)).await?;
//! engine.remove(&server.id).await?;
//! engine.remove_network(&net.id).await?;
//! # Ok(()) }
//! ```

pub mod compose;
pub mod containers;
pub mod driver;
pub mod engine;
pub mod images;

pub use containers::{
    Bind, Container, ContainerSpec, DEFAULT_SUBNET_POOL, LogStream, Network, Port, Proto, Subnet,
    SweepReport,
};
pub use engine::{Engine, EngineError};
pub use images::{
    BASE_IMAGE, BaseOptions, ImageInfo, ImageRef, PANTHER_IN_IMAGE, PluginBuildOptions, Progress,
};

/// Label on every network and container panther creates: the run it belongs to.
pub const LABEL_RUN: &str = "panther.run";
/// Label naming the test (within the run) a network or container belongs to.
pub const LABEL_TEST: &str = "panther.test";
/// Label naming the process that created a network or container: `<pid>:<start time>`
/// (field 22 of `/proc/<pid>/stat`), so a later panther can tell a leftover from a live run.
pub const LABEL_OWNER: &str = "panther.owner";
/// Label of the base image (`panther.base=1`).
pub const LABEL_BASE: &str = "panther.base";
/// Label of a plugin image: the plugin's name.
pub const LABEL_PLUGIN: &str = "panther.plugin";
