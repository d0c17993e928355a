//! One module per command; each turns parsed options into a result and
//! prints it through `output`.

pub mod check;
mod completion;
mod create;
mod delegated;
mod export;
mod fleet;
mod global;
mod grant;
mod link;
mod login;
mod registries;
mod rotate;
mod status;
mod version;

use crate::cli::{Cli, Command};
use crate::error::CliError;

pub fn run(cli: Cli) -> Result<(), CliError> {
    let kube = &cli.kube;
    match cli.command {
        Command::Version(args) => version::run(&args),
        Command::Check(args) => check::run(kube, &args),
        Command::Create(args) => create::run(kube, &args),
        Command::Link(args) => link::run(kube, &args),
        Command::Unlink(args) => link::unlink(kube, &args),
        Command::Grant(args) => grant::grant(kube, &args),
        Command::Revoke(args) => grant::revoke(kube, &args),
        Command::Delegated(args) => delegated::run(kube, &args),
        Command::Global(args) => global::run(kube, &args),
        Command::Status(args) => status::run(kube, &args),
        Command::Rotate(args) => rotate::run(kube, &args),
        Command::Export(args) => export::run(&args),
        Command::BuildSecret(args) => link::build_secret(kube, &args),
        Command::Completion(args) => completion::run(&args),
        Command::GenerateMan(args) => completion::man(&args),
        Command::Login(args) => login::login(kube, &args),
        Command::Logout(args) => login::logout(&args),
        Command::Registries(args) => registries::run(&args),
    }
}
