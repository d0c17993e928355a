//! Kubeconfig files as kubectl reads them. `--kubeconfig` names one file
//! (or, with rhpull, several joined as in `KUBECONFIG`), each of which must
//! exist; else `KUBECONFIG` lists files to merge, missing ones skipped; else
//! `~/.kube/config`. Several files merge as kubectl merges them: the first
//! file to name a cluster, user or context wins, and so does the first
//! `current-context` (kube-rs's `Kubeconfig::merge` follows the same rules).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use kube::config::KubeConfigOptions;
pub use kube::config::Kubeconfig;

use crate::error::ClusterError;

/// Where the kubeconfig comes from: `--kubeconfig`, else `KUBECONFIG`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// `--kubeconfig`, as given (may hold several paths).
    pub explicit: Option<OsString>,
    /// `KUBECONFIG`, as the environment has it.
    pub env: Option<OsString>,
}

impl Source {
    /// One file, as `--kubeconfig FILE` names it.
    pub fn file(path: &Path) -> Self {
        Self {
            explicit: Some(path.as_os_str().to_owned()),
            env: None,
        }
    }

    pub fn from_env(explicit: Option<OsString>) -> Self {
        Self {
            explicit,
            env: std::env::var_os("KUBECONFIG"),
        }
    }

    /// The files to read, in order, and whether each must exist.
    fn files(&self) -> Vec<(PathBuf, bool)> {
        let split = |v: &OsStr| -> Vec<PathBuf> {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        };
        if let Some(e) = &self.explicit {
            return split(e).into_iter().map(|p| (p, true)).collect();
        }
        if let Some(paths) = self.env.as_deref().map(split).filter(|p| !p.is_empty()) {
            return paths.into_iter().map(|p| (p, false)).collect();
        }
        home::home_dir()
            .map(|h| vec![(h.join(".kube").join("config"), false)])
            .unwrap_or_default()
    }
}

fn read(path: &Path) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path).map_err(|e| ClusterError::KubeconfigFile {
        path: path.to_path_buf(),
        source: cause_of(e),
    })
}

/// The error without the path kube-rs adds to a read error (the path is
/// named once, by us).
fn cause_of(err: kube::config::KubeconfigError) -> crate::error::Source {
    use kube::config::KubeconfigError as E;
    match err {
        E::ReadConfig(io, _) => Box::new(io),
        other => Box::new(other),
    }
}

/// The merged kubeconfig.
pub fn load(source: &Source) -> Result<Kubeconfig, ClusterError> {
    let files = source.files();
    let mut merged: Option<Kubeconfig> = None;
    for (path, required) in &files {
        if !required && !path.exists() {
            continue;
        }
        let next = read(path)?;
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(|e| ClusterError::KubeconfigFile {
                path: path.clone(),
                source: cause_of(e),
            })?,
        });
    }
    merged.ok_or_else(|| {
        let files = files.iter().map(|(p, _)| p.display().to_string()).collect();
        ClusterError::NoKubeconfig { files }
    })
}

/// Every context's name, in the merged order.
pub fn context_names(config: &Kubeconfig) -> Vec<String> {
    config.contexts.iter().map(|c| c.name.clone()).collect()
}

/// The context used when none is named.
pub fn current_context(config: &Kubeconfig) -> Option<&str> {
    config.current_context.as_deref().filter(|c| !c.is_empty())
}

/// The namespace a context sets, if it sets one (`None` → `default`).
pub fn namespace(config: &Kubeconfig, context: Option<&str>) -> Option<String> {
    let name = context.or(current_context(config))?;
    config
        .contexts
        .iter()
        .find(|c| c.name == name)?
        .context
        .as_ref()?
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
}

/// kube's client configuration for one context of the merged kubeconfig.
pub async fn client_config(
    config: &Kubeconfig,
    context: Option<&str>,
) -> Result<kube::Config, ClusterError> {
    if let Some(name) = context
        && !config.contexts.iter().any(|c| c.name == name)
    {
        return Err(ClusterError::NoSuchContext(name.to_string()));
    }
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    kube::Config::from_custom_kubeconfig(config.clone(), &options)
        .await
        .map_err(|e| ClusterError::Kubeconfig(cause_of(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, context: &str, ns: &str, current: bool) -> PathBuf {
        let path = dir.join(name);
        let current = if current {
            format!("current-context: {context}\n")
        } else {
            String::new()
        };
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\n{current}clusters:\n- name: c-{context}\n  cluster: {{server: 'https://127.0.0.1:1'}}\n\
                 contexts:\n- name: {context}\n  context: {{cluster: c-{context}, user: u, namespace: {ns}}}\n\
                 - name: shared\n  context: {{cluster: c-{context}, user: u, namespace: from-{name}}}\n\
                 users:\n- name: u\n  user: {{token: t}}\n"
            ),
        )
        .unwrap();
        path
    }

    #[test]
    fn files_merge_first_wins_and_missing_ones_in_the_env_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", "alpha", "ns-a", false);
        let b = write(dir.path(), "b", "beta", "ns-b", true);
        let missing = dir.path().join("missing");
        let env = std::env::join_paths([&missing, &a, &b]).unwrap();
        let source = Source {
            explicit: None,
            env: Some(env),
        };
        let cfg = load(&source).unwrap();
        assert_eq!(context_names(&cfg), ["alpha", "shared", "beta"]);
        assert_eq!(current_context(&cfg), Some("beta"));
        assert_eq!(namespace(&cfg, Some("shared")).as_deref(), Some("from-a"));
        assert_eq!(namespace(&cfg, None).as_deref(), Some("ns-b"));

        // An explicit list must exist, file by file.
        let explicit = Source {
            explicit: Some(std::env::join_paths([&a, &missing]).unwrap()),
            env: None,
        };
        let err = load(&explicit).unwrap_err().to_string();
        assert!(err.contains(&missing.display().to_string()), "{err}");
        assert!(!err.contains("'\""), "the path is quoted once: {err}");
    }
}
