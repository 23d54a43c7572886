//! Connecting to a Docker engine (dockerd, or anything speaking its API) and the errors every
//! Docker operation can end with.

use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, Docker};

use super::containers::{DEFAULT_SUBNET_POOL, Subnet};

/// Where panther looks when neither an override nor `$DOCKER_HOST` names an engine.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// How long connecting may take (the `/version` round trip included) before the engine counts
/// as down. An engine that answers at all answers in milliseconds.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Limit on the wait for an answer's headers for ordinary API calls. Streams (logs, build
/// output) are not cut by it once they have started.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Limit for image builds and imports, whose answer may only start once the engine has read
/// a large upload.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

/// How to get an engine, for the messages of [`EngineError::Unavailable`].
pub const START_HINT: &str = "start one: `scripts/dockerd-up` (panther's test engine; it prints \
the DOCKER_HOST to use), or `dockerd &` as root (Debian package docker.io), or point DOCKER_HOST \
(or the docker_host parameter) at a running engine";

/// Everything a Docker operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No engine answers: no socket, nothing listening, or a hung engine.
    #[error("no Docker engine answers at {host}: {reason}; {hint}", hint = START_HINT)]
    Unavailable { host: String, reason: String },
    /// `DOCKER_HOST` (or the override) is not something panther can connect to.
    #[error(
        "cannot use Docker host `{host}`: {reason} (use unix:///path/to/docker.sock or tcp://HOST:PORT)"
    )]
    BadHost { host: String, reason: String },
    /// Every /24 of the pool is used by some network of the engine.
    #[error(
        "no free /24 left in the subnet pool {pool}: the engine's networks use {used}; remove \
leftover networks (`panther` sweeps its own, `docker network ls`) or stop other runs"
    )]
    SubnetPoolExhausted { pool: String, used: String },
    /// An image build (or the base image's debootstrap) failed; `log_tail` is the end of its log.
    #[error("building {image} failed: {message}\n--- last lines of the build log ---\n{}", log_tail.join("\n"))]
    Build {
        image: String,
        message: String,
        log_tail: Vec<String>,
    },
    /// The plugin has no Dockerfile, so it has no image.
    #[error(
        "plugin `{plugin}` has no Dockerfile ({path}), so panther cannot build an image for it"
    )]
    NoDockerfile { plugin: String, path: String },
    /// An image a step needs is not there.
    #[error("image {image} is missing: {hint}")]
    MissingImage { image: String, hint: String },
    /// A container was created but would not start (bad command, missing image file…).
    #[error("container {name} did not start: {message}")]
    Start { name: String, message: String },
    /// Bad input to a call (names, specs).
    #[error("{0}")]
    Invalid(String),
    /// The engine answered with an error.
    #[error("{what}: {source}")]
    Api {
        what: String,
        #[source]
        source: bollard::errors::Error,
    },
    /// A local file or process step failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    pub(crate) fn api(what: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> Self {
        let what = what.into();
        move |source| EngineError::Api { what, source }
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| EngineError::Io { what, source }
    }
}

/// Whether a bollard error is the engine's 404 (no such container, network, image).
pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// A connected engine, its API version negotiated.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
    server_version: String,
    api_version: String,
    pub(crate) pool: Subnet,
}

impl Engine {
    /// Connects to `override_host`, else `$DOCKER_HOST`, else `/var/run/docker.sock`, and
    /// negotiates the API version. `unix://PATH` (or a bare absolute path) and `tcp://HOST:PORT`
    /// (or `http://`) are supported. Fails within [`CONNECT_TIMEOUT`] with
    /// [`EngineError::Unavailable`] (saying how to start an engine) when nothing answers.
    pub async fn connect(override_host: Option<&str>) -> Result<Engine, EngineError> {
        let host = match override_host.map(str::trim).filter(|h| !h.is_empty()) {
            Some(h) => h.to_string(),
            None => std::env::var("DOCKER_HOST")
                .ok()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_HOST.to_string()),
        };
        let secs = REQUEST_TIMEOUT.as_secs();
        let unavailable = |reason: String| EngineError::Unavailable {
            host: host.clone(),
            reason,
        };
        let docker = if let Some(path) = host
            .strip_prefix("unix://")
            .or_else(|| host.starts_with('/').then_some(host.as_str()))
        {
            if path.is_empty() {
                return Err(EngineError::BadHost {
                    host: host.clone(),
                    reason: "the socket path is empty".into(),
                });
            }
            match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(unavailable(format!("the socket {path} does not exist")));
                }
                Err(e) => return Err(unavailable(format!("cannot reach the socket {path}: {e}"))),
                Ok(_) => {}
            }
            Docker::connect_with_unix(path, secs, API_DEFAULT_VERSION)
                .map_err(|e| unavailable(e.to_string()))?
        } else if let Some(rest) = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
        {
            if rest.is_empty() || !rest.contains(':') {
                return Err(EngineError::BadHost {
                    host: host.clone(),
                    reason: "a tcp:// host needs HOST:PORT".into(),
                });
            }
            Docker::connect_with_http(&format!("tcp://{rest}"), secs, API_DEFAULT_VERSION)
                .map_err(|e| unavailable(e.to_string()))?
        } else {
            let scheme = host.split("://").next().unwrap_or(&host);
            return Err(EngineError::BadHost {
                host: host.clone(),
                reason: format!("the scheme `{scheme}` is not supported"),
            });
        };

        let probe = async {
            let docker = docker.negotiate_version().await?;
            let v = docker.version().await?;
            Ok::<_, bollard::errors::Error>((docker, v))
        };
        let (docker, version) = match tokio::time::timeout(CONNECT_TIMEOUT, probe).await {
            Err(_) => {
                return Err(unavailable(format!(
                    "no answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => {
                let unix = !host.starts_with("tcp://") && !host.starts_with("http://");
                return Err(unavailable(describe_connect_error(&e, unix)));
            }
            Ok(Ok(x)) => x,
        };
        let api = docker.client_version();
        Ok(Engine {
            docker,
            host,
            server_version: version.version.unwrap_or_else(|| "?".into()),
            api_version: format!("{}.{}", api.major_version, api.minor_version),
            pool: DEFAULT_SUBNET_POOL,
        })
    }

    /// Uses `pool` instead of [`DEFAULT_SUBNET_POOL`] for the test networks' /24s.
    pub fn with_subnet_pool(mut self, pool: Subnet) -> Engine {
        self.pool = pool;
        self
    }

    /// The bollard client, for calls this module does not wrap.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The same client with the long limit for builds and imports.
    pub(crate) fn docker_long(&self) -> Docker {
        self.docker.clone().with_timeout(BUILD_TIMEOUT)
    }

    /// The address connected to (`unix:///…` or `tcp://…`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The engine's version (e.g. `20.10.24+dfsg1`).
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// The negotiated API version (e.g. `1.41`).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The subnet pool test networks are allocated from.
    pub fn subnet_pool(&self) -> Subnet {
        self.pool
    }
}

fn describe_connect_error(e: &bollard::errors::Error, unix: bool) -> String {
    // The innermost cause says what happened; hyper's wrappers around it do not.
    let mut last: &dyn std::error::Error = e;
    let mut io = None;
    while let Some(s) = last.source() {
        if let Some(i) = s.downcast_ref::<std::io::Error>() {
            io = Some(i.kind());
        }
        last = s;
    }
    match io {
        Some(std::io::ErrorKind::ConnectionRefused) if unix => {
            "connection refused (the engine is not running; the socket file is left over)".into()
        }
        Some(std::io::ErrorKind::ConnectionRefused) => {
            "connection refused (no engine listens there)".into()
        }
        Some(std::io::ErrorKind::PermissionDenied) => {
            "permission denied on the socket (run as root, or join the docker group)".into()
        }
        _ => last.to_string(),
    }
}
