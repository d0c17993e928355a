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
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's own flags, which kubectl does not pass to plugins: parsed here.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct KubeArgs {
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
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
    #[command(visible_alias = "doctor")]
    Check(CheckArgs),
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

#[derive(Debug, clap::Args)]
pub struct GenerateManArgs {
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,
}

/// kubectl's `--dry-run`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DryRunArg {
    #[default]
    None,
    Client,
    Server,
}

/// Many namespaces at once: `-A`, `-l SELECTOR` (namespace labels) or
/// `--namespaces a,b,c`, worked on concurrently.
#[derive(Debug, Default, clap::Args)]
pub struct FleetArgs {
    #[arg(short = 'A', long, conflicts_with_all = ["selector", "namespaces"])]
    pub all_namespaces: bool,
    #[arg(
        short = 'l',
        long,
        value_name = "SELECTOR",
        conflicts_with = "namespaces"
    )]
    pub selector: Option<String>,
    #[arg(long, value_name = "NS,NS", value_delimiter = ',')]
    pub namespaces: Vec<String>,
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
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

/// `-o` for commands that show objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ObjectOutput {
    #[default]
    Table,
    Json,
    Yaml,
    Name,
}

/// Which list(s) of a service account a secret goes into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ForArg {
    #[default]
    Pull,
    Mount,
    Both,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SecretTypeArg {
    #[default]
    Dockerconfigjson,
    Dockercfg,
    /// Not a type the kubelet reads: accepted, and dockerconfigjson is made.
    Podmanconfigjson,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[arg(long = "registry", value_name = "REGISTRY")]
    pub registries: Vec<String>,
    #[arg(long, conflicts_with = "registries")]
    pub all_registries: bool,
    #[arg(long = "type", value_enum, default_value_t)]
    pub secret_type: SecretTypeArg,
    #[arg(long = "link", value_name = "SERVICE_ACCOUNT")]
    pub link: Vec<String>,
    #[arg(long = "for", value_enum, default_value_t)]
    pub link_for: ForArg,
    #[arg(long)]
    pub verify: bool,
    #[arg(long)]
    pub overwrite: bool,
    /// For OpenShift image streams: the global pull secret (4.x) or
    /// openshift/imagestreamsecret (3.x), whichever the cluster uses.
    #[arg(long, conflicts_with_all = ["link", "name", "all_namespaces", "selector", "namespaces"])]
    pub for_imagestreams: bool,
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub wait: std::time::Duration,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    #[arg(value_name = "SERVICE_ACCOUNT")]
    pub service_account: String,
    #[arg(value_name = "SECRET")]
    pub secrets: Vec<String>,
    #[arg(long = "for", value_enum)]
    pub link_for: Option<ForArg>,
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub wait: std::time::Duration,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct UnlinkArgs {
    #[arg(value_name = "SERVICE_ACCOUNT")]
    pub service_account: String,
    #[arg(value_name = "SECRET", required = true)]
    pub secrets: Vec<String>,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct GrantArgs {
    #[arg(value_name = "FROM")]
    pub from: String,
    #[arg(value_name = "TO", required_unless_present_any = ["all_namespaces", "selector", "namespaces"])]
    pub to: Vec<String>,
    #[arg(
        long = "sa",
        value_name = "NAME",
        conflicts_with = "all_service_accounts"
    )]
    pub service_accounts: Vec<String>,
    #[arg(long)]
    pub all_service_accounts: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct DelegatedArgs {
    #[arg(
        long = "registry",
        value_name = "REGISTRY",
        default_value = "registry.redhat.io"
    )]
    pub registry: String,
    #[arg(long, value_name = "HOST")]
    pub auth_server: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[arg(long = "link", value_name = "SERVICE_ACCOUNT")]
    pub link: Vec<String>,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    #[command(subcommand)]
    pub action: GlobalAction,
}

#[derive(Debug, Subcommand)]
pub enum GlobalAction {
    Show(GlobalShowArgs),
    Check(GlobalCheckArgs),
    Set(GlobalSetArgs),
    Remove(GlobalRemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct GlobalShowArgs {
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ObjectOutput,
}

#[derive(Debug, clap::Args)]
pub struct GlobalCheckArgs {
    #[command(flatten)]
    pub net: NetArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct GlobalSetArgs {
    #[arg(value_name = "REGISTRY")]
    pub registry: String,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct GlobalRemoveArgs {
    #[arg(value_name = "REGISTRY")]
    pub registry: String,
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ObjectOutput,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    #[arg(long = "registry", value_name = "REGISTRY")]
    pub registry: Option<String>,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct BuildSecretArgs {
    #[arg(value_name = "BUILDCONFIG")]
    pub build_config: String,
    #[arg(value_name = "SECRET")]
    pub secret: Option<String>,
    #[arg(long)]
    pub push: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub format: ExportFormat,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[arg(long = "registry", value_name = "REGISTRY")]
    pub registries: Vec<String>,
    #[arg(long = "output-file", value_name = "FILE")]
    pub output_file: Option<std::path::PathBuf>,
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// OKD 3.11 installer inventory variables
    Ansible,
}

#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    #[arg(long = "secret", value_name = "NAME", conflicts_with_all = ["from_podman", "from_docker", "from_file", "username", "pod"])]
    pub cluster_secret: Option<String>,
    #[arg(long, value_name = "POD", conflicts_with_all = ["from_podman", "from_docker", "from_file", "username"])]
    pub pod: Option<String>,
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
    /// A downloaded credential file to merge in (every login in it).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["username", "password", "password_stdin"])]
    pub from_file: Option<std::path::PathBuf>,
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
