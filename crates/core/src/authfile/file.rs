//! One auth file, parsed into its JSON object so that a rewrite keeps every
//! entry and every top-level field rhpull does not know, and written back
//! atomically (temp file in the same directory, fsync, rename) with mode 0600.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret as _;
use serde_json::{Map, Value, json};

use super::{AuthEntry, AuthFileError, keys};
use crate::Credential;

/// Which tool's file this is; decides the layout and how keys are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthFormat {
    /// containers `auth.json`: `{"auths": {...}}`, keys `host[/path]`.
    Containers,
    /// docker `config.json`: `{"auths": {...}}`, Docker Hub as
    /// `https://index.docker.io/v1/`, plus `credsStore`/`credHelpers`.
    Docker,
    /// legacy `.dockercfg`: a flat map of key to entry.
    LegacyDockercfg,
}

/// What a merge did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Updated,
    Unchanged,
}

/// An auth file in memory.
#[derive(Clone, Debug)]
pub struct AuthFile {
    path: PathBuf,
    format: AuthFormat,
    existed: bool,
    doc: Map<String, Value>,
    /// The bytes as read (`None`: there was no file), to notice another
    /// program writing the file between our read and our write.
    read_as: Option<Vec<u8>>,
}

impl AuthFile {
    /// Reads `path`; a missing file is an empty one that does not exist yet.
    pub fn load(path: &Path, format: AuthFormat) -> Result<Self, AuthFileError> {
        match fs::read(path) {
            Ok(bytes) => Self::parse(path, format, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                path: path.to_path_buf(),
                format,
                existed: false,
                doc: Map::new(),
                read_as: None,
            }),
            Err(source) => Err(AuthFileError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// An empty file of `format` that does not exist yet (to render a
    /// docker config for a secret, say); `label` names it in errors.
    pub fn new_empty(label: &Path, format: AuthFormat) -> Self {
        Self {
            path: label.to_path_buf(),
            format,
            existed: false,
            doc: Map::new(),
            read_as: None,
        }
    }

    /// Reads the file again, dropping changes not saved: the fresh start
    /// after [`AuthFileError::ChangedMeanwhile`].
    pub fn reload(&mut self) -> Result<(), AuthFileError> {
        *self = Self::load(&self.path, self.format)?;
        Ok(())
    }

    /// Parses bytes read from `path` (named in errors).
    pub fn parse(path: &Path, format: AuthFormat, bytes: &[u8]) -> Result<Self, AuthFileError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(AuthFileError::Empty {
                path: path.to_path_buf(),
            });
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| AuthFileError::NotJson {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
        })?;
        let Value::Object(doc) = value else {
            return Err(AuthFileError::NotAnObject {
                path: path.to_path_buf(),
                what: "the file".into(),
            });
        };
        let file = Self {
            path: path.to_path_buf(),
            format,
            existed: true,
            doc,
            read_as: Some(bytes.to_vec()),
        };
        // Validate every entry now, so a bad file fails on read, not later.
        file.entries()?;
        Ok(file)
    }

    /// Recognises a file's format by content: `auths` (or only
    /// `credsStore`/`credHelpers`) is the modern layout, a flat map of
    /// entries is the legacy `.dockercfg`.
    pub fn detect(path: &Path, bytes: &[u8], modern: AuthFormat) -> Result<Self, AuthFileError> {
        let file = Self::parse(path, modern, bytes)?;
        let modern_keys = ["auths", "credsStore", "credHelpers"];
        let is_legacy = !file.doc.is_empty()
            && !modern_keys.iter().any(|k| file.doc.contains_key(*k))
            && file.doc.values().all(Value::is_object);
        if is_legacy {
            let legacy = Self {
                format: AuthFormat::LegacyDockercfg,
                ..file
            };
            legacy.entries()?;
            return Ok(legacy);
        }
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> AuthFormat {
        self.format
    }

    /// True when the file was on disk when loaded.
    pub fn existed(&self) -> bool {
        self.existed
    }

    fn auths(&self) -> Result<Option<&Map<String, Value>>, AuthFileError> {
        if self.format == AuthFormat::LegacyDockercfg {
            return Ok(Some(&self.doc));
        }
        match self.doc.get("auths") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(AuthFileError::NotAnObject {
                path: self.path.clone(),
                what: "\"auths\"".into(),
            }),
        }
    }

    fn auths_mut(&mut self) -> &mut Map<String, Value> {
        if self.format == AuthFormat::LegacyDockercfg {
            return &mut self.doc;
        }
        let slot = self
            .doc
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        #[allow(clippy::expect_used, reason = "auths was just made an object")]
        slot.as_object_mut().expect("auths was just made an object")
    }

    /// Every inline credential in the file, in key order.
    pub fn entries(&self) -> Result<Vec<AuthEntry>, AuthFileError> {
        let Some(auths) = self.auths()? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (key, value) in auths {
            if let Some(entry) = AuthEntry::parse(&self.path, key, value)? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// The credential podman would use from this file for a registry or
    /// repository (`quay.io/org/repo` tries `quay.io/org/repo`, `quay.io/org`,
    /// `quay.io`); a key spelled exactly as the candidate wins over an alias.
    pub fn get(&self, registry_or_repo: &str) -> Result<Option<AuthEntry>, AuthFileError> {
        let entries = self.entries()?;
        for candidate in keys::lookup_candidates(registry_or_repo) {
            let mut matching = entries.iter().filter(|e| e.registry == candidate);
            let first = matching.next();
            let exact = entries.iter().find(|e| e.key == candidate);
            if let Some(found) = exact.or(first) {
                return Ok(Some(found.clone()));
            }
        }
        Ok(None)
    }

    /// `credsStore`: the helper that holds every registry's secret.
    pub fn creds_store(&self) -> Option<&str> {
        self.doc
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// `credHelpers[host]`: the helper that owns one registry.
    pub fn cred_helper(&self, registry: &str) -> Option<&str> {
        let host = keys::host(&keys::normalize(registry)).to_string();
        let helpers = self.doc.get("credHelpers")?.as_object()?;
        helpers
            .iter()
            .find(|(k, _)| keys::normalize(k) == host)
            .and_then(|(_, v)| v.as_str())
            .filter(|s| !s.is_empty())
    }

    /// The helper that owns `registry` in this file, if any: `credHelpers`
    /// first, then `credsStore`.
    pub fn helper_for(&self, registry: &str) -> Option<&str> {
        self.cred_helper(registry).or_else(|| self.creds_store())
    }

    /// Adds or replaces the credential for `cred.registry`, keeping every
    /// other entry, as `podman login` writes one: `auth` alone
    /// (containers/image `SetCredentials`). Keys that are aliases of the same
    /// registry are folded into one, so a path never has two entries.
    pub fn set(&mut self, cred: &Credential) -> Change {
        let mut fields = Map::new();
        fields.insert("auth".into(), json!(cred.auth_field()));
        self.set_entry(cred, fields)
    }

    /// As [`AuthFile::set`], for a pull secret's data: the login as kubectl
    /// writes one (`username`, `password`, `email`, `auth`), or the auth-file
    /// entry it was read from, whole ([`Credential::secret_entry`]).
    pub fn set_in_secret(&mut self, cred: &Credential) -> Change {
        self.set_entry(cred, cred.secret_entry())
    }

    fn set_entry(&mut self, cred: &Credential, fields: Map<String, Value>) -> Change {
        let normalized = keys::normalize(&cred.registry);
        let write_key = self.write_key(&normalized);
        let existing = self.get_exact(&normalized);
        if let Some(entry) = &existing
            && entry.key == write_key
            && entry.username == cred.username
            && entry.secret.expose_secret() == cred.secret.expose_secret()
            && self.aliases(&normalized).len() == 1
        {
            return Change::Unchanged;
        }
        let auths = self.auths_mut();
        // Keep fields we do not own (docker's "email") from the old entry.
        let mut kept = Map::new();
        for alias in aliases_in(auths, &normalized) {
            if let Some(Value::Object(old)) = auths.remove(&alias) {
                for (k, v) in old {
                    if !matches!(
                        k.as_str(),
                        "auth" | "username" | "password" | "identitytoken"
                    ) {
                        kept.entry(k).or_insert(v);
                    }
                }
            }
        }
        kept.extend(fields);
        auths.insert(write_key, Value::Object(kept));
        if existing.is_some() {
            Change::Updated
        } else {
            Change::Added
        }
    }

    /// Removes every entry for exactly this registry (or path); other entries,
    /// including more or less specific paths of the same host, stay.
    pub fn remove(&mut self, registry: &str) -> bool {
        let normalized = keys::normalize(registry);
        let auths = self.auths_mut();
        let aliases = aliases_in(auths, &normalized);
        for alias in &aliases {
            auths.remove(alias);
        }
        !aliases.is_empty()
    }

    /// Replaces any inline credential for `normalized` with docker's empty
    /// `{}` marker (the secret lives in a helper). `true` when it changed.
    pub(crate) fn mark_helper_owned(&mut self, normalized: &str) -> bool {
        let write_key = self.write_key(normalized);
        let auths = self.auths_mut();
        let aliases = aliases_in(auths, normalized);
        let already = aliases.len() == 1
            && aliases[0] == write_key
            && auths[&write_key].as_object().is_some_and(Map::is_empty);
        if already {
            return false;
        }
        for alias in aliases {
            auths.remove(&alias);
        }
        auths.insert(write_key, Value::Object(Map::new()));
        true
    }

    fn get_exact(&self, normalized: &str) -> Option<AuthEntry> {
        let entries = self.entries().ok()?;
        entries.into_iter().find(|e| e.registry == normalized)
    }

    fn aliases(&self, normalized: &str) -> Vec<String> {
        match self.auths() {
            Ok(Some(auths)) => aliases_in(auths, normalized),
            _ => Vec::new(),
        }
    }

    fn write_key(&self, normalized: &str) -> String {
        match self.format {
            AuthFormat::Containers => normalized.to_string(),
            AuthFormat::Docker | AuthFormat::LegacyDockercfg => keys::docker_write_key(normalized),
        }
    }

    /// The file as it would be written.
    pub fn to_bytes(&self) -> Vec<u8> {
        #[allow(
            clippy::expect_used,
            reason = "a JSON map with string keys always serialises"
        )]
        let mut bytes = serde_json::to_vec_pretty(&self.doc).expect("a JSON map always serialises");
        bytes.push(b'\n');
        bytes
    }

    /// The file as a pull secret's data, byte for byte as kubectl writes
    /// it: compact, `auths` keys sorted, an entry with a `username` and
    /// `password` in kubectl's field order (`username`, `password`,
    /// `email`, `auth`; its `DockerConfigEntry`), any other entry's fields
    /// sorted (Go marshals a map so), and `<`, `>`, `&`, U+2028 and U+2029
    /// escaped as Go's `encoding/json` escapes them.
    pub fn to_secret_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        let top = &self.doc;
        match self.format {
            AuthFormat::LegacyDockercfg => write_entries(&mut out, top),
            AuthFormat::Docker | AuthFormat::Containers => {
                out.push('{');
                for (i, (k, v)) in top.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::from(k.as_str()).to_string());
                    out.push(':');
                    match (k.as_str(), v.as_object()) {
                        ("auths", Some(auths)) => write_entries(&mut out, auths),
                        _ => out.push_str(&v.to_string()),
                    }
                }
                out.push('}');
            }
        }
        go_escape(&out).into_bytes()
    }

    /// The file as compact JSON, as kubectl writes a secret's data.
    pub fn to_compact_bytes(&self) -> Vec<u8> {
        #[allow(
            clippy::expect_used,
            reason = "a JSON map with string keys always serialises"
        )]
        serde_json::to_vec(&self.doc).expect("a JSON map always serialises")
    }

    /// Writes the file atomically with mode 0600, creating missing parent
    /// directories with mode 0700. A symlinked file is written through to its
    /// target, so the link survives. Before rhpull first changes a file it
    /// did not create, the old file is kept as
    /// `NAME.rhpull-backup-YYYYMMDDTHHMMSSZ` (mode 0600).
    ///
    /// The write is conditional, like an update with a resourceVersion: when
    /// the file on disk is no longer what was read (a `podman login` ran
    /// meanwhile), nothing is written and the error is
    /// [`AuthFileError::ChangedMeanwhile`]; reload, re-apply, save again.
    pub fn save(&mut self) -> Result<Option<PathBuf>, AuthFileError> {
        let target = fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let write_err = |source| AuthFileError::Write {
            path: self.path.clone(),
            source,
        };
        let on_disk = match fs::read(&target) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(AuthFileError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if on_disk != self.read_as {
            return Err(AuthFileError::ChangedMeanwhile {
                path: self.path.clone(),
            });
        }
        let backup = if self.existed {
            backup_once(&target).map_err(write_err)?
        } else {
            None
        };
        let bytes = self.to_bytes();
        write_atomic(&target, &bytes).map_err(write_err)?;
        self.existed = true;
        self.read_as = Some(bytes);
        Ok(backup)
    }
}

/// `{"KEY":ENTRY,…}`, keys sorted (a serde_json `Map` keeps them so).
fn write_entries(out: &mut String, entries: &Map<String, Value>) {
    out.push('{');
    for (i, (key, entry)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(key.as_str()).to_string());
        out.push(':');
        out.push_str(&entry_json(entry));
    }
    out.push('}');
}

/// One entry: kubectl's field order for a login it would write, sorted
/// fields (a Go map) for any other.
fn entry_json(v: &Value) -> String {
    const KUBECTL_ORDER: [&str; 4] = ["username", "password", "email", "auth"];
    let Some(obj) = v.as_object() else {
        return v.to_string();
    };
    let typed = obj.contains_key("username")
        && obj.contains_key("password")
        && obj.keys().all(|k| KUBECTL_ORDER.contains(&k.as_str()));
    if !typed {
        return v.to_string();
    }
    let fields: Vec<String> = (KUBECTL_ORDER.iter())
        .filter_map(|k| obj.get(*k).map(|v| format!("{}:{v}", Value::from(*k))))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// Go's `encoding/json` escapes these even inside strings; serde_json does
/// not. They can appear only inside strings, so replacing them is safe.
fn go_escape(json: &str) -> String {
    json.replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn aliases_in(auths: &Map<String, Value>, normalized: &str) -> Vec<String> {
    auths
        .keys()
        .filter(|k| keys::normalize(k) == normalized)
        .cloned()
        .collect()
}

/// The backup files rhpull made of `target`.
pub fn backups_of(target: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.rhpull-backup-", name.to_string_lossy());
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    out.sort();
    out
}

/// Copies `target` aside the first time rhpull changes it: a file with a
/// backup is one rhpull has already taken over.
fn backup_once(target: &Path) -> std::io::Result<Option<PathBuf>> {
    use std::os::unix::fs::PermissionsExt as _;
    if !backups_of(target).is_empty() {
        return Ok(None);
    }
    let stamp = {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        crate::time::compact_utc(secs)
    };
    let name = format!(
        "{}.rhpull-backup-{stamp}",
        target.file_name().unwrap_or_default().to_string_lossy()
    );
    let backup = target.with_file_name(name);
    let bytes = fs::read(target)?;
    write_atomic(&backup, &bytes)?;
    fs::set_permissions(&backup, fs::Permissions::from_mode(0o600))?;
    Ok(Some(backup))
}

/// Temp file in the target's directory (created 0600 by `tempfile`), fsync,
/// then rename over the target: readers see the old file or the new one,
/// never a truncated one.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".rhpull-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // Fault injection for the crash test: die between the temp file and the
    // rename, where a naive writer would leave a truncated file.
    if std::env::var_os("RHPULL_FAULT_CRASH_BEFORE_RENAME").is_some() {
        std::process::abort();
    }
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests;
