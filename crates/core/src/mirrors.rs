//! Where a node pulls an image from, as CRI-O reads the registries.conf
//! and policy.json that OpenShift's Machine Config Operator renders from
//! ImageDigestMirrorSets, ImageTagMirrorSets, ImageContentSourcePolicies
//! and `images.config.openshift.io/cluster` — no Kubernetes here, only the
//! rules.
//!
//! Followed (machine-config-operator at 7ff337a, August 2026, and the
//! containers/image it vendors):
//! - `openshift/runtime-utils` `pkg/registries/registries.go`
//!   (`EditRegistriesConfig`): one registries.conf entry per mirror
//!   source; mirror sets of one source merged in a stable topological
//!   order (`topo.go`, ported in [`merged_order`]); digest mirrors
//!   (IDMS, ICSP) `pull-from-mirror = "digest-only"`, tag mirrors (ITMS)
//!   `"tag-only"`; `mirrorSourcePolicy: NeverContactSource` marks the
//!   source `blocked`; `registrySources.blockedRegistries` adds blocked
//!   entries and blocks every entry nested inside them; an entry nested in
//!   a mirrored source with no mirrors of its own gets that source's
//!   mirrors (`mirrorsAdjustedForNestedScope`).
//! - containers/image `pkg/sysregistriesv2` (`FindRegistry`: the most
//!   precise matching entry; `PullSourcesFromReference`: the mirrors that
//!   fit the reference — digest or tag — then the source) and
//!   `docker/docker_client.go` (an endpoint whose own entry is blocked
//!   fails: "registry … is blocked").
//! - `pkg/controller/container-runtime-config/helpers.go`
//!   (`updatePolicyJSON`): `allowedRegistries` and `blockedRegistries`
//!   become policy.json, which judges the image as the pod names it
//!   (never a mirror), whatever the credentials.

use crate::imageref::ImageRef;

/// One mirror set as an IDMS, ITMS or ICSP spells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorSet {
    pub source: String,
    pub mirrors: Vec<String>,
    /// `mirrorSourcePolicy: NeverContactSource` (IDMS and ITMS only).
    pub never_contact_source: bool,
}

/// The cluster's rules for pulls, as read from its objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// ImageDigestMirrorSets' then ImageContentSourcePolicies' sets.
    pub digest_sets: Vec<MirrorSet>,
    /// ImageTagMirrorSets' sets.
    pub tag_sets: Vec<MirrorSet>,
    /// `registrySources.blockedRegistries` (scopes, `*.` wildcards too).
    pub blocked: Vec<String>,
    /// `registrySources.allowedRegistries`: when set, only these.
    pub allowed: Vec<String>,
}

/// Why the image is refused before any registry is asked (policy.json).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Refusal {
    /// `allowedRegistries` is set and no scope of it covers the image.
    NotAllowed,
    /// A `blockedRegistries` scope covers the image.
    Blocked { scope: String },
}

/// Why one endpoint is not contacted (registries.conf).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum EndpointBlock {
    /// The source's mirror sets say `NeverContactSource`.
    NeverContactSource { source: String },
    /// A `blockedRegistries` scope covers the endpoint.
    Blocked { scope: String },
}

/// One place CRI-O asks for the image, in its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The reference there (a mirror's, or the image itself).
    pub reference: ImageRef,
    pub mirror: bool,
    pub blocked: Option<EndpointBlock>,
}

/// Where a node pulls one image from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Refused whatever the credentials; no endpoint is asked.
    pub refused: Option<Refusal>,
    /// Mirrors first, then the source.
    pub endpoints: Vec<Endpoint>,
}

impl Route {
    /// The route without any rule: the source alone.
    pub fn direct(image: &ImageRef) -> Self {
        Self {
            refused: None,
            endpoints: vec![Endpoint {
                reference: image.clone(),
                mirror: false,
                blocked: None,
            }],
        }
    }

    /// True when a mirror is in the way before the source.
    pub fn has_mirrors(&self) -> bool {
        self.endpoints.iter().any(|e| e.mirror)
    }
}

/// True when `scope` covers `name` (`registry[/namespace…]`): the same,
/// a parent path, or a `*.domain` wildcard on the host
/// (`ScopeIsNestedInsideScope`).
pub fn scope_covers(scope: &str, name: &str) -> bool {
    if scope == name {
        return true;
    }
    if let Some(domain) = scope.strip_prefix('*') {
        let host = name.split('/').next().unwrap_or_default();
        let host = host.split(':').next().unwrap_or_default();
        return host.ends_with(domain);
    }
    name.len() > scope.len() && name.starts_with(scope) && name.as_bytes()[scope.len()] == b'/'
}

/// The mirrors of one source's sets, in the operator's order: a
/// topological sort of "each mirror before the next, the last before the
/// source", ties broken by name, a loop broken at the first unused name
/// (`topoGraph.Sorted`); the source itself dropped when last.
pub fn merged_order(source: &str, sets: &[&[String]]) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet, VecDeque};
    let mut ins: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut outs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut edge = |from: &str, to: &str| {
        outs.entry(from.to_string())
            .or_default()
            .insert(to.to_string());
        outs.entry(to.to_string()).or_default();
        ins.entry(to.to_string())
            .or_default()
            .insert(from.to_string());
        ins.entry(from.to_string()).or_default();
    };
    for mirrors in sets {
        for pair in mirrors.windows(2) {
            edge(&pair[0], &pair[1]);
        }
        if !mirrors.iter().any(|m| m == source)
            && let Some(last) = mirrors.last()
        {
            edge(last, source);
        }
    }
    let all: Vec<String> = ins.keys().cloned().collect();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = all.iter().filter(|n| ins[*n].is_empty()).cloned().collect();
    let (mut out, mut next_unused) = (Vec::new(), 0);
    while !queue.is_empty() || next_unused < all.len() {
        let node = match queue.pop_front() {
            Some(n) => n,
            None => {
                next_unused += 1;
                let n = all[next_unused - 1].clone();
                if used.contains(&n) {
                    continue;
                }
                n
            }
        };
        if !used.insert(node.clone()) {
            continue;
        }
        out.push(node.clone());
        let mut batch: Vec<String> = Vec::new();
        for succ in &outs[&node] {
            if let Some(pred) = ins.get_mut(succ) {
                pred.remove(&node);
                if pred.is_empty() && !used.contains(succ) {
                    batch.push(succ.clone());
                }
            }
        }
        batch.sort();
        queue.extend(batch);
    }
    if out.last().map(String::as_str) == Some(source) {
        out.pop();
    }
    out
}

/// One registries.conf entry, as far as pulls go.
#[derive(Clone, Debug, Default)]
struct Entry {
    scope: String,
    digest_mirrors: Vec<String>,
    tag_mirrors: Vec<String>,
    blocked: bool,
    never_contact_source: bool,
}

impl Entry {
    fn has_mirrors(&self) -> bool {
        !self.digest_mirrors.is_empty() || !self.tag_mirrors.is_empty()
    }
}

impl Rules {
    /// True when no rule changes where anything is pulled from.
    pub fn is_empty(&self) -> bool {
        self.digest_sets.is_empty()
            && self.tag_sets.is_empty()
            && self.blocked.is_empty()
            && self.allowed.is_empty()
    }

    /// Each source's sets merged, sources in name order
    /// (`mergedMirrorSets`); a set that only repeats its source is no set.
    fn merged(sets: &[MirrorSet]) -> Vec<(String, Vec<String>, bool)> {
        let mut sources: Vec<&str> = (sets.iter())
            .filter(|s| s.mirrors.iter().any(|m| *m != s.source))
            .map(|s| s.source.as_str())
            .collect();
        sources.sort_unstable();
        sources.dedup();
        sources
            .into_iter()
            .map(|source| {
                let of: Vec<&MirrorSet> = (sets.iter())
                    .filter(|s| s.source == source && s.mirrors.iter().any(|m| m != source))
                    .collect();
                let lists: Vec<&[String]> = of.iter().map(|s| s.mirrors.as_slice()).collect();
                let never = of.iter().any(|s| s.never_contact_source);
                (source.to_string(), merged_order(source, &lists), never)
            })
            .collect()
    }

    /// The registries.conf entries the operator renders (`EditRegistriesConfig`).
    fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        fn entry<'a>(entries: &'a mut Vec<Entry>, scope: &str) -> &'a mut Entry {
            match entries.iter().position(|e| e.scope == scope) {
                Some(i) => &mut entries[i],
                None => {
                    entries.push(Entry {
                        scope: scope.to_string(),
                        ..Entry::default()
                    });
                    let last = entries.len() - 1;
                    &mut entries[last]
                }
            }
        }
        let digest = Self::merged(&self.digest_sets);
        let tag = Self::merged(&self.tag_sets);
        for (source, mirrors, never) in &digest {
            let e = entry(&mut entries, source);
            e.digest_mirrors.extend(mirrors.iter().cloned());
            e.never_contact_source |= never;
            e.blocked |= never;
        }
        for (source, mirrors, never) in &tag {
            let e = entry(&mut entries, source);
            e.tag_mirrors.extend(mirrors.iter().cloned());
            e.never_contact_source |= never;
            e.blocked |= never;
        }
        for scope in &self.blocked {
            entry(&mut entries, scope).blocked = true;
        }
        for scope in &self.blocked {
            for e in entries.iter_mut().filter(|e| scope_covers(scope, &e.scope)) {
                e.blocked = true;
            }
        }
        // Nested entries without mirrors take their mirrored parent's.
        let sources: Vec<String> = (digest.iter().chain(&tag)).map(|s| s.0.clone()).collect();
        for source in sources {
            let Some(parent) = entries.iter().find(|e| e.scope == source).cloned() else {
                continue;
            };
            for e in entries.iter_mut() {
                if e.scope != parent.scope
                    && scope_covers(&parent.scope, &e.scope)
                    && !e.has_mirrors()
                    && !parent.scope.starts_with('*')
                {
                    let tail = &e.scope[parent.scope.len()..];
                    e.digest_mirrors = parent
                        .digest_mirrors
                        .iter()
                        .map(|m| format!("{m}{tail}"))
                        .collect();
                    e.tag_mirrors = parent
                        .tag_mirrors
                        .iter()
                        .map(|m| format!("{m}{tail}"))
                        .collect();
                }
            }
        }
        entries
    }

    /// The most precise entry covering `name` (`FindRegistry`).
    fn find<'a>(entries: &'a [Entry], name: &str) -> Option<&'a Entry> {
        entries
            .iter()
            .filter(|e| scope_covers(&e.scope, name))
            .max_by_key(|e| e.scope.len())
    }

    /// Where a node pulls `image` from.
    pub fn route(&self, image: &ImageRef) -> Route {
        let name = image.name();
        let refused = self.refusal(&name);
        if self.digest_sets.is_empty() && self.tag_sets.is_empty() && self.blocked.is_empty() {
            return Route {
                refused,
                ..Route::direct(image)
            };
        }
        let entries = self.entries();
        let entry = Self::find(&entries, &name);
        let mirrors = entry.map_or(&[][..], |e| {
            if image.digest.is_some() {
                &e.digest_mirrors[..]
            } else {
                &e.tag_mirrors[..]
            }
        });
        let tail = entry.map_or("", |e| &name[e.scope.len().min(name.len())..]);
        let mut endpoints: Vec<Endpoint> = mirrors
            .iter()
            .filter_map(|m| {
                let reference = image.moved_to(&format!("{m}{tail}"))?;
                let blocked = Self::find(&entries, &reference.name())
                    .filter(|e| e.blocked)
                    .map(|e| EndpointBlock::Blocked {
                        scope: e.scope.clone(),
                    });
                Some(Endpoint {
                    reference,
                    mirror: true,
                    blocked,
                })
            })
            .collect();
        let source_block = entry.filter(|e| e.blocked).map(|e| {
            let by_scope = self.blocked.iter().find(|b| scope_covers(b, &e.scope));
            match (e.never_contact_source, by_scope) {
                (_, Some(scope)) => EndpointBlock::Blocked {
                    scope: scope.clone(),
                },
                _ => EndpointBlock::NeverContactSource {
                    source: e.scope.clone(),
                },
            }
        });
        endpoints.push(Endpoint {
            reference: image.clone(),
            mirror: false,
            blocked: source_block,
        });
        Route { refused, endpoints }
    }

    /// policy.json's verdict on the image as named.
    fn refusal(&self, name: &str) -> Option<Refusal> {
        if let Some(scope) = self.blocked.iter().find(|b| scope_covers(b, name)) {
            return Some(Refusal::Blocked {
                scope: scope.clone(),
            });
        }
        let allowed = self.allowed.iter().any(|a| scope_covers(a, name));
        (!self.allowed.is_empty() && !allowed).then_some(Refusal::NotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(source: &str, mirrors: &[&str], never: bool) -> MirrorSet {
        MirrorSet {
            source: source.into(),
            mirrors: mirrors.iter().map(|s| s.to_string()).collect(),
            never_contact_source: never,
        }
    }

    fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    fn locations(r: &Route) -> Vec<String> {
        r.endpoints
            .iter()
            .map(|e| e.reference.to_string())
            .collect()
    }

    /// runtime-utils' own example: (B, C) and (A, B) merge into (A, B, C).
    #[test]
    fn mirror_sets_of_one_source_merge_in_a_stable_order() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (bc, ab) = (s(&["b", "c"]), s(&["a", "b"]));
        assert_eq!(merged_order("src", &[&bc, &ab]), ["a", "b", "c"]);
        // A loop is broken at the first name in order.
        let (ab, ba) = (s(&["a", "b"]), s(&["b", "a"]));
        assert_eq!(merged_order("src", &[&ab, &ba]), ["a", "b"]);
        // A set that names the source keeps it where it is, unless last.
        let with_src = s(&["m1", "src", "m2"]);
        assert_eq!(merged_order("src", &[&with_src]), ["m1", "src", "m2"]);
    }

    const DIGEST: &str =
        "quay.io/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn digest_mirrors_serve_digests_and_tag_mirrors_tags_then_the_source() {
        let rules = Rules {
            digest_sets: vec![set(
                "quay.io/team",
                &["mirror.example/team", "backup.example/t"],
                false,
            )],
            tag_sets: vec![set("quay.io", &["tags.example"], false)],
            ..Rules::default()
        };
        let by_digest = rules.route(&image(DIGEST));
        assert_eq!(
            locations(&by_digest),
            [
                DIGEST.replace("quay.io/team", "mirror.example/team"),
                DIGEST.replace("quay.io/team", "backup.example/t"),
                DIGEST.to_string()
            ]
        );
        // quay.io/team has digest mirrors only: a tag there gets none (the
        // most precise entry wins, and it has mirrors of its own).
        let by_tag = rules.route(&image("quay.io/team/app:1"));
        assert_eq!(locations(&by_tag), ["quay.io/team/app:1"]);
        let other = rules.route(&image("quay.io/other/app:1"));
        assert_eq!(
            locations(&other),
            ["tags.example/other/app:1", "quay.io/other/app:1"]
        );
    }

    #[test]
    fn never_contact_source_and_blocked_registries() {
        let rules = Rules {
            digest_sets: vec![set("registry.redhat.io", &["mirror.corp/rh"], true)],
            blocked: vec!["*.untrusted.example".into(), "mirror.corp/rh/bad".into()],
            ..Rules::default()
        };
        let d = "registry.redhat.io/ubi9/ubi@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let r = rules.route(&image(d));
        assert_eq!(r.refused, None);
        assert!(r.endpoints[0].mirror && r.endpoints[0].blocked.is_none());
        assert_eq!(
            r.endpoints[1].blocked,
            Some(EndpointBlock::NeverContactSource {
                source: "registry.redhat.io".into()
            })
        );
        let bad = r"registry.redhat.io/bad/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let r = rules.route(&image(bad));
        assert_eq!(
            r.endpoints[0].blocked,
            Some(EndpointBlock::Blocked {
                scope: "mirror.corp/rh/bad".into()
            }),
            "the mirror itself is blocked"
        );
        let refused = rules.route(&image("app.untrusted.example/x:1"));
        assert_eq!(
            refused.refused,
            Some(Refusal::Blocked {
                scope: "*.untrusted.example".into()
            })
        );
    }

    #[test]
    fn allowed_registries_refuse_everything_else() {
        let rules = Rules {
            allowed: vec!["quay.io/team".into(), "registry.redhat.io".into()],
            ..Rules::default()
        };
        assert_eq!(rules.route(&image("quay.io/team/a:1")).refused, None);
        assert_eq!(
            rules.route(&image("quay.io/other/a:1")).refused,
            Some(Refusal::NotAllowed)
        );
        assert!(!scope_covers("quay.io/team", "quay.io/teamx/a"));
    }
}
