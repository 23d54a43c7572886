use std::process::ExitCode;

use clap::Parser;

use panther::cli::{self, Cli};

fn main() -> ExitCode {
    // The tiny init services run under (see `panther::run::init`): before anything else, so
    // it stays a single-threaded process.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == panther::run::init::ARG)
    {
        panther::run::init::main(std::env::args_os().collect());
    }
    // This binary holds the init: services run under it whatever this file is called.
    if let Ok(me) = std::env::current_exe() {
        panther::run::init::set_exe(me);
    }
    let cli = Cli::parse();
    let _log = cli::log::init();
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    tracing::info!(?args, "panther starting");
    if let Some(code) = cli::dispatch(&cli) {
        return ExitCode::from(code as u8);
    }
    ExitCode::from(cli::workbench(&cli, panther::tui::Start::Quickstart) as u8)
}
