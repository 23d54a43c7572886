//! The values a service's templates see (docs/PLUGINS.md "Command templates"), and the
//! rendering of its argv, environment, files and wrappers.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::experiment::model::{ExecutionEnvironment, PluginConfig};
use crate::plugin::templates::{self, TemplateError};
use crate::plugin::{Manifest, Plugin};
use crate::run::error::FilesError;

/// Parameters' defaults overridden by the experiment's `plugin_config`.
pub fn parameters(m: &Manifest, cfg: &PluginConfig) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, p) in &m.parameters {
        if let Some(d) = &p.default {
            out.insert(k.clone(), d.clone());
        }
    }
    for (k, v) in cfg {
        out.insert(k.clone(), v.clone());
    }
    out
}

pub struct ServiceVars<'a> {
    pub panther: &'a str,
    pub plugin_dir: &'a Path,
    pub service: &'a str,
    pub test: &'a str,
    pub role: &'a str,
    pub protocol: &'a str,
    pub version: &'a str,
    pub host: &'a str,
    pub port: Option<u16>,
    pub target: Option<(&'a str, String, u16)>,
    pub run_dir: &'a Path,
    pub artifact_dir: &'a Path,
    pub timeout: f64,
    /// `SVC_DIR/qlog`, made before the service starts (ngtcp2 exits 1 without it).
    pub qlog_dir: &'a Path,
    /// `SVC_DIR/keys.log`: the NSS key log (`SSLKEYLOGFILE` for QUIC services).
    pub keylog: &'a Path,
    /// panther's tools folder (`panther plugins install` puts venvs and builds there).
    pub tools: &'a Path,
}

pub fn service_context(v: &ServiceVars, params: Map<String, Value>) -> Value {
    let mut ctx = params;
    let base = json!({
        "panther": v.panther,
        "plugin_dir": v.plugin_dir.display().to_string(),
        "service": v.service,
        "test": v.test,
        "role": v.role,
        "protocol": v.protocol,
        "version": v.version,
        "host": v.host,
        "port": v.port,
        "target": v.target.as_ref().map(|t| t.0),
        "target_host": v.target.as_ref().map(|t| t.1.clone()),
        "target_port": v.target.as_ref().map(|t| t.2),
        "run_dir": v.run_dir.display().to_string(),
        "artifact_dir": v.artifact_dir.display().to_string(),
        "timeout": v.timeout,
        "qlog_dir": v.qlog_dir.display().to_string(),
        "keylog": v.keylog.display().to_string(),
        "tools": v.tools.display().to_string(),
    });
    if let Value::Object(b) = base {
        for (k, val) in b {
            if !val.is_null() {
                ctx.insert(k, val);
            }
        }
    }
    Value::Object(ctx)
}

pub fn render_all(items: &[String], ctx: &Value) -> Result<Vec<String>, TemplateError> {
    items.iter().map(|a| templates::render(a, ctx)).collect()
}

/// Renders `files:` of a plugin into the run folder.
pub fn render_files(
    m: &Manifest,
    plugin_dir: &Path,
    run_dir: &Path,
    ctx: &Value,
) -> Result<(), FilesError> {
    for f in &m.files {
        let src = crate::plugin::loader::inside(plugin_dir, &f.template)
            .ok_or_else(|| FilesError::Outside(f.template.clone()))?;
        let text = crate::plugin::loader::read_text_limited(&src, 4 << 20).map_err(|source| {
            FilesError::Read {
                path: src.clone(),
                source,
            }
        })?;
        let out = templates::render(&text, ctx).map_err(|source| FilesError::Template {
            template: f.template.clone(),
            source,
        })?;
        let dest = run_dir.join(&f.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|source| FilesError::Folder { source })?;
        }
        // A file already there may be a hard link to a shared one (a QUIC service's `www`):
        // replace the link, never write through it.
        let _ = std::fs::remove_file(&dest);
        std::fs::write(&dest, out).map_err(|source| FilesError::Write { path: dest, source })?;
    }
    Ok(())
}

/// The argv prefix of one execution environment, rendered for one service.
#[allow(clippy::too_many_arguments)]
pub fn wrapper_prefix(
    p: &Plugin,
    ee: &ExecutionEnvironment,
    panther: &str,
    plugin_dir: &Path,
    service: &str,
    test: &str,
    run_dir: &Path,
    artifact_dir: &Path,
) -> Result<Vec<String>, TemplateError> {
    let Some(w) = &p.manifest.wrapper else {
        return Ok(Vec::new());
    };
    let mut ctx = parameters(&p.manifest, &ee.plugin_config);
    for (k, v) in [
        ("panther", panther.to_string()),
        ("plugin_dir", plugin_dir.display().to_string()),
        ("service", service.to_string()),
        ("test", test.to_string()),
        ("run_dir", run_dir.display().to_string()),
        ("artifact_dir", artifact_dir.display().to_string()),
    ] {
        ctx.insert(k.into(), Value::String(v));
    }
    render_all(&w.argv_prefix, &Value::Object(ctx))
}
