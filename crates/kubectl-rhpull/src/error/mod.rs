//! The one failure type the binary shows, typed to the edge: a stable
//! machine [`Reason`], the typed fields of what failed (namespace, name,
//! registry, HTTP code…), and the catalogue entry that puts it into words
//! — what failed, why, and the next step — only when a person reads it,
//! in their language. `-o json|yaml` carries the reason and the fields,
//! never words, so it is the same in every language.
//!
//! Typed errors of the libraries become failures next door: clap's usage
//! errors ([`usage`]), auth-file errors ([`authfile`]) and cluster errors
//! ([`cluster`]).

mod authfile;
mod cluster;
mod reason;
mod usage;

pub use authfile::key_problem;
pub use cluster::fault_key;
pub use reason::Reason;
use serde_json::Value;
pub use usage::{command, command_of, set_command};

use crate::i18n::text;

/// kubectl's exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Failed = 1,
    Usage = 2,
}

/// Why a command did not finish.
#[derive(Debug)]
pub enum CliError {
    /// Already in the command's own output (a failed check prints its
    /// steps): nothing more to say, only the exit code.
    Reported(Exit),
    /// A failure to put into words.
    Failed(Box<Failure>),
}

/// One failure: its reason and fields, and where its words are.
#[derive(Debug, Clone)]
pub struct Failure {
    pub exit: Exit,
    pub reason: Reason,
    /// The catalogue entry: `<key>.what`, and `<key>.why` and
    /// `<key>.next` where the catalogue has them.
    key: &'static str,
    /// Typed fields: machine output, and the placeholders of the words.
    /// Never words themselves, never a secret.
    fields: Vec<(&'static str, Value)>,
    /// Placeholders worded by a catalogue entry of their own (a typed
    /// field's value in words); not part of the machine document.
    worded: Vec<(&'static str, &'static str)>,
    /// The `next` of another entry, where the key's own would not fit
    /// (a registry that is not Red Hat's).
    next_key: Option<&'static str>,
}

impl CliError {
    /// A failure worded by the catalogue entry `key`, with no fields yet.
    pub fn new(exit: Exit, reason: Reason, key: &'static str) -> Self {
        Self::Failed(Box::new(Failure {
            exit,
            reason,
            key,
            fields: Vec::new(),
            worded: Vec::new(),
            next_key: None,
        }))
    }

    /// A usage error (exit 2).
    pub fn usage(reason: Reason, key: &'static str) -> Self {
        Self::new(Exit::Usage, reason, key)
    }

    /// A failure (exit 1).
    pub fn failed(reason: Reason, key: &'static str) -> Self {
        Self::new(Exit::Failed, reason, key)
    }

    /// Adds a field: a string, a number, a list — a value, never words.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        if let Self::Failed(f) = &mut self {
            f.fields.push((name, value.into()));
        }
        self
    }

    /// A placeholder worded by catalogue entry `key` when shown.
    #[must_use]
    pub fn worded(mut self, name: &'static str, key: &'static str) -> Self {
        if let Self::Failed(f) = &mut self {
            f.worded.push((name, key));
        }
        self
    }

    /// Takes the next step from catalogue entry `key` instead.
    #[must_use]
    pub fn next_from(mut self, key: &'static str) -> Self {
        if let Self::Failed(f) = &mut self {
            f.next_key = Some(key);
        }
        self
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Reported(exit) => *exit as u8,
            Self::Failed(f) => f.exit as u8,
        }
    }

    /// The failure, unless it was already reported.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Reported(_) => None,
            Self::Failed(f) => Some(f),
        }
    }

    /// The reason, for machine output (`Reported` has none of its own:
    /// the report says what failed).
    pub fn reason(&self) -> Option<Reason> {
        self.failure().map(|f| f.reason)
    }
}

impl From<Failure> for CliError {
    fn from(f: Failure) -> Self {
        Self::Failed(Box::new(f))
    }
}

impl Failure {
    /// The value of a field, if set.
    #[cfg(test)]
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The placeholders of the words: lists joined, absent values `-`.
    /// The placeholders: every field, then the worded ones (whose words
    /// may use the fields too).
    fn args(&self) -> Vec<(&'static str, String)> {
        let mut args: Vec<(&'static str, String)> = (self.fields.iter())
            .map(|(name, value)| (*name, placeholder(value)))
            .collect();
        let worded: Vec<(&'static str, String)> = {
            let plain: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            (self.worded.iter())
                .map(|(name, key)| (*name, text(key, &plain)))
                .collect()
        };
        args.extend(worded);
        args
    }

    fn part(&self, part: &str) -> Option<String> {
        let key = match (part, self.next_key) {
            ("next", Some(key)) => key.to_string(),
            _ => format!("{}.{part}", self.key),
        };
        let args = self.args();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::i18n::has(&key, "en").then(|| text(&key, &args))
    }

    /// What failed, in the user's language.
    pub fn what(&self) -> String {
        self.part("what").unwrap_or_else(|| self.reason.to_string())
    }

    pub fn why(&self) -> Option<String> {
        self.part("why")
    }

    pub fn next(&self) -> Option<String> {
        self.part("next")
    }

    /// `error: what`, `  why: …`, `  next: …` as printed.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("{}{}", text("error.label", &[]), self.what())];
        if let Some(why) = self.why() {
            out.push(format!("  {}{why}", text("error.why_label", &[])));
        }
        if let Some(next) = self.next() {
            out.push(format!("  {}{next}", text("error.next_label", &[])));
        }
        out
    }

    /// The failure in a machine document: `{"reason": …, <fields>}`.
    pub fn document(&self) -> Value {
        let mut doc = serde_json::Map::new();
        doc.insert("reason".into(), Value::String(self.reason.to_string()));
        for (name, value) in &self.fields {
            doc.insert((*name).to_string(), value.clone());
        }
        Value::Object(doc)
    }
}

/// `--image` (a usage error) or a pod's image (a failure) that is not an
/// image reference.
pub fn bad_image(exit: Exit, image: &str, e: &rhpull_core::imageref::ImageRefError) -> CliError {
    use rhpull_core::imageref::ImageRefError as E;
    let (fault, part) = match e {
        E::Empty => ("image.fault.empty", ""),
        E::BadComponent(p) => ("image.fault.component", p.as_str()),
        E::BadTag(p) => ("image.fault.tag", p.as_str()),
        E::BadDigest(p) => ("image.fault.digest", p.as_str()),
        E::BadHost(p) => ("image.fault.host", p.as_str()),
    };
    CliError::new(exit, Reason::InvalidImage, "error.bad_image")
        .with("image", image)
        .with("part", part)
        .worded("fault", fault)
}

/// A field as the words show it.
fn placeholder(value: &Value) -> String {
    match value {
        // As kubectl shows the core API group: `in API group ""`.
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::Array(items) => items.iter().map(placeholder).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Each cause's message once, outermost first (wrappers often repeat
/// their source's text in their own): a library's own words, for the
/// `why` of a failure below our own.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_the_reason_and_the_fields_in_every_language() {
        let _locale = crate::i18n::locale_lock();
        let err = CliError::failed(Reason::NotFound, "error.cluster.namespace_not_found")
            .with("resource", "namespaces")
            .with("name", "nope");
        let f = err.failure().unwrap();
        let mut docs = Vec::new();
        let mut words = Vec::new();
        for locale in ["en", "zh-CN"] {
            rust_i18n::set_locale(locale);
            docs.push(f.document().to_string());
            words.push(f.what());
        }
        rust_i18n::set_locale("en");
        assert_eq!(docs[0], docs[1]);
        assert_eq!(
            docs[0],
            r#"{"name":"nope","reason":"NotFound","resource":"namespaces"}"#
        );
        assert_ne!(words[0], words[1], "the words follow the language");
        assert!(words[0].contains("nope"));
    }

    #[test]
    fn a_reported_failure_has_only_its_exit_code() {
        let e = CliError::Reported(Exit::Failed);
        assert_eq!(e.exit_code(), 1);
        assert!(e.failure().is_none());
        assert!(e.reason().is_none());
    }

    #[test]
    fn lists_read_as_lists_and_nothing_as_a_dash() {
        assert_eq!(placeholder(&serde_json::json!(["a", "b"])), "a, b");
        assert_eq!(placeholder(&Value::Null), "-");
        assert_eq!(placeholder(&serde_json::json!(404)), "404");
    }
}
