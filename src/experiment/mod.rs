//! Experiment configs in PANTHER's YAML shape: parse with spans, accept PANTHER's aliases
//! (with warnings), type, and validate against the plugin registry.

pub mod model;
pub mod normalize;
pub mod panther_keys;
pub mod plan;
pub mod shadow;
pub mod validate;

use std::path::Path as FsPath;

use crate::diag::{self, Diagnostic};
use crate::plugin::Registry;
use crate::yaml::{self, Limits, Node, Span};

pub use model::{Experiment, Test};

/// Experiments are hand-written; anything near the limit is a mistake or an attack.
pub const LIMITS: Limits = Limits {
    max_bytes: 4 * 1024 * 1024,
    max_nodes: 200_000,
    max_depth: 64,
};

/// The outcome of loading a config: the typed experiment when it parsed, and every finding.
#[derive(Debug)]
pub struct Loaded {
    pub experiment: Option<Experiment>,
    /// The normalized tree, for positions of later findings (the run engine's, the TUI's).
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn is_ok(&self) -> bool {
        self.experiment.is_some() && !diag::has_errors(&self.diagnostics)
    }
}

/// Parses, normalizes, types and validates `text` (named `file` in messages).
pub fn load_str(text: &str, file: &str, reg: &Registry) -> Loaded {
    // PyYAML's leniencies (PANTHER's loader) are repaired with a warning each.
    let (mut root, notes) = match yaml::parse_lenient(text, LIMITS) {
        Ok(r) => r,
        Err(e) => {
            return Loaded {
                experiment: None,
                root: None,
                diagnostics: vec![Diagnostic::error(file, e.span, e.message).help_opt(e.help)],
            };
        }
    };
    if root.as_map().is_none() {
        let d = Diagnostic::error(
            file,
            root.span,
            format!("an experiment must be a map, found {}", root.kind_name()),
        )
        .expected("a map with a `tests:` list");
        return Loaded {
            experiment: None,
            root: Some(root),
            diagnostics: vec![d],
        };
    }
    let mut diagnostics: Vec<Diagnostic> = notes
        .into_iter()
        .map(|n| Diagnostic::warning(file, n.span, n.message).help_opt(n.help))
        .collect();
    diagnostics.extend(normalize::normalize(&mut root, file));
    let experiment: Option<Experiment> = match yaml::from_node(&root) {
        Ok(e) => Some(e),
        Err(e) => {
            let help = e
                .help
                .or_else(|| panther_keys::near_panther_key(&e.message));
            let mut d =
                Diagnostic::error(file, e.span.unwrap_or(Span::START), e.message).help_opt(help);
            d.expected = e.expected;
            diagnostics.push(d);
            None
        }
    };
    if let Some(exp) = &experiment {
        diagnostics.extend(validate::validate(exp, &root, file, reg));
    }
    diag::sort(&mut diagnostics);
    Loaded {
        experiment,
        root: Some(root),
        diagnostics,
    }
}

/// Reads and loads a file, refusing oversized files before reading them whole.
pub fn load_file(path: &FsPath, reg: &Registry) -> Loaded {
    let file = path.display().to_string();
    match crate::plugin::loader::read_limited(path, LIMITS.max_bytes) {
        Ok(text) => load_str(&text, &file, reg),
        Err(d) => Loaded {
            experiment: None,
            root: None,
            diagnostics: vec![d.into_diagnostic(&file)],
        },
    }
}
