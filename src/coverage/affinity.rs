//! Required node affinity and `nodeSelector`, compiled once per DaemonSet and matched against
//! nodes with the semantics of `component-helpers/scheduling/corev1/nodeaffinity`:
//! terms are OR'ed, the requirements of a term AND'ed; a term with no requirement, or with one
//! that does not parse (an empty `In`, values on `Exists`, a non-integer `Gt`, a field other than
//! `metadata.name`, …), matches no node; `Gt`/`Lt` on a label that is not an integer is false.

use crate::cluster::{Labels, NodeSelectorRequirement, NodeSelectorTerm};

/// A label requirement, parsed.
#[derive(Clone, Debug)]
enum LabelRequirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A term, parsed; `None` when it can never match (empty, or a requirement failed to parse).
#[derive(Clone, Debug)]
struct Term {
    labels: Vec<LabelRequirement>,
    /// `metadata.name` must equal (true) or differ from (false) the value.
    names: Vec<(bool, String)>,
}

/// A required node affinity, parsed once and matched many times.
#[derive(Clone, Debug, Default)]
pub struct NodeAffinity {
    terms: Vec<Option<Term>>,
}

impl NodeAffinity {
    /// Parses the terms of `requiredDuringSchedulingIgnoredDuringExecution`.
    pub fn compile(terms: &[NodeSelectorTerm]) -> Self {
        Self {
            terms: terms.iter().map(compile_term).collect(),
        }
    }

    /// Whether the node with this name and these labels satisfies any term.
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        self.terms
            .iter()
            .flatten()
            .any(|term| term.matches(node_name, labels))
    }
}

impl Term {
    fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        self.labels.iter().all(|r| r.matches(labels))
            && self
                .names
                .iter()
                .all(|(equal, name)| (name == node_name) == *equal)
    }
}

impl LabelRequirement {
    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Self::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Self::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Self::Exists(key) => labels.contains_key(key),
            Self::DoesNotExist(key) => !labels.contains_key(key),
            Self::Gt(key, bound) => integer_label(labels, key).is_some_and(|v| v > *bound),
            Self::Lt(key, bound) => integer_label(labels, key).is_some_and(|v| v < *bound),
        }
    }
}

fn integer_label(labels: &Labels, key: &str) -> Option<i64> {
    labels.get(key)?.parse().ok()
}

fn compile_term(term: &NodeSelectorTerm) -> Option<Term> {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return None;
    }
    let labels = term
        .match_expressions
        .iter()
        .map(compile_label_requirement)
        .collect::<Option<Vec<_>>>()?;
    let names = term
        .match_fields
        .iter()
        .map(compile_field_requirement)
        .collect::<Option<Vec<_>>>()?;
    Some(Term { labels, names })
}

fn compile_label_requirement(req: &NodeSelectorRequirement) -> Option<LabelRequirement> {
    if !is_qualified_name(&req.key) {
        return None;
    }
    let key = req.key.clone();
    let values = &req.values;
    let integer = || match values.as_slice() {
        [v] => v.parse::<i64>().ok(),
        _ => None,
    };
    match req.operator.as_str() {
        "In" | "NotIn" if values.is_empty() || !values.iter().all(|v| is_label_value(v)) => None,
        "In" => Some(LabelRequirement::In(key, values.clone())),
        "NotIn" => Some(LabelRequirement::NotIn(key, values.clone())),
        "Exists" | "DoesNotExist" if !values.is_empty() => None,
        "Exists" => Some(LabelRequirement::Exists(key)),
        "DoesNotExist" => Some(LabelRequirement::DoesNotExist(key)),
        "Gt" => integer().map(|v| LabelRequirement::Gt(key, v)),
        "Lt" => integer().map(|v| LabelRequirement::Lt(key, v)),
        _ => None,
    }
}

fn compile_field_requirement(req: &NodeSelectorRequirement) -> Option<(bool, String)> {
    if req.key != "metadata.name" {
        return None;
    }
    let [value] = req.values.as_slice() else {
        return None;
    };
    match req.operator.as_str() {
        "In" => Some((true, value.clone())),
        "NotIn" => Some((false, value.clone())),
        _ => None,
    }
}

/// A label key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters
/// of alphanumerics, `-`, `_` and `.`, starting and ending with an alphanumeric.
fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
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
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            })
    });
    prefix_ok && !name.is_empty() && is_label_value(name)
}

/// A label value: empty, or at most 63 characters as in a qualified name.
fn is_label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    value.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes.first().is_none_or(u8::is_ascii_alphanumeric)
        && bytes.last().is_none_or(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests;
