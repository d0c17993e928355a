//! One module per command. Each turns its clap arguments into resolved
//! options (no I/O; usage errors only), gathers what it needs from this
//! machine (credentials, the terminal), and then either runs through the
//! [`driver`](crate::driver) (commands that talk to clusters) or does its
//! local work; every one reports through [`render`](crate::render).

mod build_secret;
pub(crate) mod check;
mod completion;
mod create;
mod delegated;
mod export;
mod fix;
mod fleet;
mod global;
mod grant;
pub(crate) mod link;
mod login;
mod registries;
mod rotate;
mod status;
mod version;

use crate::cli::{Cli, Command};
use crate::error::CliError;

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let kube = &cli.kube;
    match cli.command {
        Command::Version(args) => version::run(&args),
        Command::Check(args) => check::run(kube, &args).await,
        Command::Fix(args) => fix::run(kube, &args).await,
        Command::Create(args) => create::run(kube, &args).await,
        Command::Link(args) => link::run(kube, &args).await,
        Command::Unlink(args) => link::unlink(kube, &args).await,
        Command::Grant(args) => grant::run(kube, &args, grant::Direction::Grant).await,
        Command::Revoke(args) => grant::run(kube, &args, grant::Direction::Revoke).await,
        Command::Delegated(args) => delegated::run(kube, &args).await,
        Command::Global(args) => global::run(kube, &args).await,
        Command::Status(args) => status::run(kube, &args).await,
        Command::Rotate(args) => rotate::run(kube, &args).await,
        Command::Export(args) => export::run(kube, &args).await,
        Command::BuildSecret(args) => build_secret::run(kube, &args).await,
        Command::Completion(args) => completion::run(&args),
        Command::GenerateMan(args) => completion::man(&args),
        Command::Login(args) => login::login(kube, &args).await,
        Command::Logout(args) => login::logout(&args),
        Command::Registries(args) => registries::run(&args),
    }
}
