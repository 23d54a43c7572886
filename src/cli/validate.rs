//! `panther validate FILE`: everything short of running the experiment.

use std::path::PathBuf;

use serde_json::json;

use crate::experiment::{self, plan};
use crate::plugin::loader::read_limited;

use super::report::{plural, print_all};
use super::{Cli, Format, exit};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment config (PANTHER's YAML shape).
    pub file: PathBuf,
    /// Output: human-readable text on stderr, or one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(cli: &Cli, a: &Args) -> i32 {
    let reg = cli.registry();
    let file = a.file.display().to_string();
    let (loaded, text) = match read_limited(&a.file, experiment::LIMITS.max_bytes) {
        Ok(text) => (experiment::load_str(&text, &file, &reg), Some(text)),
        // An unreadable file has no position: said once, in words (no `FILE:1:1`).
        Err(e) if a.format == Format::Text => {
            eprint!("{}", super::report::render_read_error(&file, &e));
            return exit::BAD_INPUT;
        }
        Err(e) => (
            experiment::Loaded {
                experiment: None,
                root: None,
                diagnostics: vec![e.into_diagnostic(&file)],
            },
            None,
        ),
    };
    let ok = loaded.is_ok();
    match a.format {
        Format::Json => {
            let tests: Vec<_> = loaded
                .experiment
                .iter()
                .flat_map(|e| &e.tests)
                .map(|t| json!({"name": t.name, "services": t.services.len(), "start_order": plan::start_order(t).ok()}))
                .collect();
            let doc =
                json!({"file": file, "ok": ok, "tests": tests, "diagnostics": loaded.diagnostics});
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("json values serialize")
            );
        }
        Format::Text => {
            let (errors, warnings) = print_all(&loaded.diagnostics, text.as_deref());
            if ok {
                let e = loaded.experiment.as_ref().expect("ok implies parsed");
                let services: usize = e.tests.iter().map(|t| t.services.len()).sum();
                let w = if warnings > 0 {
                    format!(" ({})", plural(warnings, "warning"))
                } else {
                    String::new()
                };
                println!(
                    "{file}: ok: {}, {}{w}",
                    plural(e.tests.len(), "test"),
                    plural(services, "service")
                );
            } else {
                eprintln!(
                    "{file}: {}, {}",
                    plural(errors, "error"),
                    plural(warnings, "warning")
                );
            }
        }
    }
    if ok { exit::OK } else { exit::BAD_INPUT }
}
