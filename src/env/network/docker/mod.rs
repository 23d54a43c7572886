//! Docker as a network environment (the `docker_compose` driver's engine half): connecting to
//! an engine, building panther's images without a registry, running one network and its
//! containers per test, and writing an equivalent `docker-compose.yml`.
//!
//! One concept per file: [`engine`] (connect, errors), [`images`] (base + plugin images),
//! [`containers`] (networks, containers, logs, exit codes, sweeping leftovers), [`compose`]
//! (the compose file a user can re-run by hand).

pub mod compose;
pub mod containers;
pub mod driver;
pub mod engine;
pub mod images;

pub use containers::{
    Bind, Container, ContainerSpec, DEFAULT_SUBNET_POOL, LogStream, Network, Owner, Port, Proto,
    Subnet, SweepReport,
};
pub use engine::{Engine, EngineError};
pub use images::{BASE_IMAGE, ImageInfo, ImageRef, PANTHER_IN_IMAGE, PluginBuildOptions, Progress};

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
