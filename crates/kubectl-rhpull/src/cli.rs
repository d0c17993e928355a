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
    Login(LoginArgs),
    Logout(LogoutArgs),
    #[command(visible_alias = "doctor")]
    Check(CheckArgs),
    Registries(RegistriesArgs),
    Version(VersionArgs),
}

/// Where a username and secret come from. Secrets never need argv:
/// `--password-stdin`, `RHPULL_PASSWORD`, or a hidden prompt on a TTY.
#[derive(Debug, Default, clap::Args)]
pub struct SecretArgs {
    #[arg(short = 'u', long, value_name = "USERNAME")]
    pub username: Option<String>,
    #[arg(long)]
    pub password_stdin: bool,
    /// Works, but warns: argv is visible to every user of the machine.
    #[arg(
        short = 'p',
        long,
        value_name = "PASSWORD",
        conflicts_with = "password_stdin"
    )]
    pub password: Option<String>,
}

/// Reading credentials someone already stored.
#[derive(Debug, Default, clap::Args)]
pub struct SourceArgs {
    #[arg(long, conflicts_with_all = ["from_docker", "from_file", "username"])]
    pub from_podman: bool,
    #[arg(long, conflicts_with_all = ["from_file", "username"])]
    pub from_docker: bool,
    #[arg(long, value_name = "FILE", conflicts_with = "username")]
    pub from_file: Option<std::path::PathBuf>,
}

/// TLS and network settings for talking to registries.
#[derive(Debug, clap::Args)]
pub struct NetArgs {
    #[arg(long = "registry-ca", value_name = "FILE")]
    pub registry_ca: Vec<std::path::PathBuf>,
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    #[arg(long, value_enum, default_value_t)]
    pub grant: GrantArg,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum GrantArg {
    #[default]
    Auto,
    Basic,
    Oauth,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Registry to check (host or host:port).
    #[arg(value_name = "REGISTRY", default_value = "registry.redhat.io")]
    pub registry: String,
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub net: NetArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    #[arg(value_name = "REGISTRY", default_value = "registry.redhat.io")]
    pub registry: String,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub file: AuthFileArgs,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    #[arg(value_name = "REGISTRY", default_value = "registry.redhat.io")]
    pub registry: String,
    #[command(flatten)]
    pub file: AuthFileArgs,
}

/// Which auth file `login` and `logout` write.
#[derive(Debug, clap::Args)]
pub struct AuthFileArgs {
    #[arg(long, value_name = "FILE", conflicts_with = "docker")]
    pub authfile: Option<std::path::PathBuf>,
    #[arg(long)]
    pub docker: bool,
}

/// `500ms`, `15s`, `2m`, `1h`, or plain seconds, as kubectl's timeouts.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let bad = || crate::i18n::text("error.duration", &[("value", s)]);
    let n: f64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Ok(std::time::Duration::from_secs_f64(secs))
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
