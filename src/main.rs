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
    let reg = cli.registry();
    match panther::tui::run(&reg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the workbench stopped: {e}");
            ExitCode::from(cli::exit::BAD_INPUT as u8)
        }
    }
}
