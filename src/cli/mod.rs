//! The command line: one file per subcommand, all driving the same headless core as the TUI.

pub mod as_root;
pub mod builtin;
pub mod export;
pub mod images;
pub mod import;
pub mod log;
pub mod matrix;
pub mod plugin_new;
pub mod plugins;
pub mod plugins_install;
pub mod report;
pub mod run;
pub mod tutorial;
pub mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::plugin::{LoadOptions, Registry};

/// Exit codes (DESIGN.md): 0 ok, 1 a test failed, 2 bad input, 130 interrupted.
pub mod exit {
    pub const OK: i32 = 0;
    pub const TEST_FAILED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, Parser)]
#[command(
    name = "panther",
    version,
    about = "A terminal workbench for testing network-protocol implementations with PANTHER plugins",
    long_about = "A terminal workbench for testing network-protocol implementations (IUTs) against \
testers, using PANTHER's plugin system and experiment format.\n\nWithout a subcommand, panther \
opens the full-screen workbench (`panther FILE` on that experiment). Every subcommand works \
headless.\n\nIn the workbench, `:` (Ctrl-P while typing in the editor) opens the command line; each command has a headless counterpart: `:open`/`:new` \
(`validate`), `:run [TEST]` (`run --test`), `:replay DIR` (`replay`, `export`), `:matrix FLAGS` \
and `:matrix DIR` (`matrix`, the same flags), `:plugins` \
(`plugins list|show`), `:create` (`plugin new`, `--create-plugin`), `:tutor` (`tutorial`), \
`:theme NAME` and `:reload` (`theme` and `plugin-dirs` in $PANTHER_CONFIG or \
~/.config/panther/config.toml).",
    after_help = "Exit codes: 0 ok, 1 a test failed, 2 bad input, 130 interrupted.\n\
Logs go to $PANTHER_LOG_FILE or ~/.local/state/panther/panther.log (level: $PANTHER_LOG, e.g. debug)."
)]
pub struct Cli {
    /// Extra folder of plugins to load (repeatable); also $PANTHER_PLUGIN_DIR.
    #[arg(
        long = "plugin-dir",
        value_name = "DIR",
        global = true,
        env = "PANTHER_PLUGIN_DIR",
        value_delimiter = ':'
    )]
    pub plugin_dirs: Vec<PathBuf>,

    /// Do not load plugins from ~/.config/panther/plugins.
    #[arg(long, global = true)]
    pub no_user_plugins: bool,

    /// Scaffold a new plugin (PANTHER's spelling of `panther plugin new TYPE NAME`).
    /// TYPE: service, iut, tester, network_environment, execution_environment or protocol.
    #[arg(long = "create-plugin", num_args = 2, value_names = ["TYPE", "NAME"])]
    pub create_plugin: Option<Vec<String>>,

    /// Open the workbench on the tutorial picker, the first tutorial you have not finished
    /// selected (PANTHER's spelling; also `panther tutorial list|run NAME`, `:tutor`).
    #[arg(long)]
    pub interactive_tutorials: bool,

    /// An experiment file to open in the workbench's editor.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment headless; results go to `outputs/<date>_<name>/`.
    Run(run::Args),
    /// Check an experiment config: syntax, PANTHER aliases, plugins, protocols, roles, targets.
    Validate(validate::Args),
    /// Convert a results folder: Mermaid sequence diagram, JUnit XML or the JSON summary.
    Export(export::Args),
    /// Tutorials: list them, follow one in the workbench, check one you are writing.
    #[command(subcommand)]
    Tutorial(tutorial::Command),
    /// Open a results folder in the workbench's sequence view (a finished run, or one that
    /// crashed half-way).
    Replay {
        /// A results folder (`outputs/<date>_<name>/`).
        dir: std::path::PathBuf,
    },
    /// Browse and check plugins.
    #[command(subcommand)]
    Plugins(plugins::Command),
    /// Create plugins.
    #[command(subcommand)]
    Plugin(plugin_new::Command),
    /// Run a service built into panther (what the bundled ping_pong, minip_tester and
    /// http_conformance plugins launch); they print JSON event records on stdout.
    #[command(subcommand)]
    Builtin(builtin::Command),
    /// Build and list the images the docker_compose network environment runs (no registry).
    #[command(subcommand)]
    Images(images::Command),
    /// Interop matrix: servers × clients × cases in parallel; `matrix diff` and `matrix merge`.
    Matrix(Box<matrix::MatrixArgs>),
    /// Turn a trace made elsewhere (a QUIC pcap/pcapng with its key log, a quic-interop-runner
    /// log folder) into a results folder for `panther replay` and the workbench.
    Import(import::Args),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

impl Cli {
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            bundled: true,
            user: !self.no_user_plugins,
            dirs: self.plugin_dirs.clone(),
            availability: true,
        }
    }

    pub fn registry(&self) -> Registry {
        Registry::load(&self.load_options())
    }
}

/// Runs a parsed command line (everything but the TUI) and returns the exit code.
pub fn dispatch(cli: &Cli) -> Option<i32> {
    if let Some(args) = &cli.create_plugin {
        let args = plugin_new::NewArgs {
            kind: args[0].clone(),
            name: args[1].clone(),
            dir: None,
            protocol: None,
        };
        return Some(plugin_new::run(cli, &args));
    }
    if cli.interactive_tutorials && cli.command.is_none() {
        return Some(workbench(cli, crate::tui::Start::TutorPicker));
    }
    let cmd = cli.command.as_ref()?;
    // A plugin folder that is not there is a mistake, not an empty folder (the built-in
    // services are launched by runs and ignore plugin folders).
    if !matches!(cmd, Command::Builtin(_))
        && let Err(code) = check_plugin_dirs(cli)
    {
        return Some(code);
    }
    Some(match cmd {
        Command::Run(a) => run::run(cli, a),
        Command::Validate(a) => validate::run(cli, a),
        Command::Export(a) => export::run(a),
        Command::Tutorial(c) => tutorial::run(cli, c),
        Command::Replay { dir } => workbench(cli, crate::tui::Start::Replay(dir.clone())),
        Command::Plugins(c) => plugins::run(cli, c),
        Command::Plugin(c) => plugin_new::dispatch(cli, c),
        Command::Builtin(c) => builtin::run(c),
        Command::Images(c) => images::run(cli, c),
        Command::Matrix(a) => matrix::run(cli, a),
        Command::Import(a) => import::run(a),
    })
}

/// Every `--plugin-dir` (or `$PANTHER_PLUGIN_DIR` entry) must be a folder.
fn check_plugin_dirs(cli: &Cli) -> Result<(), i32> {
    for d in &cli.plugin_dirs {
        if !d.is_dir() {
            eprintln!(
                "error: --plugin-dir {}: {}",
                d.display(),
                if d.exists() {
                    "not a folder"
                } else {
                    "no such folder"
                }
            );
            return Err(exit::BAD_INPUT);
        }
    }
    Ok(())
}

/// What can be refused before the workbench starts: a `--plugin-dir` that is not a folder,
/// a FILE that does not exist, a replay folder that is not a results folder. (No terminal
/// is refused by the workbench itself, after the config is checked.)
fn check_workbench_args(cli: &Cli, start: &crate::tui::Start) -> Result<(), i32> {
    check_plugin_dirs(cli)?;
    if let crate::tui::Start::File(f) = start
        && !f.exists()
    {
        eprintln!(
            "error: {}: no such file\n  help: `panther` opens the quickstart; `:new` in the workbench starts an experiment",
            f.display()
        );
        return Err(exit::BAD_INPUT);
    }
    if let crate::tui::Start::Replay(dir) = start
        && let Err(e) = crate::tui::app::SequenceScreen::check_dir(dir)
    {
        eprintln!("error: {e}");
        return Err(exit::BAD_INPUT);
    }
    Ok(())
}

/// Opens the workbench: the user's config first (a bad one is reported with file:line:column
/// and nothing starts), then the plugins, including the config's plugin folders.
pub fn workbench(cli: &Cli, start: crate::tui::Start) -> i32 {
    use crate::tui::config;
    let start = match (&cli.file, start) {
        (Some(f), crate::tui::Start::Quickstart) => crate::tui::Start::File(f.clone()),
        (_, s) => s,
    };
    if let Err(code) = check_workbench_args(cli, &start) {
        return code;
    }
    let cfg = match config::default_path() {
        Some(p) => match config::load(&p) {
            Ok(c) => c,
            Err(diags) => {
                let text = crate::plugin::loader::read_text_limited(&p, 1 << 20).ok();
                report::print_all(&diags, text.as_deref());
                eprintln!(
                    "{}: fix the config (or move it aside) and start again",
                    p.display()
                );
                return exit::BAD_INPUT;
            }
        },
        None => config::UserConfig::default(),
    };
    let mut opts = cli.load_options();
    opts.dirs.extend(cfg.plugin_dirs.iter().cloned());
    let reg = crate::plugin::Registry::load(&opts);
    match crate::tui::run_with(&reg, start, &cfg, &cli.load_options()) {
        // Killed (SIGTERM, SIGHUP…) after the terminal was restored: 128 + the signal, as a
        // shell would report it, so a supervisor does not read it as a clean quit.
        Ok(()) => crate::tui::ended_by_signal().map_or(exit::OK, |sig| 128 + sig),
        Err(e) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}
