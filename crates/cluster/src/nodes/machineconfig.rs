//! What a rendered MachineConfig puts in `/var/lib/kubelet/config.json`,
//! the file the kubelet and CRI-O read the node's pull credentials from,
//! and how it compares with the global pull secret, registry by registry.
//!
//! The Machine Config Operator renders the global pull secret verbatim into
//! that file (`templates/common/_base/files/pull-secret.yaml`). In the
//! MachineConfig it is an Ignition `storage.files` entry whose
//! `contents.source` is a data URL (`data:,…` percent-encoded or
//! `data:…;base64,…`), optionally gzip-compressed (`contents.compression`),
//! as `ctrlcommon.DecodeIgnitionFileContents` reads it.

use std::io::Read as _;
use std::path::Path;

use kube::api::Api;
use rhpull_core::Credential;
use rhpull_core::authfile::{AuthFile, AuthFormat};
use serde_json::Value;

use crate::Cluster;
use crate::error::{ClusterError, is_not_found};
use crate::kinds::MachineConfig;

/// Where the kubelet reads the node's pull credentials.
pub const KUBELET_CONFIG: &str = "/var/lib/kubelet/config.json";
/// A pull secret is a few KiB; a file larger than this is not one.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The kubelet's credentials as a rendered config writes them.
#[derive(Clone, Debug)]
pub enum NodeFile {
    Credentials(Vec<Credential>),
    /// The config writes no such file.
    Missing,
    /// The file cannot be read (why, without its content).
    Unreadable(FileFault),
}

/// Why the node's credentials file of a config cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum FileFault {
    /// The pool names no rendered config yet.
    NoRenderedConfig,
    /// The rendered config named does not exist.
    ConfigNotFound,
    /// The config writes no `/var/lib/kubelet/config.json`.
    NoKubeletFile,
    /// The Ignition entry has no `contents.source`.
    NoSource,
    NotDataUrl,
    BadEncoding,
    BadGzip,
    /// Larger than [`MAX_FILE_BYTES`]: not a pull secret.
    TooLarge,
    UnsupportedCompression {
        compression: String,
    },
    /// The file is not a credentials file.
    NotCredentials {
        problem: crate::error::PullSecretFault,
    },
}

/// The node credentials file of a MachineConfig.
pub fn kubelet_file(mc: &MachineConfig) -> NodeFile {
    let files = mc
        .spec
        .pointer("/config/storage/files")
        .and_then(Value::as_array);
    // Ignition applies entries in order; the last one for a path wins.
    let Some(entry) = files.and_then(|f| f.iter().rev().find(|e| e["path"] == KUBELET_CONFIG))
    else {
        return NodeFile::Missing;
    };
    match contents(entry) {
        Ok(bytes) => parse(&bytes),
        Err(reason) => NodeFile::Unreadable(reason),
    }
}

/// The bytes an Ignition file entry writes.
fn contents(entry: &Value) -> Result<Vec<u8>, FileFault> {
    let source = entry
        .pointer("/contents/source")
        .and_then(Value::as_str)
        .ok_or(FileFault::NoSource)?;
    let url = data_url::DataUrl::process(source).map_err(|_| FileFault::NotDataUrl)?;
    let (raw, _) = url.decode_to_vec().map_err(|_| FileFault::BadEncoding)?;
    match entry
        .pointer("/contents/compression")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "" => Ok(raw),
        "gzip" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw.as_slice())
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|_| FileFault::BadGzip)?;
            if out.len() as u64 > MAX_FILE_BYTES {
                return Err(FileFault::TooLarge);
            }
            Ok(out)
        }
        other => Err(FileFault::UnsupportedCompression {
            compression: other.to_string(),
        }),
    }
}

fn parse(bytes: &[u8]) -> NodeFile {
    let label = Path::new(KUBELET_CONFIG);
    let entries = AuthFile::parse(label, AuthFormat::Docker, bytes).and_then(|f| f.entries());
    match entries {
        Ok(entries) => NodeFile::Credentials(entries.iter().map(|e| e.credential()).collect()),
        Err(e) => NodeFile::Unreadable(FileFault::NotCredentials {
            problem: crate::error::PullSecretFault::of(&e),
        }),
    }
}

/// Reads a MachineConfig; `None` when it does not exist.
pub async fn get(cluster: &Cluster, name: &str) -> Result<Option<MachineConfig>, ClusterError> {
    let api: Api<MachineConfig> = Api::all(cluster.client.clone());
    match api.get(name).await {
        Ok(mc) => Ok(Some(mc)),
        Err(e) if is_not_found::<MachineConfig>(&e) => Ok(None),
        Err(e) => Err(ClusterError::from_kube::<MachineConfig>(e, "", name)),
    }
}

/// How one registry's entry on the nodes compares with the global pull
/// secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// The same login in both.
    Same,
    /// Both have the registry, with different logins.
    Differs,
    /// The global pull secret has it; the nodes do not yet.
    Missing,
    /// The nodes still have it; the global pull secret no longer does.
    Extra,
}

/// One registry and how the nodes have it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegistryAgreement {
    pub registry: String,
    pub agreement: Agreement,
}

/// Every registry of either side and how the nodes have it, in the global
/// pull secret's order, then what only the nodes have.
pub fn compare(global: &[Credential], nodes: &[Credential]) -> Vec<RegistryAgreement> {
    let on_nodes = |registry: &str| nodes.iter().find(|c| c.registry == registry);
    let mut out: Vec<RegistryAgreement> = global
        .iter()
        .map(|g| RegistryAgreement {
            registry: g.registry.clone(),
            agreement: match on_nodes(&g.registry) {
                Some(n) if n.same_login(g) => Agreement::Same,
                Some(_) => Agreement::Differs,
                None => Agreement::Missing,
            },
        })
        .collect();
    out.extend(
        nodes
            .iter()
            .filter(|n| !global.iter().any(|g| g.registry == n.registry))
            .map(|n| RegistryAgreement {
                registry: n.registry.clone(),
                agreement: Agreement::Extra,
            }),
    );
    out
}

/// True when every registry agrees.
pub fn all_same(agreements: &[RegistryAgreement]) -> bool {
    agreements.iter().all(|a| a.agreement == Agreement::Same)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use serde_json::json;

    use super::*;

    const FILE: &str =
        r#"{"auths":{"quay.io":{"auth":"dTpw"},"registry.redhat.io":{"auth":"YTpi"}}}"#;

    fn mc(contents: Value) -> MachineConfig {
        MachineConfig {
            spec: json!({"config": {"storage": {"files": [
                {"path": "/etc/other", "contents": {"source": "data:,x"}},
                {"path": KUBELET_CONFIG, "mode": 384, "contents": contents},
            ]}}}),
            ..MachineConfig::default()
        }
    }

    fn registries(f: &NodeFile) -> Vec<String> {
        match f {
            NodeFile::Credentials(c) => c.iter().map(|c| c.registry.clone()).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_data_url_form_the_operator_writes_is_read() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(FILE);
        let percent: String = FILE
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, FILE.as_bytes()).unwrap();
        let gz = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        for contents in [
            json!({"source": format!("data:,{percent}")}),
            json!({"source": format!("data:;base64,{b64}")}),
            json!({"source": format!("data:text/plain;charset=utf-8;base64,{b64}"), "compression": ""}),
            json!({"source": format!("data:;base64,{gz}"), "compression": "gzip"}),
        ] {
            let file = kubelet_file(&mc(contents.clone()));
            assert_eq!(
                registries(&file),
                ["quay.io", "registry.redhat.io"],
                "{contents}"
            );
        }
    }

    #[test]
    fn what_cannot_be_read_says_why_without_content() {
        assert!(matches!(
            kubelet_file(&MachineConfig::default()),
            NodeFile::Missing
        ));
        use crate::error::PullSecretFault;
        for (contents, why) in [
            (
                json!({"source": "https://example.com/x"}),
                FileFault::NotDataUrl,
            ),
            (
                json!({"source": "data:,x", "compression": "bzip2"}),
                FileFault::UnsupportedCompression {
                    compression: "bzip2".into(),
                },
            ),
            (
                json!({"source": "data:,not-json"}),
                FileFault::NotCredentials {
                    problem: PullSecretFault::NotJson,
                },
            ),
        ] {
            match kubelet_file(&mc(contents)) {
                NodeFile::Unreadable(fault) => assert_eq!(fault, why),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn registries_compare_by_login_without_showing_it() {
        let c = |r: &str, u: &str, p: &str| Credential::new(r, u, p);
        let global = [
            c("quay.io", "u", "new"),
            c("a.example", "u", "p"),
            c("b.example", "u", "p"),
        ];
        let nodes = [
            c("quay.io", "u", "old"),
            c("a.example", "u", "p"),
            c("gone.example", "u", "p"),
        ];
        let got: Vec<(String, Agreement)> = compare(&global, &nodes)
            .into_iter()
            .map(|a| (a.registry, a.agreement))
            .collect();
        assert_eq!(
            got,
            [
                ("quay.io".into(), Agreement::Differs),
                ("a.example".into(), Agreement::Same),
                ("b.example".into(), Agreement::Missing),
                ("gone.example".into(), Agreement::Extra),
            ]
        );
        assert!(!all_same(&compare(&global, &nodes)));
        assert!(all_same(&compare(&global, &global)));
    }
}
