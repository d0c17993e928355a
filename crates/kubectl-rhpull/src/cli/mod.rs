//! The command line: one clap derive definition, the single source of
//! `--help`, man pages and completions. Help texts are not written here: the
//! `i18n` module fills each one in from the catalogue under a key derived from
//! the command path and argument id (`help.<path>.about`,
//! `help.<path>.arg.<id>`), so every language gets the same tree.
//!
//! - this file: the root, kubectl's own flags, and the flag groups many
//!   commands share;
//! - [`commands`]: each command's arguments;
//! - [`values`]: parsers for numbers and durations.

pub mod commands;
pub mod values;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};

pub use commands::*;

/// `kubectl rhpull …` / `oc rhpull …`
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-rhpull",
    bin_name = "kubectl rhpull",
    disable_version_flag = true
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's own flags, which kubectl does not pass to plugins: parsed here.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct KubeArgs {
    /// One file, or several joined with `:` as in KUBECONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<std::ffi::OsString>,
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    #[arg(long, global = true, value_name = "DURATION", value_parser = values::duration)]
    pub request_timeout: Option<std::time::Duration>,
    /// For the API server and registries alike; warns every time.
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    #[arg(
        short = 'v',
        long = "v",
        global = true,
        value_name = "LEVEL",
        default_value_t = 0
    )]
    pub verbosity: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Login(LoginArgs),
    Logout(LogoutArgs),
    // Shown from the catalogue (see i18n), not by clap.
    #[command(alias = "doctor")]
    Check(CheckArgs),
    Fix(FixArgs),
    Create(CreateArgs),
    Link(LinkArgs),
    Unlink(UnlinkArgs),
    Grant(GrantArgs),
    Revoke(GrantArgs),
    Delegated(DelegatedArgs),
    Global(GlobalArgs),
    Status(StatusArgs),
    Rotate(RotateArgs),
    Registries(RegistriesArgs),
    BuildSecret(BuildSecretArgs),
    Export(ExportArgs),
    Completion(CompletionArgs),
    Version(VersionArgs),
    /// Man pages for the release archives (`cargo xtask dist`).
    #[command(name = "generate-man", hide = true)]
    GenerateMan(GenerateManArgs),
}

/// kubectl's `--dry-run`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DryRunArg {
    #[default]
    None,
    Client,
    Server,
}

/// `-o` for commands that write or show Kubernetes objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ObjectOutput {
    #[default]
    Table,
    Json,
    Yaml,
    Name,
}

/// `-o` for commands that report something other than objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportOutput {
    #[default]
    Table,
    Json,
    Yaml,
}

/// Many namespaces at once: `-A`, `-l SELECTOR` (namespace labels) or
/// `--namespaces a,b,c`, worked on concurrently.
#[derive(Debug, Default, clap::Args)]
pub struct FleetArgs {
    #[arg(short = 'A', long, conflicts_with_all = ["selector", "namespaces"])]
    pub all_namespaces: bool,
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    #[arg(
        long,
        value_name = "NS,NS",
        value_delimiter = ',',
        conflicts_with = "selector"
    )]
    pub namespaces: Vec<String>,
    #[arg(long, value_name = "N", default_value = "16", value_parser = values::count)]
    pub concurrency: usize,
}

/// Where a command works: which namespaces, and which clusters.
#[derive(Debug, Default, clap::Args)]
pub struct Where {
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub contexts: ContextArgs,
}

/// Many clusters at once: contexts of the kubeconfig, worked on
/// concurrently, each with its own client.
#[derive(Debug, Default, clap::Args)]
pub struct ContextArgs {
    #[arg(
        long,
        value_name = "CONTEXT,CONTEXT",
        value_delimiter = ',',
        conflicts_with_all = ["all_contexts", "context_selector"]
    )]
    pub contexts: Vec<String>,
    #[arg(long, conflicts_with = "context_selector")]
    pub all_contexts: bool,
    #[arg(long, value_name = "REGEX")]
    pub context_selector: Option<String>,
    #[arg(long, value_name = "N", default_value = "4", value_parser = values::count)]
    pub cluster_concurrency: usize,
}

/// Output for commands that write objects.
#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    #[arg(long = "dry-run", value_enum, default_value_t, num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: DryRunArg,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ObjectOutput,
    #[arg(long)]
    pub show_secrets: bool,
}

/// Where a username and secret come from. Secrets never need argv:
/// `--password-stdin`, `RHPULL_PASSWORD`, or a hidden prompt on a TTY.
#[derive(Debug, Default, clap::Args)]
pub struct SecretArgs {
    #[arg(short = 'u', long, value_name = "USERNAME")]
    pub username: Option<String>,
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    /// Works, but warns: argv is visible to every user of the machine.
    #[arg(short, long, value_name = "PASSWORD")]
    pub password: Option<String>,
}

/// The logins a secret is made from: stored ones (`--from-podman`, …) or
/// one typed in, for the registries named (`--registry`, repeatable).
#[derive(Debug, Default, clap::Args)]
pub struct LoginsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[arg(long = "registry", value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registries: Vec<String>,
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

impl SourceArgs {
    /// True when a source was named.
    pub fn named(&self) -> bool {
        self.from_podman || self.from_docker || self.from_file.is_some()
    }
}

/// TLS and network settings for talking to registries.
#[derive(Debug, clap::Args)]
pub struct NetArgs {
    #[arg(long = "registry-ca", value_name = "FILE")]
    pub registry_ca: Vec<std::path::PathBuf>,
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = values::duration)]
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

/// Which auth file `login` and `logout` write.
#[derive(Debug, clap::Args)]
pub struct AuthFileArgs {
    #[arg(long, value_name = "FILE", conflicts_with = "docker")]
    pub authfile: Option<std::path::PathBuf>,
    #[arg(long)]
    pub docker: bool,
}

/// The clap command tree, before localisation.
pub fn command() -> clap::Command {
    Cli::command()
}

/// One rule for every `--wait`: as kubectl's duration flags, it takes its
/// value with a space or with `=` (`--wait 2m`, `--wait=2m`). Where
/// `--wait` may also stand alone (`global set|remove`), the word after it
/// is its value only when it reads as a duration — a registry never does
/// — so it is joined to the flag here, before clap reads the line.
pub fn join_wait_values(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut args = argv.into_iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        let value = args
            .peek()
            .and_then(|next| next.to_str())
            .filter(|next| values::duration(next).is_ok() && !next.starts_with('-'))
            .map(str::to_string);
        match value {
            Some(v) if arg == "--wait" => {
                args.next();
                out.push(format!("--wait={v}").into());
            }
            _ => out.push(arg),
        }
    }
    out
}

impl Cli {
    pub fn from_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches(matches)
    }
}

impl From<DryRunArg> for rhpull_cluster::DryRun {
    fn from(d: DryRunArg) -> Self {
        match d {
            DryRunArg::None => Self::None,
            DryRunArg::Client => Self::Client,
            DryRunArg::Server => Self::Server,
        }
    }
}

impl From<ForArg> for rhpull_cluster::link::LinkFor {
    fn from(f: ForArg) -> Self {
        match f {
            ForArg::Pull => Self::Pull,
            ForArg::Mount => Self::Mount,
            ForArg::Both => Self::Both,
        }
    }
}

impl From<SecretTypeArg> for rhpull_cluster::pullsecret::Format {
    fn from(t: SecretTypeArg) -> Self {
        match t {
            SecretTypeArg::Dockercfg => Self::DockerCfg,
            // podmanconfigjson is not a type the kubelet reads.
            SecretTypeArg::Dockerconfigjson | SecretTypeArg::Podmanconfigjson => {
                Self::DockerConfigJson
            }
        }
    }
}

impl FleetArgs {
    /// The scope, or `None` for the one namespace of `-n`.
    pub fn scope(&self) -> Option<rhpull_cluster::fleet::Scope> {
        use rhpull_cluster::fleet::Scope;
        if self.all_namespaces {
            Some(Scope::All)
        } else if let Some(s) = &self.selector {
            Some(Scope::Selector(s.clone()))
        } else if !self.namespaces.is_empty() {
            Some(Scope::Namespaces(self.namespaces.clone()))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod wait_tests {
    use super::join_wait_values;

    fn joined(args: &[&str]) -> Vec<String> {
        join_wait_values(args.iter().map(Into::into).collect())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn wait_takes_its_value_with_a_space_or_an_equals_sign() {
        assert_eq!(
            joined(&["rhpull", "global", "set", "quay.io", "--wait", "2m"]),
            ["rhpull", "global", "set", "quay.io", "--wait=2m"]
        );
        assert_eq!(
            joined(&["rhpull", "link", "default", "--wait", "20s"]),
            ["rhpull", "link", "default", "--wait=20s"]
        );
        assert_eq!(
            joined(&["rhpull", "global", "set", "--wait=90s", "quay.io"]),
            ["rhpull", "global", "set", "--wait=90s", "quay.io"]
        );
        // Alone, before a registry or a flag: left as it is.
        assert_eq!(
            joined(&["rhpull", "global", "set", "--wait", "quay.io"]),
            ["rhpull", "global", "set", "--wait", "quay.io"]
        );
        assert_eq!(
            joined(&["rhpull", "global", "set", "--wait", "-y"]),
            ["rhpull", "global", "set", "--wait", "-y"]
        );
        assert_eq!(
            joined(&["rhpull", "x", "--", "--wait", "2m"]),
            ["rhpull", "x", "--", "--wait", "2m"]
        );
    }
}
