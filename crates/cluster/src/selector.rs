//! kubectl's label selector syntax (`-l`) turned into the structured
//! `LabelSelector` an object spells out (`matchLabels`, `matchExpressions`),
//! for selectors rhpull writes into manifests rather than sends as a query:
//! `env=prod`, `env==prod`, `tier!=db`, `region in (eu, us)`,
//! `region notin (ap)`, `gpu`, `!legacy` — as apimachinery's
//! `labels.Parse` reads them.

use std::collections::BTreeMap;

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

/// Why a selector cannot be read (the term, and what is wrong with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{term:?}: {fault:?}")]
pub struct SelectorError {
    pub term: String,
    pub fault: SelectorFault,
}

/// What is wrong with a term of a selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorFault {
    /// `in` / `notin` need a parenthesised set: `(a, b)`.
    SetNotParenthesised,
    NotALabelKey,
    NotALabelValue,
}

/// Parses `selector` into a LabelSelector; an empty one selects everything.
pub fn parse(selector: &str) -> Result<LabelSelector, SelectorError> {
    let mut labels = BTreeMap::new();
    let mut expressions = Vec::new();
    for term in split_terms(selector) {
        let term = term.trim();
        if term.is_empty() {
            continue;
        }
        match parse_term(term)? {
            Term::Equals(k, v) => {
                labels.insert(k, v);
            }
            Term::Expression(e) => expressions.push(e),
        }
    }
    Ok(LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        match_expressions: (!expressions.is_empty()).then_some(expressions),
    })
}

enum Term {
    Equals(String, String),
    Expression(LabelSelectorRequirement),
}

/// Splits on commas outside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0usize, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn bad(term: &str, fault: SelectorFault) -> SelectorError {
    SelectorError {
        term: term.to_string(),
        fault,
    }
}

fn requirement(key: &str, operator: &str, values: Option<Vec<String>>) -> Term {
    Term::Expression(LabelSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values,
    })
}

fn parse_term(term: &str) -> Result<Term, SelectorError> {
    if let Some(key) = term.strip_prefix('!') {
        return Ok(requirement(
            &checked_key(term, key.trim())?,
            "DoesNotExist",
            None,
        ));
    }
    for (op, operator) in [(" notin ", "NotIn"), (" in ", "In")] {
        if let Some((key, rest)) = term.split_once(op) {
            let key = checked_key(term, key.trim())?;
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| bad(term, SelectorFault::SetNotParenthesised))?;
            let values = inner
                .split(',')
                .map(|v| checked_value(term, v.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(requirement(&key, operator, Some(values)));
        }
    }
    if let Some((key, value)) = term.split_once("!=") {
        let value = checked_value(term, value.trim())?;
        return Ok(requirement(
            &checked_key(term, key.trim())?,
            "NotIn",
            Some(vec![value]),
        ));
    }
    if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
        let key = checked_key(term, key.trim())?;
        return Ok(Term::Equals(key, checked_value(term, value.trim())?));
    }
    Ok(requirement(&checked_key(term, term)?, "Exists", None))
}

/// A label key: an optional DNS subdomain prefix and `/`, then a name of
/// at most 63 characters (alphanumerics, `-`, `_`, `.`; alphanumeric ends).
fn checked_key(term: &str, key: &str) -> Result<String, SelectorError> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    });
    if !prefix_ok || name.is_empty() || !is_label_value(name) {
        return Err(bad(term, SelectorFault::NotALabelKey));
    }
    Ok(key.to_string())
}

fn checked_value(term: &str, value: &str) -> Result<String, SelectorError> {
    if value.is_empty() || is_label_value(value) {
        Ok(value.to_string())
    } else {
        Err(bad(term, SelectorFault::NotALabelValue))
    }
}

fn is_label_value(v: &str) -> bool {
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let bytes = v.as_bytes();
    v.len() <= 63
        && bytes.iter().all(|b| ok_char(*b))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn as_json(s: &str) -> serde_json::Value {
        serde_json::to_value(parse(s).unwrap()).unwrap()
    }

    #[test]
    fn every_form_kubectl_takes_is_spelled_out() {
        assert_eq!(
            as_json("env=prod, tier==web,region in (eu, us),zone notin (a),gpu,!legacy,app!=db"),
            json!({
                "matchLabels": {"env": "prod", "tier": "web"},
                "matchExpressions": [
                    {"key": "region", "operator": "In", "values": ["eu", "us"]},
                    {"key": "zone", "operator": "NotIn", "values": ["a"]},
                    {"key": "gpu", "operator": "Exists"},
                    {"key": "legacy", "operator": "DoesNotExist"},
                    {"key": "app", "operator": "NotIn", "values": ["db"]},
                ],
            })
        );
        assert_eq!(as_json(""), json!({}));
        assert_eq!(
            as_json("cluster.open-cluster-management.io/clusterset=default"),
            json!({"matchLabels": {"cluster.open-cluster-management.io/clusterset": "default"}})
        );
    }

    #[test]
    fn what_is_not_a_selector_is_named() {
        for s in [
            "env=pr od",
            "a in eu",
            "-bad=x",
            "UPPER.Case/x=y",
            "x=",
            "k=v,,",
        ] {
            let got = parse(s);
            if s == "x=" || s == "k=v,," {
                assert!(got.is_ok(), "{s}: an empty value is allowed");
                continue;
            }
            let e = got.expect_err(s);
            assert!(s.contains(e.term.trim()), "{s}: {e}");
        }
    }
}
