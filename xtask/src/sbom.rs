//! `cargo xtask sbom [--target TRIPLE] [--out FILE]`: a CycloneDX 1.5 SBOM
//! (JSON) of the `kubectl-rhpull` binary for one target — every crate
//! built into it, with its version, licence, the features actually built,
//! the Cargo.lock checksum and who depends on whom. The crate graph is
//! cargo's own (`cargo tree -p kubectl-rhpull -e normal --target TRIPLE`:
//! the packages and features a `cargo build -p kubectl-rhpull` of that
//! target compiles, build-time-only crates excluded). `cargo xtask dist`
//! writes one beside each archive; the release workflow uploads them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::workspace_root;

/// One crate of the graph.
#[derive(Debug, Default)]
struct Crate {
    name: String,
    version: String,
    licence: String,
    features: String,
    /// `true` for the workspace's own crates (path dependencies).
    local: bool,
    depends_on: BTreeSet<String>,
}

impl Crate {
    fn purl(&self) -> String {
        format!("pkg:cargo/{}@{}", self.name, self.version)
    }
}

/// The binary's crate graph for `target`, root first.
fn graph(target: &str) -> Result<Vec<Crate>, String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["tree", "--locked", "-p", "kubectl-rhpull", "-e", "normal"])
        .args(["--target", target, "--prefix", "depth", "-f", "{p}|{l}|{f}"])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut crates: Vec<Crate> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    // The chain of crates from the root down to the current line's parent.
    let mut chain: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let depth_len = line.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(depth) = line[..depth_len].parse::<usize>() else {
            continue;
        };
        let mut fields = line[depth_len..].trim_end_matches(" (*)").splitn(3, '|');
        let (p, licence, features) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        let mut words = p.split_whitespace();
        let name = words.next().unwrap_or_default().to_string();
        let version = words
            .next()
            .unwrap_or_default()
            .trim_start_matches('v')
            .to_string();
        let key = format!("{name}@{version}");
        chain.truncate(depth);
        if let Some(parent) = chain.last().and_then(|k| index.get(k)) {
            crates[*parent].depends_on.insert(key.clone());
        }
        chain.push(key.clone());
        if let std::collections::btree_map::Entry::Vacant(slot) = index.entry(key) {
            slot.insert(crates.len());
            crates.push(Crate {
                name,
                version,
                licence: licence.to_string(),
                features: features.to_string(),
                local: p.contains(" (/"),
                depends_on: BTreeSet::new(),
            });
        }
    }
    if crates.is_empty() {
        return Err("cargo tree listed no crate".into());
    }
    Ok(crates)
}

/// `name@version` → sha256 from Cargo.lock, for crates from the registry.
fn checksums() -> BTreeMap<String, String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let mut out = BTreeMap::new();
    let (mut name, mut version) = (String::new(), String::new());
    let value = |l: &str| l.split('"').nth(1).unwrap_or_default().to_string();
    for line in lock.lines() {
        if line.starts_with("[[package]]") {
            (name, version) = (String::new(), String::new());
        } else if line.starts_with("name = ") {
            name = value(line);
        } else if line.starts_with("version = ") {
            version = value(line);
        } else if line.starts_with("checksum = ") {
            out.insert(format!("{name}@{version}"), value(line));
        }
    }
    out
}

fn component(c: &Crate, checksums: &BTreeMap<String, String>) -> Value {
    let mut v = json!({
        "type": if c.local { "application" } else { "library" },
        "bom-ref": c.purl(),
        "name": c.name,
        "version": c.version,
        "purl": c.purl(),
        "licenses": [{"expression": c.licence}],
        "properties": [{"name": "cdx:cargo:features", "value": c.features}],
    });
    if let Some(sum) = checksums.get(&format!("{}@{}", c.name, c.version)) {
        v["hashes"] = json!([{"alg": "SHA-256", "content": sum}]);
    }
    v
}

/// The SBOM document for `target`.
pub fn document(target: &str) -> Result<Value, String> {
    let crates = graph(target)?;
    let sums = checksums();
    let root = &crates[0];
    let mut metadata_component = component(root, &sums);
    metadata_component["type"] = json!("application");
    metadata_component["properties"]
        .as_array_mut()
        .expect("properties")
        .push(json!({"name": "cdx:rust:target", "value": target}));
    let components: Vec<Value> = crates[1..].iter().map(|c| component(c, &sums)).collect();
    let by_key: BTreeMap<String, String> = crates
        .iter()
        .map(|c| (format!("{}@{}", c.name, c.version), c.purl()))
        .collect();
    let dependencies: Vec<Value> = crates
        .iter()
        .map(|c| {
            let on: Vec<&String> = c.depends_on.iter().filter_map(|k| by_key.get(k)).collect();
            json!({"ref": c.purl(), "dependsOn": on})
        })
        .collect();
    // Stable for the same graph: the serial number hashes the contents.
    let body = json!({"components": components, "dependencies": dependencies});
    let digest = Sha256::digest(body.to_string().as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    );
    Ok(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{uuid}"),
        "version": 1,
        "metadata": {
            "timestamp": rhpull_testkit::kube::store::now_rfc3339(),
            "tools": {"components": [{"type": "application", "name": "cargo xtask sbom",
                                      "version": env!("CARGO_PKG_VERSION")}]},
            "component": metadata_component,
        },
        "components": body["components"],
        "dependencies": body["dependencies"],
    }))
}

/// Writes the SBOM of `target` to `out`.
pub fn write(target: &str, out: &Path) -> Result<(), String> {
    let doc = document(target)?;
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(out, text + "\n").map_err(|e| format!("{}: {e}", out.display()))
}

/// `cargo xtask sbom`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Rust target triple (default: this machine's).
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Where to write it (default target/kubectl-rhpull-TRIPLE.cdx.json).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), String> {
    let Args { target, out } = args;
    let target = match target {
        Some(t) => t,
        None => crate::host_triple()?,
    };
    let out = out
        .unwrap_or_else(|| crate::target_dir().join(format!("kubectl-rhpull-{target}.cdx.json")));
    write(&target, &out)?;
    println!("{}", out.display());
    Ok(())
}
