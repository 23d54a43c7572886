//! `panther plugin new TYPE NAME` and PANTHER's `panther --create-plugin TYPE NAME`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::plugin::creator::{self, Request};

use super::{Cli, exit};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a plugin that `panther plugins validate` accepts as written.
    New(NewArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct NewArgs {
    /// service (an IUT), iut, tester, network_environment, execution_environment or protocol.
    #[arg(value_name = "TYPE")]
    pub kind: String,
    /// Lowercase identifier: a-z, 0-9, _.
    pub name: String,
    /// Plugins folder to create it in (default: ~/.config/panther/plugins, loaded automatically).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// For services: the protocol spoken (default: minip).
    #[arg(long)]
    pub protocol: Option<String>,
}

pub fn dispatch(cli: &Cli, c: &Command) -> i32 {
    match c {
        Command::New(a) => run(cli, a),
    }
}

pub fn run(cli: &Cli, a: &NewArgs) -> i32 {
    let kind = match creator::parse_type(&a.kind) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let req = Request {
        kind,
        name: a.name.clone(),
        protocol: a.protocol.clone(),
        dir: a.dir.clone(),
    };
    let mut opts = cli.load_options();
    opts.availability = false;
    let reg = crate::plugin::Registry::load(&opts);
    match creator::create(&req, &reg) {
        Ok(c) => {
            println!(
                "created {} plugin `{}` in {}",
                kind,
                a.name,
                c.dir.display()
            );
            for f in &c.files {
                println!("  {}", f.display());
            }
            let dir_flag = match &a.dir {
                Some(d) => format!(" --plugin-dir {}", d.display()),
                None => String::new(),
            };
            println!(
                "next: panther{dir_flag} plugins show {}   (and: panther plugins validate {})",
                a.name,
                c.dir.display()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}
