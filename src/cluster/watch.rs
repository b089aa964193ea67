//! Watchers: one `kube` watcher per resource (Nodes, DaemonSets, daemon pods), each turning the
//! API's events into [`WatchEvent`]s of slim objects on a channel to the model task.
//!
//! Objects are received untyped and projected here, one by one, so that a malformed object is
//! counted and skipped instead of failing the whole list. A relist (after a 410 or a dropped
//! watch) is reconciled here too: objects that were known before and are absent from the new
//! list are reported deleted, so the model ends with exactly the server's state.

use std::collections::HashSet;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;

use super::settings::PodWatch;
use super::{DaemonSetInfo, NodeInfo, ObjectKey, POD_TEMPLATE_GENERATION_LABEL, PodInfo};

/// A watched resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// Nodes.
    Nodes,
    /// DaemonSets.
    DaemonSets,
    /// Daemon pods.
    Pods,
}

impl Resource {
    /// Every resource dsguard watches.
    pub const ALL: [Self; 3] = [Self::Nodes, Self::DaemonSets, Self::Pods];

    /// A fixed label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nodes => "nodes",
            Self::DaemonSets => "daemonsets",
            Self::Pods => "pods",
        }
    }
}

/// A slim object from a watch.
#[derive(Clone, Debug)]
pub enum Object {
    /// A node.
    Node(NodeInfo),
    /// A DaemonSet.
    DaemonSet(DaemonSetInfo),
    /// A daemon pod.
    Pod(PodInfo),
}

/// The identity of a watched object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjectRef {
    /// A node by name.
    Node(String),
    /// A DaemonSet.
    DaemonSet(ObjectKey),
    /// A pod.
    Pod(ObjectKey),
}

/// What a watcher tells the model.
// Nearly every event is `Applied`: boxing it would allocate per event to shrink the rare others.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum WatchEvent {
    /// A list (first, or after the watch was lost) started.
    Listing(Resource),
    /// An object was added or changed.
    Applied(Object),
    /// An object was deleted (or was absent from a relist).
    Deleted(ObjectRef),
    /// The list completed: the model holds what the server has.
    Synced(Resource),
    /// The API server accepted a watch (the first after a list, or a restart after a dropped or
    /// failed one): the watch is live again even if nothing changes on it.
    WatchStarted(Resource),
    /// The watch failed; the watcher retries with backoff.
    Failed(Resource, &'static str),
    /// An object could not be projected; it is skipped.
    Malformed(Resource, &'static str),
}

/// Every value [`error_label`] can return, so that metrics can start each at zero.
pub const FAILURE_REASONS: [&str; 6] = [
    "list_failed",
    "watch_start_failed",
    "expired",
    "watch_error",
    "watch_failed",
    "other",
];

/// Every reason a malformed object is skipped for (projection errors' labels included).
pub const MALFORMED_REASONS: [&str; 3] = ["unserializable", "schema", "missing_field"];

/// A fixed label for a watcher error.
fn error_label(error: &watcher::Error) -> &'static str {
    match error {
        watcher::Error::InitialListFailed(_) => "list_failed",
        watcher::Error::WatchStartFailed(_) => "watch_start_failed",
        watcher::Error::WatchError(status) if status.code == 410 => "expired",
        watcher::Error::WatchError(_) => "watch_error",
        watcher::Error::WatchFailed(_) => "watch_failed",
        _ => "other",
    }
}

/// Watches one resource until the receiver goes away.
pub async fn run(
    client: kube::Client,
    resource: Resource,
    pods: PodWatch,
    tx: mpsc::Sender<WatchEvent>,
) {
    let (api_resource, config) = match resource {
        Resource::Nodes => (ApiResource::erase::<Node>(&()), watcher::Config::default()),
        Resource::DaemonSets => (
            ApiResource::erase::<DaemonSet>(&()),
            watcher::Config::default(),
        ),
        Resource::Pods => {
            let config = match pods {
                PodWatch::Daemon => {
                    watcher::Config::default().labels(POD_TEMPLATE_GENERATION_LABEL)
                }
                PodWatch::All => watcher::Config::default(),
            };
            (ApiResource::erase::<Pod>(&()), config)
        }
    };
    let client = super::watch_starts::reporting_watch_starts(client, resource, tx.clone());
    let api: Api<DynamicObject> = Api::all_with(client, &api_resource);
    let mut stream = watcher(api, config).default_backoff().boxed();
    let mut known: HashSet<ObjectRef> = HashSet::new();
    let mut listing: HashSet<ObjectRef> = HashSet::new();
    while let Some(item) = stream.next().await {
        let events = match item {
            Ok(watcher::Event::Init) => {
                listing.clear();
                vec![WatchEvent::Listing(resource)]
            }
            Ok(watcher::Event::InitApply(object)) => {
                let event = project(resource, &object, &mut known);
                if let Some(WatchEvent::Applied(applied)) = &event {
                    listing.insert(object_ref(applied));
                }
                event.into_iter().collect()
            }
            Ok(watcher::Event::InitDone) => {
                let gone: Vec<ObjectRef> = known.difference(&listing).cloned().collect();
                known = std::mem::take(&mut listing);
                let mut events: Vec<_> = gone.into_iter().map(WatchEvent::Deleted).collect();
                events.push(WatchEvent::Synced(resource));
                events
            }
            Ok(watcher::Event::Apply(object)) => {
                project(resource, &object, &mut known).into_iter().collect()
            }
            Ok(watcher::Event::Delete(object)) => match reference(resource, &object) {
                Some(r) => {
                    known.remove(&r);
                    vec![WatchEvent::Deleted(r)]
                }
                None => vec![WatchEvent::Malformed(resource, "missing_field")],
            },
            Err(error) => {
                tracing::warn!(resource = resource.as_str(), %error, "watch failed; retrying with backoff");
                vec![WatchEvent::Failed(resource, error_label(&error))]
            }
        };
        for event in events {
            if tx.send(event).await.is_err() {
                return;
            }
        }
    }
}

/// Projects an object; a pod without a DaemonSet owner is dropped (and reported deleted if it
/// was known: its owner reference was removed).
fn project(
    resource: Resource,
    object: &DynamicObject,
    known: &mut HashSet<ObjectRef>,
) -> Option<WatchEvent> {
    match parse(resource, object) {
        Ok(Object::Pod(pod)) if pod.owner.is_none() => {
            let r = ObjectRef::Pod(pod.key);
            known.remove(&r).then_some(WatchEvent::Deleted(r))
        }
        Ok(parsed) => {
            known.insert(object_ref(&parsed));
            Some(WatchEvent::Applied(parsed))
        }
        Err(label) => {
            let name = object.metadata.name.as_deref().unwrap_or("<unnamed>");
            tracing::warn!(
                resource = resource.as_str(),
                name,
                reason = label,
                "malformed object skipped"
            );
            Some(WatchEvent::Malformed(resource, label))
        }
    }
}

fn parse(resource: Resource, object: &DynamicObject) -> Result<Object, &'static str> {
    let value = serde_json::to_value(object).map_err(|_| "unserializable")?;
    fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, &'static str> {
        serde_path_to_error::deserialize(value).map_err(|_| "schema")
    }
    match resource {
        Resource::Nodes => NodeInfo::from_api(&typed(value)?).map(Object::Node),
        Resource::DaemonSets => DaemonSetInfo::from_api(&typed(value)?).map(Object::DaemonSet),
        Resource::Pods => PodInfo::from_api(&typed(value)?).map(Object::Pod),
    }
    .map_err(|e| e.metric_label())
}

fn reference(resource: Resource, object: &DynamicObject) -> Option<ObjectRef> {
    let name = object.metadata.name.clone()?;
    let key = || {
        ObjectKey::new(
            object.metadata.namespace.clone().unwrap_or_default(),
            name.clone(),
        )
    };
    Some(match resource {
        Resource::Nodes => ObjectRef::Node(name.clone()),
        Resource::DaemonSets => ObjectRef::DaemonSet(key()),
        Resource::Pods => ObjectRef::Pod(key()),
    })
}

fn object_ref(object: &Object) -> ObjectRef {
    match object {
        Object::Node(n) => ObjectRef::Node(n.name.clone()),
        Object::DaemonSet(d) => ObjectRef::DaemonSet(d.key.clone()),
        Object::Pod(p) => ObjectRef::Pod(p.key.clone()),
    }
}
