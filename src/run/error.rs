//! The run's operational errors, one enum per concept. Their messages are what a user reads
//! (in `panther run`'s error line, or as a test's reason), so each says what failed and where.

use std::io;
use std::path::PathBuf;

use crate::events::store::StoreError;
use crate::plugin::templates::TemplateError;

/// Why a run could not start or finish (its results folder, its events, its task).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Events(#[from] StoreError),
    #[error(transparent)]
    Results(#[from] crate::results::ResultsError),
    /// The experiment could not be written back as `experiment_config.yaml`.
    #[error(transparent)]
    Config(#[from] serde_norway::Error),
    /// The run's task ended without a summary (it panicked).
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

/// Why one command of a phase or of a test's steps (`pre_commands`, `pre_run`, …) failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("{}: {source}", dir.display())]
    LogDir { dir: PathBuf, source: io::Error },
    #[error("{label} `{program}`: cannot start: {source}")]
    Start {
        label: String,
        program: String,
        source: crate::run::process::SpawnError,
    },
    #[error("{label} `{program}` still ran after {secs} s")]
    TooLong {
        label: String,
        program: String,
        secs: u64,
    },
    /// The command ended unsuccessfully; `how` is `process::describe` of its status.
    #[error("{label} `{command}` {how}")]
    Failed {
        label: String,
        command: String,
        how: String,
    },
}

/// Why a plugin's `files:` could not be rendered into a service's folder.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("template {0} is outside the plugin folder")]
    Outside(String),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// The template's own error (the template engine's kind and detail).
    #[error("{template}: {source}")]
    Template {
        template: String,
        source: TemplateError,
    },
    #[error("{source}")]
    Folder { source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Why a service could not be started for a test (its reason, "failed to start: …").
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{plugin} cannot run here: {reason}")]
    Unavailable { plugin: String, reason: String },
    #[error("{plugin} has no run.{role}")]
    NoRun { plugin: String, role: String },
    #[error("cannot unpack plugin {plugin}: {source}")]
    Unpack { plugin: String, source: io::Error },
    #[error(transparent)]
    Network(#[from] crate::env::network::EnvError),
    #[error(
        "execution environments do not run inside containers yet (network environment {0}); \
         use localhost or netns"
    )]
    WrappedInContainer(String),
    /// A folder or file the service gets (qlog, certificates, `www`) could not be made.
    #[error("{}: {source}", path.display())]
    Prepare { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Files(#[from] FilesError),
    /// A template of the manifest's argv or env, or of a wrapper's argv prefix.
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("execution environment {0} not found")]
    NoWrapper(String),
    #[error("execution environment {plugin} cannot run here: {reason}")]
    WrapperUnavailable { plugin: String, reason: String },
    #[error(transparent)]
    Phase(#[from] StepError),
    #[error("cannot start: {0}")]
    Spawn(#[source] crate::env::network::EnvError),
}

/// Why a test's network environment did not come up (the test's reason).
#[derive(Debug, thiserror::Error)]
pub enum NetworkUpError {
    #[error("network environment {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Open(crate::env::network::EnvError),
    #[error("network environment {kind} failed: {source}")]
    Up {
        kind: String,
        source: crate::env::network::EnvError,
    },
}

/// Why a service did not become ready (its reason, "not ready: …").
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("not ready after {secs:.1} s")]
    Timeout { secs: f64 },
    /// The process ended first; `how` is `process::describe` of its status.
    #[error("{how} before it was ready")]
    Exited { how: String },
    #[error("cancelled")]
    Cancelled,
    /// One of the above, followed by the process's last lines of stderr.
    #[error("{reason}{last_lines}")]
    LastWords {
        reason: Box<NotReady>,
        last_lines: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reasons read as they did when they were strings (tests and users match them).
    #[test]
    fn reasons_read_as_before() {
        let e = StepError::Failed {
            label: "pre_commands".into(),
            command: "false -x".into(),
            how: "exited with code 1".into(),
        };
        assert_eq!(e.to_string(), "pre_commands `false -x` exited with code 1");
        let e = StepError::Start {
            label: "post_run".into(),
            program: "nope".into(),
            source: crate::run::process::SpawnError::NotFound("nope".into()),
        };
        assert_eq!(
            e.to_string(),
            "post_run `nope`: cannot start: program `nope` not found"
        );
        let e = StartError::from(e);
        assert_eq!(
            e.to_string(),
            "post_run `nope`: cannot start: program `nope` not found"
        );
        let e = NotReady::LastWords {
            reason: Box::new(NotReady::Timeout { secs: 2.04 }),
            last_lines: "; last words".into(),
        };
        assert_eq!(e.to_string(), "not ready after 2.0 s; last words");
        let e = FilesError::Write {
            path: "out/x.conf".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(
            e.to_string().starts_with("cannot write out/x.conf: "),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some(), "the cause is kept");
    }
}
