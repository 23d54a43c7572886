use std::process::ExitCode;

use clap::Parser;

use panther::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _log = cli::log::init();
    tracing::info!(args = ?std::env::args().collect::<Vec<_>>(), "panther starting");
    if let Some(code) = cli::dispatch(&cli) {
        return ExitCode::from(code as u8);
    }
    ExitCode::from(cli::workbench(&cli, panther::tui::Start::Quickstart) as u8)
}
