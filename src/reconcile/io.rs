//! The executor's I/O: the DaemonSets' opt-out annotations, the force delete with its live
//! re-checks, and the Kubernetes Events that record what was done.
//!
//! A force delete is checked against the live objects first, never only against the model: the
//! pod must still be bound to the planned node, still be terminating past its deadline (for a
//! stuck pod), its node must still be gone (or out of service), and neither its DaemonSet nor its
//! node may have opted out. The delete carries the pod's UID as a precondition, so a pod that was
//! recreated under the same name in the meantime is never deleted.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Event, EventSource, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams, Preconditions};

use super::action::{Action, ActionKind};
use super::decide::Outcome;
use super::optout::Consent;
use super::plan::DaemonSetAnnotations;
use crate::base::Timestamp;
use crate::cluster::{DSGUARD_ANNOTATION_PREFIX, ObjectKey, TAINT_OUT_OF_SERVICE};

/// Tries of one API call that fails transiently (5xx, 429, connection): a short burst within
/// the run; the decider's backoff takes over across runs.
const TRANSIENT_TRIES: usize = 3;

/// Why a reconcile API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The API server answered with an error status.
    #[error("the API server refused {what}: {status}")]
    Api {
        /// What was attempted, e.g. `delete pod ns/name`.
        what: String,
        /// The server's status.
        status: String,
        /// The HTTP code.
        code: u16,
    },
    /// The request did not complete.
    #[error("{what} failed: {source}")]
    Request {
        /// What was attempted.
        what: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
}

impl ReconcileError {
    /// A fixed label value.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Api { code: 403, .. } => "forbidden",
            Self::Api { code: 409, .. } => "conflict",
            Self::Api { code, .. } if *code >= 500 => "server_error",
            Self::Api { .. } => "refused",
            Self::Request { .. } => "request_failed",
        }
    }

    fn from_kube(what: String, error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) => Self::Api {
                what,
                code: status.code,
                status: status.message.clone(),
            },
            source => Self::Request { what, source },
        }
    }

    fn is_transient(&self) -> bool {
        match self {
            Self::Api { code, .. } => *code == 429 || *code >= 500,
            Self::Request { .. } => true,
        }
    }

    fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { code: 404, .. })
    }
}

/// Runs `call` up to [`TRANSIENT_TRIES`] times while it fails transiently.
async fn with_retries<T, F, Fut>(what: &str, mut call: F) -> Result<T, ReconcileError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(TRANSIENT_TRIES - 1)
        .build();
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                let error = ReconcileError::from_kube(what.to_owned(), error);
                match delays.next() {
                    Some(delay) if error.is_transient() => tokio::time::sleep(delay).await,
                    _ => return Err(error),
                }
            }
        }
    }
}

/// Lists every DaemonSet's `dsguard.io/…` annotations.
pub async fn daemonset_annotations(
    client: &kube::Client,
) -> Result<DaemonSetAnnotations, ReconcileError> {
    let api = Api::<DaemonSet>::all(client.clone());
    let params = ListParams::default();
    let list = with_retries("list daemonsets", || api.list(&params)).await?;
    Ok(list
        .items
        .iter()
        .map(|ds| {
            let key = ObjectKey::new(
                ds.metadata.namespace.clone().unwrap_or_default(),
                ds.metadata.name.clone().unwrap_or_default(),
            );
            let annotations = ds
                .metadata
                .annotations
                .iter()
                .flatten()
                .filter(|(k, _)| k.starts_with(DSGUARD_ANNOTATION_PREFIX))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (key, annotations)
        })
        .collect())
}

/// What an execution came to, with the objects the Events are about.
#[derive(Debug)]
pub struct Executed {
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in words (for logs and Events).
    pub detail: String,
    /// The live pod's UID, when read.
    pub pod_uid: Option<String>,
    /// The live DaemonSet's UID, when read.
    pub daemonset_uid: Option<String>,
}

impl Executed {
    fn stale(detail: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Stale,
            detail: detail.into(),
            pod_uid: None,
            daemonset_uid: None,
        }
    }
}

/// Executes a delete action: live re-checks, then a force delete with the UID precondition.
/// `sighted` is asked right before the delete; when it says dsguard turned blind, nothing is
/// deleted.
pub async fn execute(
    client: &kube::Client,
    action: &Action,
    termination_slack: jiff::SignedDuration,
    now: Timestamp,
    sighted: impl Fn() -> bool,
) -> Result<Executed, ReconcileError> {
    let (Some(key), Some(node_name), Some((ds_key, _))) =
        (&action.pod, &action.node, action.cells.first())
    else {
        return Ok(Executed::stale("the action names no pod"));
    };
    let pods = Api::<Pod>::namespaced(client.clone(), &key.namespace);
    let what = format!("get pod {key}");
    let pod = match with_retries(&what, || pods.get(&key.name)).await {
        Err(e) if e.is_not_found() => return Ok(Executed::stale("the pod is already gone")),
        other => other?,
    };
    let uid = pod.metadata.uid.clone();
    if pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(node_name.as_str()) {
        return Ok(Executed::stale(
            "the pod is no longer bound to the planned node",
        ));
    }
    if action.kind == ActionKind::DeleteStuckPod {
        let deadline = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0);
        if deadline.is_none_or(|d| d + termination_slack > now) {
            return Ok(Executed::stale(
                "the pod is not terminating past its grace period",
            ));
        }
    }
    let nodes = Api::<Node>::all(client.clone());
    let what = format!("get node {node_name}");
    match with_retries(&what, || nodes.get(node_name)).await {
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
        Ok(node) => {
            let out_of_service = node
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .is_some_and(|t| t.iter().any(|t| t.key == TAINT_OUT_OF_SERVICE));
            if action.kind == ActionKind::DeleteOrphanedPod || !out_of_service {
                return Ok(Executed::stale("the node exists and is not out of service"));
            }
            let consent = Consent::of(&dsguard_annotations(&node.metadata));
            if let Some(reason) = consent.opt_out_reason(&format!("node {node_name}")) {
                return Ok(opted_out(reason, uid, None));
            }
        }
    }
    let daemonsets = Api::<DaemonSet>::namespaced(client.clone(), &ds_key.namespace);
    let what = format!("get daemonset {ds_key}");
    let ds = match with_retries(&what, || daemonsets.get_opt(&ds_key.name)).await? {
        Some(ds) => ds,
        None => return Ok(Executed::stale("the DaemonSet is gone")),
    };
    let ds_uid = ds.metadata.uid.clone();
    let consent = Consent::of(&dsguard_annotations(&ds.metadata));
    if let Some(reason) = consent.opt_out_reason(&format!("daemonset {ds_key}")) {
        return Ok(opted_out(reason, uid, ds_uid));
    }
    if !sighted() {
        return Ok(Executed {
            outcome: Outcome::SkippedBlind,
            detail: "dsguard turned blind before the delete".to_owned(),
            pod_uid: uid,
            daemonset_uid: ds_uid,
        });
    }
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let what = format!("delete pod {key}");
    match with_retries(&what, || pods.delete(&key.name, &params)).await {
        Err(e) if e.is_not_found() => Ok(Executed::stale("the pod is already gone")),
        Err(ReconcileError::Api { code: 409, .. }) => Ok(Executed::stale(
            "the pod was replaced by another of the same name (UID precondition)",
        )),
        Err(e) => Err(e),
        Ok(_) => Ok(Executed {
            outcome: Outcome::Executed,
            detail: format!("force-deleted pod {key} (grace 0): {}", action.reason),
            pod_uid: uid,
            daemonset_uid: ds_uid,
        }),
    }
}

fn opted_out(reason: String, pod_uid: Option<String>, ds_uid: Option<String>) -> Executed {
    Executed {
        outcome: Outcome::OptedOut,
        detail: reason,
        pod_uid,
        daemonset_uid: ds_uid,
    }
}

fn dsguard_annotations(meta: &ObjectMeta) -> crate::cluster::Labels {
    meta.annotations
        .iter()
        .flatten()
        .filter(|(k, _)| k.starts_with(DSGUARD_ANNOTATION_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The Event `reason` for an outcome.
pub fn event_reason(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Executed => ("ForceDeleted", "Normal"),
        Outcome::DryRun => ("WouldForceDelete", "Normal"),
        _ => ("ForceDeleteFailed", "Warning"),
    }
}

/// Records a core/v1 Event about the action on the pod and on its DaemonSet. Failures are
/// returned for the caller to log; they never undo or fail the action.
pub async fn record_events(
    client: &kube::Client,
    action: &Action,
    outcome: Outcome,
    message: &str,
    uids: (Option<String>, Option<String>),
    now: Timestamp,
) -> Result<(), ReconcileError> {
    let (Some(pod), Some((ds, _))) = (&action.pod, action.cells.first()) else {
        return Ok(());
    };
    let (reason, type_) = event_reason(outcome);
    let targets = [
        ("Pod", "v1", pod, uids.0),
        ("DaemonSet", "apps/v1", ds, uids.1),
    ];
    let events = Api::<Event>::namespaced(client.clone(), &pod.namespace);
    for (kind, api_version, key, uid) in targets {
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!(
                    "{}.{:x}",
                    key.name,
                    now.as_nanosecond() as u64 ^ (kind.len() as u64)
                )),
                namespace: Some(key.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                kind: Some(kind.to_owned()),
                api_version: Some(api_version.to_owned()),
                namespace: Some(key.namespace.clone()),
                name: Some(key.name.clone()),
                uid,
                ..ObjectReference::default()
            },
            reason: Some(reason.to_owned()),
            message: Some(message.chars().take(1024).collect()),
            type_: Some(type_.to_owned()),
            action: Some("ForceDelete".to_owned()),
            source: Some(EventSource {
                component: Some("dsguard".to_owned()),
                host: None,
            }),
            reporting_component: Some("dsguard".to_owned()),
            reporting_instance: Some("dsguard".to_owned()),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            count: Some(1),
            ..Event::default()
        };
        let what = format!("create event on {kind} {key}");
        let params = PostParams::default();
        with_retries(&what, || events.create(&params, &event)).await?;
    }
    Ok(())
}
