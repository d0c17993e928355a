//! One module per command; each turns parsed options into a result and
//! prints it through `output`.

pub mod check;
mod login;
mod registries;
mod version;

use crate::cli::{Cli, Command};
use crate::error::CliError;

pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Version(args) => version::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Login(args) => login::login(&args),
        Command::Logout(args) => login::logout(&args),
        Command::Registries(args) => registries::run(&args),
    }
}
