//! The emulator's objects: one global resourceVersion counter, objects keyed
//! by resource, namespace and name, and a bounded log of watch events.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use super::resources::Resource;

/// How many events a watch may resume from before it gets 410 Gone.
const EVENT_LOG: usize = 50_000;

#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub kind: &'static str,
    pub resource: &'static Resource,
    pub object: Value,
}

/// `(group/plural, namespace or "", name)`.
pub type Key = (String, String, String);

pub fn key(r: &Resource, namespace: &str, name: &str) -> Key {
    (
        format!("{}/{}", r.group, r.plural),
        namespace.to_string(),
        name.to_string(),
    )
}

#[derive(Debug, Default)]
pub struct Store {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    events: VecDeque<Arc<Event>>,
}

pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rhpull_core::time::rfc3339(secs)
}

pub fn random_suffix(n: usize) -> String {
    use ring::rand::SecureRandom as _;
    // Kubernetes' generateName alphabet: no vowels, no confusable digits.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut bytes = vec![0u8; n];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn uid() -> String {
    use ring::rand::SecureRandom as _;
    let mut b = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An object's `metadata.name`.
/// An object's `metadata.name` ("" without one).
pub fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// An object's `metadata.namespace` ("" for a cluster-scoped one).
pub fn namespace_of(obj: &Value) -> String {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Sets `obj`'s apiVersion and kind as `r` serves them.
fn stamp_kind(r: &Resource, obj: &mut Value) {
    obj["apiVersion"] = json!(r.api_version());
    obj["kind"] = json!(r.kind);
}

/// The API server's rule for custom resources: `metadata.generation` goes
/// up by one when anything outside `metadata` and `status` changes.
fn next_generation(old: &Value, new: &Value) -> u64 {
    let generation = old
        .pointer("/metadata/generation")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let outside = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
            m.remove("status");
        }
        v
    };
    if outside(old) == outside(new) {
        generation
    } else {
        generation + 1
    }
}

impl Store {
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn oldest_event_rv(&self) -> u64 {
        self.events
            .front()
            .map_or(self.rv, |e| e.rv.saturating_sub(1))
    }

    pub fn get(&self, r: &Resource, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&key(r, ns, name))
    }

    /// Objects of a resource (in one namespace, or all), in key order,
    /// starting after `after` when paging.
    pub fn list<'a>(
        &'a self,
        r: &Resource,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
        let prefix = format!("{}/{}", r.group, r.plural);
        self.objects
            .range((prefix.clone(), String::new(), String::new())..)
            .take_while(move |(k, _)| k.0 == prefix)
            .filter(move |(k, _)| ns.is_none_or(|n| k.1 == n))
    }

    fn record(&mut self, kind: &'static str, r: &'static Resource, object: Value) -> Arc<Event> {
        let e = Arc::new(Event {
            rv: self.rv,
            kind,
            resource: r,
            object,
        });
        self.events.push_back(e.clone());
        while self.events.len() > EVENT_LOG {
            self.events.pop_front();
        }
        e
    }

    /// Events after `rv` for a resource, or `None` when `rv` is older than the log.
    pub fn events_since(&self, rv: u64) -> Option<Vec<Arc<Event>>> {
        if rv < self.oldest_event_rv() {
            return None;
        }
        Some(self.events.iter().filter(|e| e.rv > rv).cloned().collect())
    }

    /// Stamps a new object's metadata and stores it.
    pub fn insert_new(
        &mut self,
        r: &'static Resource,
        ns: &str,
        mut obj: Value,
        dry_run: bool,
    ) -> (Value, Option<Arc<Event>>) {
        let name = name_of(&obj);
        stamp_kind(r, &mut obj);
        let meta = obj["metadata"]
            .as_object_mut()
            .expect("metadata checked by the caller");
        meta.insert("uid".into(), json!(uid()));
        meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        meta.remove("generateName");
        if r.generation {
            meta.insert("generation".into(), json!(1));
        }
        if r.namespaced {
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        if dry_run {
            obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
            return (obj, None);
        }
        self.commit("ADDED", r, ns, &name, obj)
    }

    /// Replaces an existing object; a change that changes nothing keeps the
    /// resourceVersion and sends no event, as the real server does.
    pub fn replace(
        &mut self,
        r: &'static Resource,
        ns: &str,
        old: &Value,
        mut obj: Value,
        dry_run: bool,
    ) -> (Value, Option<Arc<Event>>) {
        let name = name_of(old);
        stamp_kind(r, &mut obj);
        for field in ["uid", "creationTimestamp", "name", "namespace"] {
            match old["metadata"].get(field) {
                Some(v) => obj["metadata"][field] = v.clone(),
                None => {
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if r.generation {
            obj["metadata"]["generation"] = json!(next_generation(old, &obj));
        }
        if &obj == old || dry_run {
            return (obj, None);
        }
        self.commit("MODIFIED", r, ns, &name, obj)
    }

    /// Stores `obj` under a new resourceVersion and records the event.
    fn commit(
        &mut self,
        kind: &'static str,
        r: &'static Resource,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> (Value, Option<Arc<Event>>) {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.insert(key(r, ns, name), obj.clone());
        let e = self.record(kind, r, obj.clone());
        (obj, Some(e))
    }

    pub fn remove(
        &mut self,
        r: &'static Resource,
        ns: &str,
        name: &str,
        dry_run: bool,
    ) -> Option<(Value, Option<Arc<Event>>)> {
        let k = key(r, ns, name);
        if dry_run {
            return self.objects.get(&k).cloned().map(|o| (o, None));
        }
        let mut obj = self.objects.remove(&k)?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let e = self.record("DELETED", r, obj.clone());
        Some((obj, Some(e)))
    }

    /// Every namespaced object in `ns` (to delete with its namespace).
    pub fn keys_in_namespace(&self, ns: &str) -> Vec<Key> {
        self.objects.keys().filter(|k| k.1 == ns).cloned().collect()
    }
}
