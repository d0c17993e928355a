//! Every reason a failure can give, in the spirit of Kubernetes'
//! `Status.reason`: ASCII, no spaces, stable — what scripts match on in
//! `-o json|yaml` and what the README lists. Where the API server gave a
//! reason of its own (`NotFound`, `Forbidden`, `Conflict`, …), it is that
//! one.

macro_rules! reasons {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Why a command failed, for machines.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($(#[$doc])* $name,)*
        }

        impl Reason {
            /// Every reason, in the order declared.
            #[cfg(test)]
            pub const ALL: &'static [Reason] = &[$(Reason::$name,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$name => stringify!($name),)*
                }
            }
        }
    };
}

reasons! {
    // Usage (exit 2).
    /// A flag the command does not take (`next` suggests the closest).
    UnknownArgument,
    /// A command that does not exist (`next` suggests the closest).
    UnknownCommand,
    /// A required argument or a value only a terminal could give is missing.
    MissingArgument,
    /// A value that is not one of those allowed, or not well formed.
    InvalidValue,
    /// Two flags that cannot go together.
    ConflictingArguments,
    /// Any other misuse clap reports.
    UsageError,
    /// A change to shared state needs `--yes` without a terminal.
    ConfirmationNeeded,
    /// The person said no.
    Declined,

    // Credentials on this machine.
    /// No `--from-podman`/`--from-docker`/`--from-file`/`--username`.
    NoCredentialSource,
    /// None of the auth files searched exists.
    NoAuthFiles,
    /// The auth files hold no login for the registry (or image) named.
    NoStoredLogin,
    /// A registry asked for with `--registry` is not in the files.
    RegistryNotInFiles,
    /// The files hold no Red Hat registry login.
    NoRedHatLogin,
    /// The files hold no login at all.
    NoLogin,
    /// A login with only an identity token, which no pull secret can use.
    IdentityTokenOnly,
    /// A file that does not exist.
    FileNotFound,
    /// A file that cannot be read (permissions, a directory, …).
    FileUnreadable,
    /// A file that cannot be written.
    FileNotWritable,
    /// Another program kept changing the auth file.
    FileChangedMeanwhile,
    /// An empty auth file.
    FileEmpty,
    /// An auth file that is not JSON.
    FileNotJson,
    /// An auth file of the wrong shape (not an object, bad base64, an
    /// `auth` without a colon, a field of the wrong type).
    FileMalformed,
    /// A credential file larger than any credential file is.
    FileTooLarge,
    /// A file that is none of the credential files rhpull reads.
    FileUnrecognised,
    /// A `docker-credential-*` helper failed.
    CredentialHelperFailed,
    /// Standard input could not be read.
    StdinUnreadable,
    /// The terminal prompt failed.
    PromptFailed,
    /// No home directory to find files in.
    NoHome,

    // The registry (a check's causes, and what stops a check).
    /// The registry check failed before a write (`create --verify`, `login`).
    NotVerified,
    /// No credentials, and the registry needs a login.
    NoCredentials,
    /// A username or token pasted wrong (whitespace, quotes, cut short…).
    PasteMistake,
    /// The proxy cannot be reached.
    ProxyUnreachable,
    /// The proxy wants credentials (407).
    ProxyAuthRequired,
    /// The proxy refuses to tunnel.
    ProxyRefused,
    /// The proxy cannot reach the registry.
    ProxyTargetUnreachable,
    /// The registry's certificate has expired.
    TlsExpired,
    /// The registry's certificate names another host.
    TlsNameMismatch,
    /// Another TLS failure.
    TlsFailed,
    /// The username or token was refused.
    InvalidCredentials,
    /// The login may not pull this repository.
    NotEntitled,
    /// The registry does not accept its own token server's token.
    TokenRejected,
    /// The image (or tag) does not exist.
    ImageNotFound,
    /// The registry answered an unexpected status.
    UnexpectedStatus,
    /// The registry's challenge cannot be read.
    MalformedChallenge,
    /// The token server's answer cannot be read.
    MalformedToken,
    /// Another network failure.
    NetworkError,
    /// `--registry-ca` cannot be read or trusted.
    RegistryCaInvalid,
    /// The HTTP client could not be built.
    HttpClientFailed,
    /// Not an image reference.
    InvalidImage,
    /// The registry needs no login (`delegated`).
    NoAuthNeeded,

    // The kubeconfig and the connection.
    /// The kubeconfig cannot be read or used.
    KubeconfigInvalid,
    /// No kubeconfig file exists.
    NoKubeconfig,
    /// The kubeconfig has no such context.
    NoSuchContext,
    /// `--context-selector` matches no context.
    NoContextsMatch,
    /// The kubeconfig sets `proxy-url`.
    ProxyUrlUnsupported,
    /// Nothing listens at the API server's address.
    ConnectionRefused,
    /// The API server's name does not resolve.
    DnsFailure,
    /// No answer in time.
    Timeout,
    /// The connection was cut.
    ConnectionReset,
    /// The API server cannot be reached (the `detail` says why).
    ConnectionFailed,
    /// The API server's certificate is not trusted.
    TlsUntrusted,

    // The API server's answers.
    /// 401.
    Unauthorized,
    /// 403 from the API server.
    Forbidden,
    /// An access review said no before anything was written.
    AccessDenied,
    /// An object (or namespace: `resource` says which) does not exist.
    NotFound,
    /// The server does not serve this kind of object.
    NotServed,
    /// The object already exists.
    AlreadyExists,
    /// The object kept changing under rhpull.
    Conflict,
    /// 422: the API server rejected the object.
    Invalid,
    /// 429, after waiting out `Retry-After`.
    TooManyRequests,
    /// 5xx, after retrying.
    ServerError,
    /// Any other answer of the API server (`code` says which).
    ApiError,

    // What rhpull finds in the cluster.
    /// A secret of that name exists and rhpull did not make it.
    SecretNotManaged,
    /// A secret of that name has another type.
    SecretTypeDiffers,
    /// A service account the cluster makes itself did not appear in time.
    ServiceAccountNotReady,
    /// A pull secret whose content is not a credential file.
    BadPullSecret,
    /// The cluster has no `system:image-puller` ClusterRole.
    NoImagePullerRole,
    /// A hosted control plane (HyperShift, ROSA HCP).
    HostedControlPlane,
    /// OpenShift's own registry secret of a service account, which it puts
    /// back when removed.
    OpenShiftManagedSecret,
    /// Hosted: the HostedCluster's pull secret has the registry, and its
    /// entry wins HyperShift's merge.
    OriginalPullSecretWins,
    /// Hosted: the entry is the HostedCluster's, not the additional
    /// pull secret's.
    HostedClusterEntry,
    /// Not OpenShift 4 (no global pull secret, no MachineConfigPools).
    NotOpenShift4,
    /// Kubernetes has no image streams.
    NoImageStreams,
    /// No rhpull pull secret in the namespace to link.
    NoManagedSecret,
    /// Several rhpull pull secrets in the namespace, and no terminal to choose.
    SeveralManagedSecrets,
    /// `rotate` found no secret holding the username.
    NothingToRotate,
    /// A secret in the cluster lacks the registry asked for.
    SecretLacksRegistry,

    // How a node pulls (`check --pod`, `check --failing`).
    /// The cluster's image policy (`allowedRegistries`,
    /// `blockedRegistries`) refuses the image, whatever the credentials.
    ImagePolicyRefused,
    /// A mirror's login is in the pod's namespace only, which CRI-O does
    /// not use for a mirror (or the credential provider may not read).
    MirrorLoginNotUsed,
    /// The source may not be contacted (`NeverContactSource`, or a
    /// blocked registry) and no mirror served the image.
    SourceBlocked,
    /// The pod was made before its service account got the secret that
    /// works: only a new pod gets it.
    PodPredatesLink,
    /// The namespace holds a pull secret that works, linked to no
    /// service account the pods use.
    SecretNotLinked,
    /// The integrated registry refuses the pods' service account: it may
    /// not pull from the image's project.
    ImagePullerNotGranted,
    /// Whether the integrated registry lets them pull could not be asked
    /// (no right to create SubjectAccessReviews).
    ImagePullerUnknown,
    /// `export acm-policy --global`: refused, with the reason.
    GlobalPolicyRefused,
    /// A hub policy's namespace and name are too long together.
    PolicyNameTooLong,
    /// Not a label selector.
    InvalidSelector,
    /// A keeper for `--global`: refused (the cluster-wide secret needs none).
    KeeperGlobal,
    /// An exclusion that matches every namespace, or that is neither a
    /// name nor a prefix.
    ExcludesEverything,
    /// The cluster serves no Kyverno policy API (or not the one asked for).
    KyvernoNotInstalled,
    /// The cluster does not serve the External Secrets Operator's v1 API.
    EsoNotInstalled,
    /// A keeper's source Secret is not there.
    SourceSecretMissing,
    /// A keeper's source Secret is not a pull secret.
    SourceSecretWrongType,

    // Summaries.
    /// Some of the contexts failed.
    SomeContextsFailed,
    /// Some of the namespaces failed.
    SomeNamespacesFailed,
    /// The tokio runtime could not start.
    RuntimeFailed,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_ascii_words_without_spaces() {
        for r in Reason::ALL {
            let s = r.as_str();
            assert!(
                s.chars().all(|c| c.is_ascii_alphanumeric()) && s.starts_with(char::is_uppercase),
                "{s}"
            );
        }
    }

    /// The README's JSON section lists every reason, so scripts can rely
    /// on the list.
    #[test]
    fn the_readme_lists_every_reason() {
        let readme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let text = std::fs::read_to_string(readme).unwrap();
        let missing: Vec<&str> = Reason::ALL
            .iter()
            .map(|r| r.as_str())
            .filter(|r| !text.contains(&format!("`{r}`")))
            .collect();
        assert!(missing.is_empty(), "not in the README: {missing:?}");
    }
}
