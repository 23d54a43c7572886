//! `panther tutorial list|run|validate`: the tutorials outside the workbench. They are
//! followed inside it (`run` opens it), because their checks look at what you do there.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Cli, exit, report};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The tutorials (bundled, then yours in ~/.config/panther/tutorials), with your progress.
    List,
    /// Follow a tutorial in the workbench (resumed where you left it).
    Run { name: String },
    /// Check tutorial files you are writing: every mistake at file:line:column.
    Validate {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub fn run(cli: &Cli, c: &Command) -> i32 {
    let dir = crate::tutorial::user_dir();
    match c {
        Command::List => {
            let (all, diags) = crate::tutorial::load_all(dir.as_deref());
            report::print_all(&diags, None);
            let progress = crate::tutorial::progress_file()
                .map(|f| crate::tutorial::load_progress(&f))
                .unwrap_or_default();
            let nw = all.iter().map(|t| t.name.len()).max().unwrap_or(0);
            let tw = all
                .iter()
                .map(|t| t.title.chars().count())
                .max()
                .unwrap_or(0);
            for t in &all {
                let done = progress
                    .get(&t.name)
                    .copied()
                    .unwrap_or(0)
                    .min(t.steps.len());
                println!(
                    "{:<nw$}  {:<tw$}  {done}/{} steps  {}",
                    t.name,
                    t.title,
                    t.steps.len(),
                    t.summary
                );
            }
            println!("\nfollow one: panther tutorial run NAME (or :tutor NAME in the workbench)");
            if diags.is_empty() {
                exit::OK
            } else {
                exit::BAD_INPUT
            }
        }
        Command::Run { name } => {
            let (all, _) = crate::tutorial::load_all(dir.as_deref());
            if !all.iter().any(|t| t.name == *name) {
                eprintln!("error: {}", crate::tutorial::unknown(name, &all));
                return exit::BAD_INPUT;
            }
            super::workbench(cli, crate::tui::Start::Tutorial(name.clone()))
        }
        Command::Validate { files } => {
            let mut bad = 0;
            for f in files {
                let file = f.display().to_string();
                let text = match crate::plugin::loader::read_limited(
                    f,
                    crate::yaml::Limits::default().max_bytes,
                ) {
                    Ok(t) => t,
                    Err(e) => {
                        bad += 1;
                        eprint!("{}", report::render_read_error(&file, &e));
                        continue;
                    }
                };
                match crate::tutorial::parse(&text, &file) {
                    Ok(t) => println!("{file}: ok, `{}` with {} steps", t.name, t.steps.len()),
                    Err(d) => {
                        bad += 1;
                        report::print_all(&[d], Some(&text));
                    }
                }
            }
            if bad == 0 { exit::OK } else { exit::BAD_INPUT }
        }
    }
}
