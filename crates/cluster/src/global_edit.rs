//! What `global` and `hosted` both speak of, below both: the cluster-wide
//! pull secret's name, one registry's entry, an edit of it, what it
//! changes, and what the nodes must show once it reached them. Both look
//! down here; neither looks at the other for these.

use rhpull_core::Credential;
use rhpull_core::authfile::{AuthFile, Change, keys};

/// `openshift-config/pull-secret`.
pub const NAMESPACE: &str = "openshift-config";
pub const NAME: &str = "pull-secret";

/// One registry in the global pull secret (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub registry: String,
    pub username: String,
}

/// A change to the global pull secret, one registry at a time.
#[derive(Clone, Debug)]
pub enum GlobalEdit {
    /// Add or replace these registries' entries.
    Set(Vec<Credential>),
    /// Remove this registry's entry.
    Remove(String),
}

impl GlobalEdit {
    pub(crate) fn apply_to(&self, file: &mut AuthFile) -> Vec<RegistryChange> {
        match self {
            Self::Set(creds) => creds
                .iter()
                .map(|c| RegistryChange {
                    registry: keys::normalize(&c.registry),
                    change: file.set_in_secret(c),
                })
                .collect(),
            Self::Remove(registry) => {
                let registry = keys::normalize(registry);
                let change = if file.remove(&registry) {
                    Change::Updated
                } else {
                    Change::Unchanged
                };
                vec![RegistryChange { registry, change }]
            }
        }
    }
}

/// What happens to one registry's entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegistryChange {
    pub registry: String,
    pub change: Change,
}

/// What the nodes must show once an edit reached them: these logins, and
/// none for these registries (normalised keys). One for the Machine Config
/// Operator's rollout and HyperShift's syncer alike.
#[derive(Clone, Debug)]
pub struct Expected {
    pub present: Vec<Credential>,
    pub absent: Vec<String>,
}

impl Expected {
    pub fn of(edit: &GlobalEdit) -> Self {
        match edit {
            GlobalEdit::Set(c) => Self {
                present: c.clone(),
                absent: Vec::new(),
            },
            GlobalEdit::Remove(r) => Self {
                present: Vec::new(),
                absent: vec![keys::normalize(r)],
            },
        }
    }
}
