//! `cargo xtask test` keeps the house without import circles: within each
//! crate, a file that names another file's items (`crate::a::b`, `super::…`,
//! `self::…`, in `use` lines or inline) depends on it, and no chain of such
//! dependencies may come back to where it started. The crate root
//! (`lib.rs`, `main.rs`) only wires modules together and is left out, as
//! are `#[cfg(test)]` modules. Layers hold inside a crate too
//! (ARCHITECTURE.md): shared types go below the files that share them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source folders checked, each one crate.
const CRATES: &[&str] = &[
    "crates/core/src",
    "crates/cluster/src",
    "crates/kubectl-rhpull/src",
    "crates/testkit/src",
    "xtask/src",
];

/// Fails with every circle found, file by file.
pub fn check(root: &Path) -> Result<(), String> {
    let mut found = Vec::new();
    for c in CRATES {
        found.extend(circles_in(&root.join(c)));
    }
    if found.is_empty() {
        eprintln!("xtask: no import circles");
        return Ok(());
    }
    let listed: Vec<String> = found.iter().map(|c| c.join(" -> ")).collect();
    Err(format!(
        "import circles (move what they share below both):\n  {}",
        listed.join("\n  ")
    ))
}

/// The circles among the files of one crate, each as a list of paths
/// relative to `src` that ends where it starts.
pub fn circles_in(src: &Path) -> Vec<Vec<String>> {
    let files = rust_files(src);
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (module, file) in &modules {
        if module.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let deps = edges.entry(file.clone()).or_default();
        for path in referenced(&without_tests(&text), module, file.ends_with("mod.rs")) {
            if let Some(target) = resolve(&modules, &path)
                && target != *file
                && !module_of(src, &target).is_empty()
            {
                deps.insert(target);
            }
        }
    }
    cycles(&edges)
        .into_iter()
        .map(|c| {
            c.iter()
                .map(|p| p.strip_prefix(src).unwrap_or(p).display().to_string())
                .collect()
        })
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`; `lib.rs` and
/// `main.rs` the root.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod")) {
        parts.pop();
    }
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
        parts.clear();
    }
    parts
}

/// The code before its `#[cfg(test)]` module, if it has one, without
/// comments (a doc link to a module is no import).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break;
        }
        let code = line.find("//").map_or(line, |at| &line[..at]);
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every absolute module path the text names (`crate::…`, `super::…`,
/// `self::…`), with `use` groups (`crate::{a, b::c}`) spread out.
fn referenced(text: &str, module: &[String], is_mod_rs: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|p| text_at(&bytes, i, p))
            .filter(|_| i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != ':');
        let Some(start) = starts else {
            i += 1;
            continue;
        };
        // The module the path starts from.
        let mut base: Vec<String> = match *start {
            "crate::" => Vec::new(),
            "self::" if is_mod_rs => module.to_vec(),
            "self::" => module.to_vec(),
            _ => {
                // `super` of a file `a/b.rs` (module a::b) is `a`.
                let mut m = module.to_vec();
                m.pop();
                m
            }
        };
        i += start.len();
        while text_at(&bytes, i, "super::") {
            base.pop();
            i += "super::".len();
        }
        let (paths, next) = path_tree(&bytes, i);
        for p in paths {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
        i = next.max(i + 1);
    }
    out
}

fn text_at(chars: &[char], at: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(at + k) == Some(&c))
}

/// The paths at `chars[i..]`: `a::b::c`, or `{a, b::{c, d}}` spread out;
/// and where it ends.
fn path_tree(chars: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        if chars.get(i) == Some(&'{') {
            let mut out = Vec::new();
            i += 1;
            loop {
                while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                    i += 1;
                }
                if chars.get(i).is_none_or(|c| *c == '}') {
                    return (out, i + 1);
                }
                let (inner, next) = path_tree(chars, i);
                for p in inner {
                    let mut full = prefix.clone();
                    full.extend(p);
                    out.push(full);
                }
                if next <= i {
                    return (out, i + 1);
                }
                i = next;
            }
        }
        let start = i;
        while chars.get(i).is_some_and(|c| is_ident(*c)) {
            i += 1;
        }
        if i == start {
            return (vec![prefix], i);
        }
        prefix.push(chars[start..i].iter().collect());
        if text_at(chars, i, "::") {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// The file of the longest module prefix of `path`.
fn resolve(modules: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<PathBuf> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).cloned())
}

/// Each strongly connected set of more than one file, as a loop.
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    for start in edges.keys() {
        if seen.contains(start) {
            continue;
        }
        // A path from a successor back to `start` closes a loop.
        for next in &edges[start] {
            if let Some(mut back) = path_between(edges, next, start) {
                back.insert(0, start.clone());
                seen.extend(back.iter().cloned());
                out.push(back);
                break;
            }
        }
    }
    out
}

/// A shortest path `from` … `to` (both included), breadth first.
fn path_between(
    edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    from: &Path,
    to: &Path,
) -> Option<Vec<PathBuf>> {
    let mut came: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_path_buf()]);
    let mut visited = BTreeSet::from([from.to_path_buf()]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut path = vec![at.clone()];
            let mut cur = at;
            while let Some(prev) = came.get(&cur) {
                path.push(prev.clone());
                cur = prev.clone();
            }
            path.reverse();
            return Some(path);
        }
        for n in edges.get(&at).into_iter().flatten() {
            if visited.insert(n.clone()) {
                came.insert(n.clone(), at.clone());
                queue.push_back(n.clone());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_circle_is_found_and_a_layer_is_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        write(
            src,
            "lib.rs",
            "pub mod a;\npub mod b;\npub mod c;\npub use a::A;\n",
        );
        write(
            src,
            "a.rs",
            "//! Not [`crate::c`]: a comment.\nuse crate::b::{B, other};\npub struct A;\n",
        );
        write(
            src,
            "b.rs",
            "pub struct B;\npub fn other() { let _ = super::c::C; }\n",
        );
        write(
            src,
            "c.rs",
            "pub struct C;\n#[cfg(test)]\nmod tests { use crate::a::A; }\n",
        );
        assert!(
            circles_in(src).is_empty(),
            "a -> b -> c is a layer, tests aside"
        );
        write(src, "c.rs", "use crate::{a::A};\npub struct C;\n");
        let found = circles_in(src);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(&"a.rs".to_string()) && found[0].contains(&"c.rs".to_string()));
    }

    #[test]
    fn nested_folders_and_super_paths() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        write(src, "main.rs", "mod k;\n");
        write(src, "k/mod.rs", "pub mod api;\npub mod state;\n");
        write(src, "k/state.rs", "pub struct S;\n");
        write(src, "k/api/mod.rs", "pub mod verbs;\npub mod watch;\n");
        write(
            src,
            "k/api/verbs.rs",
            "use super::super::state::S;\nuse super::watch::w;\n",
        );
        write(src, "k/api/watch.rs", "pub fn w() {}\n");
        assert!(circles_in(src).is_empty());
        write(src, "k/api/watch.rs", "use super::verbs;\npub fn w() {}\n");
        assert_eq!(circles_in(src).len(), 1);
    }

    #[test]
    fn the_workspace_has_no_import_circles() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        check(root).unwrap();
    }
}
