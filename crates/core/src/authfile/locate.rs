//! Where podman/skopeo and docker look for credentials, in their order.
//!
//! containers/image (podman, skopeo, buildah; `getAuthFilePaths` in
//! `pkg/docker/config/config.go`, as of v5.36, August 2025) reads
//! `REGISTRY_AUTH_FILE` (or `--authfile`) **alone** when it is set; else,
//! in turn, `${XDG_RUNTIME_DIR}/containers/auth.json` (or
//! `/run/containers/$UID/auth.json` without it),
//! `${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json`, docker's
//! `config.json` (`$DOCKER_CONFIG/config.json` or
//! `$HOME/.docker/config.json`) and the legacy `$HOME/.dockercfg`. Older
//! releases — Debian's skopeo 1.9.3 among them — went on past a
//! user-specified file to `~/.config` and docker's files; rhpull follows
//! current podman (the e2e test `authfile_paths` shows the difference
//! against the real skopeo). Docker reads only its own two. The environment
//! is captured in [`AuthEnv`] so tests never touch the process environment.

use std::path::PathBuf;

use super::AuthFormat;

/// Which tool's view of the credentials to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// podman / skopeo / buildah: containers files first, docker's as fallback.
    Podman,
    /// docker: `config.json`, then `.dockercfg`.
    Docker,
}

/// The environment the lookup depends on.
#[derive(Clone, Debug, Default)]
pub struct AuthEnv {
    pub registry_auth_file: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub docker_config: Option<PathBuf>,
    pub uid: Option<u32>,
    /// PATH searched for `docker-credential-*` helpers.
    pub path: Option<std::ffi::OsString>,
}

fn non_empty_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl AuthEnv {
    /// Reads the variables of this process.
    pub fn from_process() -> Self {
        use std::os::unix::fs::MetadataExt as _;
        Self {
            registry_auth_file: non_empty_env("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: non_empty_env("XDG_RUNTIME_DIR"),
            xdg_config_home: non_empty_env("XDG_CONFIG_HOME"),
            home: non_empty_env("HOME").or_else(home::home_dir),
            docker_config: non_empty_env("DOCKER_CONFIG"),
            uid: std::fs::metadata("/proc/self").ok().map(|m| m.uid()),
            path: std::env::var_os("PATH"),
        }
    }

    fn runtime_auth(&self) -> Option<PathBuf> {
        match (&self.xdg_runtime_dir, self.uid) {
            (Some(dir), _) => Some(dir.join("containers/auth.json")),
            (None, Some(uid)) => Some(PathBuf::from(format!("/run/containers/{uid}/auth.json"))),
            (None, None) => None,
        }
    }

    /// docker's `config.json`.
    pub fn docker_config_json(&self) -> Option<PathBuf> {
        match (&self.docker_config, &self.home) {
            (Some(dir), _) => Some(dir.join("config.json")),
            (None, Some(home)) => Some(home.join(".docker/config.json")),
            (None, None) => None,
        }
    }

    /// `${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json`.
    fn config_home_auth(&self) -> Option<PathBuf> {
        let base = (self.xdg_config_home.clone())
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")))?;
        Some(base.join("containers/auth.json"))
    }

    fn legacy_dockercfg(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(".dockercfg"))
    }

    /// Every file a tool would read, in its order (existing or not).
    pub fn search_path(&self, view: View) -> Vec<(PathBuf, AuthFormat)> {
        let mut out = Vec::new();
        if view == View::Podman {
            // A user-specified file replaces every other.
            if let Some(p) = &self.registry_auth_file {
                return vec![(p.clone(), AuthFormat::Containers)];
            }
            if let Some(p) = self.runtime_auth() {
                out.push((p, AuthFormat::Containers));
            }
            if let Some(p) = self.config_home_auth() {
                out.push((p, AuthFormat::Containers));
            }
        }
        if let Some(p) = self.docker_config_json() {
            out.push((p, AuthFormat::Docker));
        }
        if let Some(p) = self.legacy_dockercfg() {
            out.push((p, AuthFormat::LegacyDockercfg));
        }
        out
    }

    /// The file `rhpull login` writes: `REGISTRY_AUTH_FILE`, else the
    /// runtime auth.json when `XDG_RUNTIME_DIR` is set — both where `podman
    /// login` writes — else `${XDG_CONFIG_HOME:-~/.config}`'s, which every
    /// podman reads. (podman itself would write
    /// `/run/containers/$UID/auth.json` there, a tmpfs that a reboot
    /// empties; rhpull keeps a login the user asked it to keep.)
    pub fn podman_write_path(&self) -> Option<PathBuf> {
        if let Some(p) = &self.registry_auth_file {
            return Some(p.clone());
        }
        if let Some(dir) = &self.xdg_runtime_dir {
            return Some(dir.join("containers/auth.json"));
        }
        self.config_home_auth()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> AuthEnv {
        AuthEnv {
            registry_auth_file: Some("/ra/auth.json".into()),
            xdg_runtime_dir: Some("/run/user/1000".into()),
            xdg_config_home: None,
            home: Some("/home/u".into()),
            docker_config: None,
            uid: Some(1000),
            path: None,
        }
    }

    #[test]
    fn a_user_specified_file_replaces_every_other() {
        let paths = env().search_path(View::Podman);
        assert_eq!(
            paths,
            vec![(PathBuf::from("/ra/auth.json"), AuthFormat::Containers)]
        );
    }

    #[test]
    fn xdg_config_home_replaces_dot_config() {
        let e = AuthEnv {
            registry_auth_file: None,
            xdg_config_home: Some("/cfg".into()),
            ..env()
        };
        let paths: Vec<PathBuf> = e
            .search_path(View::Podman)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(paths[1], PathBuf::from("/cfg/containers/auth.json"));
        assert!(!paths.contains(&PathBuf::from("/home/u/.config/containers/auth.json")));
        assert_eq!(
            AuthEnv {
                xdg_runtime_dir: None,
                ..e
            }
            .podman_write_path()
            .unwrap(),
            PathBuf::from("/cfg/containers/auth.json")
        );
    }

    #[test]
    fn podman_order() {
        let e = AuthEnv {
            registry_auth_file: None,
            ..env()
        };
        let paths: Vec<_> = e
            .search_path(View::Podman)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let expect: Vec<PathBuf> = [
            "/run/user/1000/containers/auth.json",
            "/home/u/.config/containers/auth.json",
            "/home/u/.docker/config.json",
            "/home/u/.dockercfg",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(paths, expect);
    }

    #[test]
    fn docker_order_honours_docker_config() {
        let e = AuthEnv {
            docker_config: Some("/dc".into()),
            ..env()
        };
        let paths = e.search_path(View::Docker);
        assert_eq!(
            paths[0],
            (PathBuf::from("/dc/config.json"), AuthFormat::Docker)
        );
        assert_eq!(
            paths[1],
            (
                PathBuf::from("/home/u/.dockercfg"),
                AuthFormat::LegacyDockercfg
            )
        );
        assert_eq!(paths.len(), 2);
    }

    #[test]
    fn runtime_dir_falls_back_to_run_containers_uid() {
        let e = AuthEnv {
            registry_auth_file: None,
            xdg_runtime_dir: None,
            ..env()
        };
        let first = &e.search_path(View::Podman)[0].0;
        assert_eq!(first, &PathBuf::from("/run/containers/1000/auth.json"));
        assert_eq!(
            e.podman_write_path().unwrap(),
            PathBuf::from("/home/u/.config/containers/auth.json")
        );
    }

    #[test]
    fn podman_writes_registry_auth_file_first() {
        assert_eq!(
            env().podman_write_path().unwrap(),
            PathBuf::from("/ra/auth.json")
        );
    }
}
