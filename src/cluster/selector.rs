//! Selectors and tolerations as the slim model keeps them.
//!
//! Label selectors (a DaemonSet's `spec.selector`) are matched here, because claiming a pod for a
//! DaemonSet is part of building the model. Node selector terms and tolerations are only stored
//! here; their semantics (the scheduler's rules) live in `coverage::affinity` and
//! `coverage::tolerations`, next to the placement code that uses them.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use super::TaintEffect;

/// Labels of an object, sorted by key.
pub type Labels = BTreeMap<String, String>;

/// Below this many maps, [`LabelSets`] never prunes.
const LABEL_SETS_MIN_PRUNE: usize = 256;

/// Label maps shared between the pods that carry the same labels. The pods of one DaemonSet
/// revision all do (selector labels, `controller-revision-hash`, `pod-template-generation`), so
/// the daemon pods of a cluster need a few maps per DaemonSet instead of one each: 8 bytes per
/// pod where its own map took about 640. The pod watcher and the live list pass every pod's
/// labels through [`LabelSets::share`]. Maps no pod holds any more are dropped whenever the set
/// has doubled since it was last pruned, so pods with labels of their own cost no more than
/// their own maps (twice that at worst).
#[derive(Debug, Default)]
pub struct LabelSets {
    sets: rustc_hash::FxHashSet<Arc<Labels>>,
    pruned_at: usize,
}

impl LabelSets {
    /// The shared map equal to `labels`; `labels` itself becomes the shared one if it is new.
    pub fn share(&mut self, labels: Arc<Labels>) -> Arc<Labels> {
        if let Some(shared) = self.sets.get(labels.as_ref()) {
            return Arc::clone(shared);
        }
        if self.sets.len() >= 2 * self.pruned_at.max(LABEL_SETS_MIN_PRUNE / 2) {
            self.sets.retain(|set| Arc::strong_count(set) > 1);
            self.pruned_at = self.sets.len();
        }
        self.sets.insert(Arc::clone(&labels));
        labels
    }

    /// How many distinct maps are kept.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether no map is kept.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

/// A label selector (`matchLabels` and `matchExpressions`), as `metav1.LabelSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// Labels that must be present with exactly these values.
    pub match_labels: Labels,
    /// Requirements that must all hold.
    pub match_expressions: Vec<LabelRequirement>,
}

/// One `matchExpressions` entry of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`; anything else matches nothing.
    pub operator: String,
    /// The values for `In` and `NotIn`.
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Projects an API label selector.
    pub fn from_api(selector: &meta::LabelSelector) -> Self {
        Self {
            match_labels: selector.match_labels.clone().unwrap_or_default(),
            match_expressions: selector
                .match_expressions
                .iter()
                .flatten()
                .map(|e| LabelRequirement {
                    key: e.key.clone(),
                    operator: e.operator.clone(),
                    values: e.values.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// Whether `labels` satisfy the selector, with the semantics of `LabelSelectorAsSelector`:
    /// an empty selector matches everything; an invalid requirement matches nothing.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

impl LabelRequirement {
    fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator.as_str() {
            "In" => !self.values.is_empty() && value.is_some_and(|v| self.values.contains(v)),
            "NotIn" => !self.values.is_empty() && value.is_none_or(|v| !self.values.contains(v)),
            "Exists" => self.values.is_empty() && value.is_some(),
            "DoesNotExist" => self.values.is_empty() && value.is_none(),
            _ => false,
        }
    }
}

/// One term of a node selector (`nodeSelectorTerms[]`): all of its requirements must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSelectorTerm {
    /// Requirements on node labels.
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// Requirements on node fields (only `metadata.name` is supported by Kubernetes).
    pub match_fields: Vec<NodeSelectorRequirement>,
}

/// One requirement of a node selector term, kept as written; parsed in `coverage::affinity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSelectorRequirement {
    /// The label key, or the field path for `matchFields`.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`.
    pub operator: String,
    /// The operator's values.
    pub values: Vec<String>,
}

impl NodeSelectorTerm {
    /// Projects an API node selector term.
    pub fn from_api(term: &core::NodeSelectorTerm) -> Self {
        let project = |reqs: &Option<Vec<core::NodeSelectorRequirement>>| {
            reqs.iter()
                .flatten()
                .map(|r| NodeSelectorRequirement {
                    key: r.key.clone(),
                    operator: r.operator.clone(),
                    values: r.values.clone().unwrap_or_default(),
                })
                .collect()
        };
        Self {
            match_expressions: project(&term.match_expressions),
            match_fields: project(&term.match_fields),
        }
    }
}

/// A pod toleration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toleration {
    /// The taint key it tolerates; empty means every key.
    pub key: String,
    /// `Equal` (also when empty), `Exists`, or something unknown that tolerates nothing.
    pub operator: String,
    /// The taint value for `Equal`.
    pub value: String,
    /// The taint effect it tolerates; `None` means every effect.
    pub effect: Option<TaintEffect>,
}

impl Toleration {
    /// Projects an API toleration.
    pub fn from_api(t: &core::Toleration) -> Self {
        Self {
            key: t.key.clone().unwrap_or_default(),
            operator: t.operator.clone().unwrap_or_default(),
            value: t.value.clone().unwrap_or_default(),
            effect: t
                .effect
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(TaintEffect::parse),
        }
    }
}

#[cfg(test)]
mod tests;
