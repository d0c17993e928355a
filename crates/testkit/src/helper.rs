//! A real `docker-credential-<name>` program speaking the helper protocol
//! (`get`/`store`/`erase`/`list`), keeping its secrets in a JSON file, for
//! tests of `credsStore` and `credHelpers`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

const SCRIPT: &str = r#"#!/usr/bin/env python3
import json, os, sys
store_path = os.environ.get("RHPULL_TEST_HELPER_STORE") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "store.json")
def load():
    try:
        with open(store_path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
def save(d):
    with open(store_path, "w") as f:
        json.dump(d, f)
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
store = load()
if action == "get":
    server = data.strip()
    if server not in store:
        sys.stdout.write("credentials not found in native keychain\n")
        sys.exit(1)
    e = store[server]
    json.dump({"ServerURL": server, "Username": e["Username"], "Secret": e["Secret"]}, sys.stdout)
elif action == "store":
    e = json.loads(data)
    store[e["ServerURL"]] = {"Username": e["Username"], "Secret": e["Secret"]}
    save(store)
elif action == "erase":
    store.pop(data.strip(), None)
    save(store)
elif action == "list":
    json.dump({k: v["Username"] for k, v in store.items()}, sys.stdout)
else:
    sys.stdout.write("unknown action\n")
    sys.exit(1)
"#;

/// Installs `docker-credential-<name>` into `bin_dir`; its store is
/// `bin_dir/store.json`. Put `bin_dir` first on PATH to use it.
pub fn install(bin_dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(bin_dir).expect("create bin dir");
    let path = bin_dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, SCRIPT).expect("write helper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod helper");
    path
}
