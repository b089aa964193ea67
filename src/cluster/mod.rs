//! The slim model of the cluster: what dsguard keeps of Nodes, DaemonSets and Pods.
//!
//! Objects arrive from the Kubernetes API (a watch or a live list) as JSON, parsed once, straight
//! into wire types that name only the fields dsguard reads (`wire`, through `item`), and projected
//! to small structs that hold only what the coverage evaluation needs. A `kubectl` dump for
//! `dsguard check` is read through the full `k8s-openapi` structs instead (its errors name the
//! offending field's path), projected by `from_api` to the same slim structs. Projection is the
//! only place that knows the API's field names, and the only place where a malformed object is
//! caught: it returns a [`ProjectionError`] naming the field, which callers count and skip.

#[cfg(any(test, feature = "testing"))]
pub mod build;
mod client;
mod configmap;
mod daemonset;
mod dump;
mod item;
mod leader;
mod lease;
mod list;
mod node;
mod pod;
mod quantity;
mod selector;
mod settings;
mod uid;
mod watch;
mod watch_starts;
mod wire;

use std::fmt;

use serde::Serialize;

pub use client::{ClientError, kube_client};
pub use configmap::{
    CONFLICT_RETRIES, ConfigMapStore, MAX_CONFIGMAP_BYTES, MAX_VALUE_BYTES, REQUEST_TIMEOUT,
    StoreError, Versioned,
};
pub use daemonset::{
    ControllerStatus, DaemonSetInfo, PlacementSpec, Share, TemplateFacts, UpdateStrategy,
};
pub use dump::{DEFAULT_MAX_INPUT_BYTES, InputError, Inventory};
pub use item::parse_object;
pub use leader::{
    Change, Election, HaSettings, Leadership, LeaseRecord, SERVICE_ACCOUNT_NAMESPACE, Step,
    next_step, record_to_write,
};
pub use lease::{Elector, LeaseError};
pub use list::{LIST_PAGE, ListError, list_inventory};
pub use node::{
    ANNOTATION_MAINTENANCE, Allocatable, NodeHealth, NodeInfo, TAINT_AUTOSCALER_DELETE,
    TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY,
    TAINT_OUT_OF_SERVICE, TAINT_PID_PRESSURE, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, Taint,
    TaintEffect,
};
pub use pod::{Deletion, PodInfo, PodPhase, PodReason};
pub use selector::{
    LabelSelector, LabelSets, Labels, NodeSelectorRequirement, NodeSelectorTerm, Toleration,
};
pub use settings::{KubeSettings, PodSettings, PodWatch, WatchSettings};
pub use uid::Uid;
pub use watch::{
    FAILURE_REASONS, MALFORMED_REASONS, Object, ObjectRef, Resource, WatchEvent, run as run_watch,
};

use crate::base::Timestamp;

/// The label the DaemonSet controller puts on every daemon pod: the template generation.
pub const POD_TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// The label the DaemonSet controller puts on every daemon pod: the hash of its revision.
pub const CONTROLLER_REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// The annotation in which the DaemonSet keeps its template generation.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";
/// Prefix of the annotations dsguard reads from DaemonSets and nodes.
pub const DSGUARD_ANNOTATION_PREFIX: &str = "dsguard.io/";

/// Namespace and name of a namespaced object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct ObjectKey {
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl ObjectKey {
    /// Builds a key from its two parts.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Why an API object could not be projected to the slim model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectionError {
    /// A field the model cannot do without is absent or empty.
    #[error("{kind} {name} has no {field}")]
    MissingField {
        /// The object's kind.
        kind: &'static str,
        /// The object's name, or `<unnamed>`.
        name: String,
        /// The JSON path of the field.
        field: &'static str,
    },
}

impl ProjectionError {
    /// A fixed label value for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::MissingField { .. } => "missing_field",
        }
    }

    /// The name of the object, when it has one.
    pub fn object_name(&self) -> Option<&str> {
        match self {
            Self::MissingField { name, .. } => Some(name.as_str()).filter(|n| *n != "<unnamed>"),
        }
    }
}

/// The name of an object for error messages, or `<unnamed>`.
fn display_name(name: Option<&String>) -> String {
    name.cloned().unwrap_or_else(|| "<unnamed>".to_owned())
}

/// Converts an API timestamp to ours.
fn ts(time: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<Timestamp> {
    time.map(|t| t.0)
}

/// A required, non-empty name from object metadata.
fn required_name(
    kind: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Result<String, ProjectionError> {
    match meta.name.as_deref() {
        Some(name) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(ProjectionError::MissingField {
            kind,
            name: display_name(None),
            field: "metadata.name",
        }),
    }
}

/// The annotations of an object that dsguard reads (`dsguard.io/…`), nothing else.
fn dsguard_annotations(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Labels {
    meta.annotations
        .iter()
        .flatten()
        .filter(|(k, _)| k.starts_with(DSGUARD_ANNOTATION_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
