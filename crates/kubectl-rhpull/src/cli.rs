//! The command line: one clap derive definition, the single source of
//! `--help`, man pages and completions. Help texts are not written here: the
//! `i18n` module fills each one in from the catalogue under a key derived from
//! the command path and argument id (`help.<path>.about`,
//! `help.<path>.arg.<id>`), so every language gets the same tree.

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};

/// `kubectl rhpull …` / `oc rhpull …`
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-rhpull",
    bin_name = "kubectl rhpull",
    disable_version_flag = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Version(VersionArgs),
    Registries(RegistriesArgs),
}

/// Output formats shared by every command that shows something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct RegistriesArgs {
    #[arg(long)]
    pub docker: bool,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// The clap command tree, before localisation.
pub fn command() -> clap::Command {
    Cli::command()
}

impl Cli {
    pub fn from_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches(matches)
    }
}
