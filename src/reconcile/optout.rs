//! Opt-out by annotation: `dsguard.io/reconcile: "false"` on a DaemonSet or a node keeps the
//! executor away from it. Any value other than `true` or `false` is reported and treated as an
//! opt-out: when in doubt, dsguard does not delete.

use crate::cluster::Labels;

/// The opt-out annotation, on DaemonSets and nodes.
pub const ANNOTATION_RECONCILE: &str = "dsguard.io/reconcile";

/// What an object's annotations say about reconciling it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consent {
    /// No annotation, or `true`.
    Allowed,
    /// `false`.
    OptedOut,
    /// A value that is neither `true` nor `false`: treated as an opt-out, and reported.
    Invalid(String),
}

impl Consent {
    /// Reads the annotation (case-insensitive, surrounding spaces ignored).
    pub fn of(annotations: &Labels) -> Self {
        match annotations.get(ANNOTATION_RECONCILE) {
            None => Self::Allowed,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "true" => Self::Allowed,
                "false" => Self::OptedOut,
                _ => Self::Invalid(value.clone()),
            },
        }
    }

    /// Why the object is opted out, naming it (`what` is e.g. `daemonset kube-system/agent`),
    /// or `None` when it is not.
    pub fn opt_out_reason(&self, what: &str) -> Option<String> {
        match self {
            Self::Allowed => None,
            Self::OptedOut => Some(format!("{what} has {ANNOTATION_RECONCILE}: \"false\"")),
            Self::Invalid(value) => Some(format!(
                "{what} has {ANNOTATION_RECONCILE}: {value:?}, which is neither \"true\" nor \"false\"; treated as opted out"
            )),
        }
    }

    /// The report for a bad value, if this is one.
    pub fn error(&self, what: &str) -> Option<String> {
        match self {
            Self::Invalid(_) => self.opt_out_reason(what),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
