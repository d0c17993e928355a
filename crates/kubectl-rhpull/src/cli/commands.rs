//! Each command's arguments, as clap parses them (help texts come from the
//! catalogue). Defaults that need thought are left `None` here and decided
//! once, where each command resolves its options.

use clap::ValueEnum;

use super::{
    AuthFileArgs, ContextArgs, DryRunArg, LoginsArgs, NetArgs, ObjectOutput, ReportOutput,
    SecretArgs, SourceArgs, Where, WriteArgs, values,
};

#[derive(Debug, clap::Args)]
pub struct GenerateManArgs {
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,
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
    pub logins: LoginsArgs,
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
    /// `email` in the secret's entry, for a login typed in (kubectl's
    /// `--docker-email`); a login read from a file keeps its own.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    #[arg(long)]
    pub overwrite: bool,
    /// For OpenShift image streams: the global pull secret (4.x) or
    /// openshift/imagestreamsecret (3.x), whichever the cluster uses.
    #[arg(long, conflicts_with_all = ["link", "name", "all_namespaces", "selector", "namespaces"])]
    pub for_imagestreams: bool,
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// `None`: not given (30s, for a service account the cluster makes).
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub wait: Option<std::time::Duration>,
    #[command(flatten)]
    pub at: Where,
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
    /// `None`: not given (30s, for a service account the cluster makes).
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub wait: Option<std::time::Duration>,
    #[command(flatten)]
    pub at: Where,
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
    pub at: Where,
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
    pub at: Where,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct DelegatedArgs {
    /// Default: registry.redhat.io.
    #[arg(long = "registry", value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registry: Option<String>,
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
    /// `None`: not given (30s, for a service account the cluster makes).
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub wait: Option<std::time::Duration>,
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

#[derive(Debug, clap::Subcommand)]
pub enum GlobalAction {
    Show(GlobalShowArgs),
    Status(GlobalShowArgs),
    Check(GlobalCheckArgs),
    Set(GlobalSetArgs),
    Remove(GlobalRemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct GlobalShowArgs {
    #[command(flatten)]
    pub contexts: ContextArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

#[derive(Debug, clap::Args)]
pub struct GlobalCheckArgs {
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub contexts: ContextArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

#[derive(Debug, clap::Args)]
pub struct GlobalSetArgs {
    #[arg(value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registry: String,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Hosted control plane: write a registry the HostedCluster's pull
    /// secret also has (its entry wins HyperShift's merge today).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub change: GlobalChangeArgs,
}

#[derive(Debug, clap::Args)]
pub struct GlobalRemoveArgs {
    #[arg(value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registry: String,
    #[command(flatten)]
    pub change: GlobalChangeArgs,
}

/// `--wait [DURATION]`: OpenShift 4, follow a global pull secret change
/// to every node, at most this long (`--wait` alone: 30m). `--wait 2m`
/// and `--wait=2m` both work (`cli::join_wait_values`); a registry is
/// never taken for a duration.
#[derive(Debug, clap::Args)]
pub struct RolloutWait {
    #[arg(
        long = "wait",
        id = "rollout_wait",
        value_name = "DURATION",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "30m",
        value_parser = values::duration
    )]
    pub wait: Option<std::time::Duration>,
}

/// How a change of the global pull secret runs.
#[derive(Debug, clap::Args)]
pub struct GlobalChangeArgs {
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub rollout: RolloutWait,
    #[command(flatten)]
    pub contexts: ContextArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub at: Where,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ObjectOutput,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    #[arg(long = "registry", value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registry: Option<String>,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub at: Where,
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Write the token without checking it with the registry first (for a
    /// registry this machine cannot reach); warns.
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub rollout: RolloutWait,
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
    #[command(subcommand)]
    pub format: ExportFormat,
}

#[derive(Debug, clap::Subcommand)]
pub enum ExportFormat {
    Ansible(AnsibleArgs),
    AcmPolicy(AcmPolicyArgs),
    KyvernoPolicy(KyvernoPolicyArgs),
    ExternalSecrets(ExternalSecretsArgs),
}

/// What every keeper export takes: the Secret kept, and where not.
#[derive(Debug, clap::Args)]
pub struct KeeperArgs {
    /// The keeper's name (default: `rhpull-` and the secret's name).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub logins: LoginsArgs,
    /// The Secret to keep, as it is (`NAMESPACE/NAME`); without it, one
    /// is made from your login in the namespace (`-n`).
    #[arg(long, value_name = "NAMESPACE/NAME", conflicts_with_all = ["secret_name", "registries", "from_podman", "from_docker", "from_file", "username"])]
    pub from_secret: Option<String>,
    /// The name of the Secret made from your login.
    #[arg(long, value_name = "NAME")]
    pub secret_name: Option<String>,
    #[arg(long = "exclude", value_name = "NS|PREFIX*", value_delimiter = ',')]
    pub exclude: Vec<String>,
    #[arg(long)]
    pub global: bool,
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// `export kyverno-policy`: Kyverno keeps the pull secret in every
/// namespace, those made later too, linked to the chosen service accounts.
#[derive(Debug, clap::Args)]
pub struct KyvernoPolicyArgs {
    #[command(flatten)]
    pub keeper: KeeperArgs,
    #[arg(
        long = "service-accounts",
        value_name = "SA,SA",
        value_delimiter = ',',
        default_value = "default"
    )]
    pub service_accounts: Vec<String>,
    /// `cluster-policy`, `v1`, `v1beta1` or `v1alpha1` (default: the
    /// newest the cluster serves).
    #[arg(long, value_name = "API")]
    pub api: Option<String>,
}

/// `export external-secrets`: the External Secrets Operator keeps the
/// pull secret in every selected namespace.
#[derive(Debug, clap::Args)]
pub struct ExternalSecretsArgs {
    #[command(flatten)]
    pub keeper: KeeperArgs,
    /// Only namespaces labelled `KEY=VALUE` (an opt-in), instead of all
    /// but the excluded ones.
    #[arg(long, value_name = "KEY=VALUE")]
    pub namespace_label: Option<String>,
}

/// `export ansible`: OKD 3.11 installer inventory variables.
#[derive(Debug, clap::Args)]
pub struct AnsibleArgs {
    #[command(flatten)]
    pub logins: LoginsArgs,
    /// An image each login is tested with by the installer; without one, the
    /// installer does not test the login.
    #[arg(long = "test-image", value_name = "IMAGE")]
    pub test_images: Vec<String>,
    #[arg(long = "output-file", value_name = "FILE")]
    pub output_file: Option<std::path::PathBuf>,
    #[arg(long)]
    pub show_secrets: bool,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

/// `export acm-policy`: a Policy, Placement and PlacementBinding for a hub.
#[derive(Debug, clap::Args)]
pub struct AcmPolicyArgs {
    /// Name of the Policy, Placement and PlacementBinding (default: the
    /// secret's).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub logins: LoginsArgs,
    /// The secret's name on the managed clusters (default: as the portal
    /// names it, from the login).
    #[arg(long, value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Create or update this Secret on the hub, in the policy's namespace.
    #[arg(long, value_name = "NAME")]
    pub hub_secret: Option<String>,
    #[arg(long, value_name = "SELECTOR")]
    pub cluster_selector: Option<String>,
    #[arg(
        long = "namespaces",
        id = "managed_namespaces",
        value_name = "NS,NS",
        value_delimiter = ',',
        required_unless_present_any = ["namespace_selector", "global"],
        conflicts_with = "namespace_selector"
    )]
    pub namespaces: Vec<String>,
    #[arg(long, value_name = "SELECTOR")]
    pub namespace_selector: Option<String>,
    #[arg(long = "link", value_name = "SA")]
    pub link: Vec<String>,
    #[arg(long)]
    pub inform: bool,
    #[arg(long)]
    pub global: bool,
    #[arg(long)]
    pub overwrite: bool,
    #[arg(long = "dry-run", value_enum, default_value_t, num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: DryRunArg,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ManifestOutput,
}

/// `-o` for commands whose output is manifests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ManifestOutput {
    #[default]
    Yaml,
    Json,
    Name,
}

impl From<ManifestOutput> for crate::render::Format {
    fn from(o: ManifestOutput) -> Self {
        match o {
            ManifestOutput::Yaml => Self::Yaml,
            ManifestOutput::Json => Self::Json,
            ManifestOutput::Name => Self::Name,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Registry to check (host or host:port); default: the image's, the
    /// secret's, else registry.redhat.io.
    #[arg(value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registry: Option<String>,
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    #[arg(long = "secret", value_name = "NAME", conflicts_with_all = ["from_podman", "from_docker", "from_file", "username", "pod"])]
    pub cluster_secret: Option<String>,
    #[arg(long, value_name = "POD", conflicts_with_all = ["from_podman", "from_docker", "from_file", "username"])]
    pub pod: Option<String>,
    /// Every pod failing to pull (-n, -A, -l, --namespaces), grouped.
    #[arg(long, conflicts_with_all = ["from_podman", "from_docker", "from_file", "username", "pod", "cluster_secret", "image", "registry"])]
    pub failing: bool,
    /// With --failing: delete the pods a controller makes again, in the
    /// groups whose new pods would pull.
    #[arg(long, requires = "failing")]
    pub recreate: bool,
    /// Answers the --recreate confirmation (needed without a terminal).
    #[arg(long, requires = "recreate")]
    pub yes: bool,
    #[arg(long = "dry-run", value_enum, default_value_t, num_args = 0..=1, default_missing_value = "client", requires = "recreate")]
    pub dry_run: DryRunArg,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub at: Where,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Default: registry.redhat.io.
    #[arg(value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registry: Option<String>,
    /// A downloaded credential file to merge in (every login in it).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["username", "password", "password_stdin"])]
    pub from_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub file: AuthFileArgs,
    #[command(flatten)]
    pub net: NetArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Default: registry.redhat.io.
    #[arg(value_name = "REGISTRY", value_parser = values::registry_key)]
    pub registry: Option<String>,
    #[command(flatten)]
    pub file: AuthFileArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

#[derive(Debug, clap::Args)]
pub struct RegistriesArgs {
    #[arg(long)]
    pub docker: bool,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}

impl From<ObjectOutput> for crate::render::Format {
    fn from(o: ObjectOutput) -> Self {
        match o {
            ObjectOutput::Table => Self::Table,
            ObjectOutput::Json => Self::Json,
            ObjectOutput::Yaml => Self::Yaml,
            ObjectOutput::Name => Self::Name,
        }
    }
}

impl From<ReportOutput> for crate::render::Format {
    fn from(o: ReportOutput) -> Self {
        match o {
            ReportOutput::Table => Self::Table,
            ReportOutput::Json => Self::Json,
            ReportOutput::Yaml => Self::Yaml,
        }
    }
}

/// `fix`: every failing pod's group diagnosed as `check --failing` does,
/// each remedy a tool may carry out written, and the pods followed until
/// the kubelet says pulled or failed again.
#[derive(Debug, clap::Args)]
pub struct FixArgs {
    /// Answers the confirmation (needed without a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[arg(long = "dry-run", value_enum, default_value_t, num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: DryRunArg,
    /// How long to follow the pods for the kubelet's word.
    #[arg(long = "wait", id = "fix_wait", value_name = "DURATION", default_value = "5m", value_parser = values::duration)]
    pub wait: std::time::Duration,
    /// A login typed in (`-u`, `--password-stdin`) for the registry a fix
    /// needs, in place of the stored ones.
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub at: Where,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ReportOutput,
}
