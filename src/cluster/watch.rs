//! Watchers: one `kube` watcher per resource (Nodes, DaemonSets, daemon pods), each turning the
//! API's events into [`WatchEvent`]s of slim objects on a channel to the model task.
//!
//! Objects arrive already projected, one [`Item`] each, so that a malformed object is counted
//! and skipped instead of failing the whole list. The watcher keeps no state of its own: a relist
//! (after a 410 or a dropped watch) is reported as `Listing`, the listed objects and `Synced`,
//! and the model deletes what it holds that the new list did not contain.

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;

use super::item::{DaemonSets, Item, Kind, Nodes, Pods};
use super::settings::PodWatch;
use super::{
    DaemonSetInfo, LabelSets, NodeInfo, ObjectKey, POD_TEMPLATE_GENERATION_LABEL, PodInfo,
};

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
// DaemonSets are a few dozen per cluster, pods tens of thousands; an event is moved, never kept,
// so its size matters less than an allocation per DaemonSet event would (and `Object::DaemonSet`
// is built by value all over the tests).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Object {
    /// A node.
    Node(NodeInfo),
    /// A DaemonSet.
    DaemonSet(DaemonSetInfo),
    /// A daemon pod.
    Pod(PodInfo),
}

impl Object {
    /// The resource it is one of.
    pub fn resource(&self) -> Resource {
        match self {
            Self::Node(_) => Resource::Nodes,
            Self::DaemonSet(_) => Resource::DaemonSets,
            Self::Pod(_) => Resource::Pods,
        }
    }

    /// Its identity.
    pub fn reference(&self) -> ObjectRef {
        match self {
            Self::Node(n) => ObjectRef::Node(n.name.clone()),
            Self::DaemonSet(d) => ObjectRef::DaemonSet(d.key.clone()),
            Self::Pod(p) => ObjectRef::Pod(p.key.clone()),
        }
    }
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
/// `unserializable` is no longer produced (objects are parsed once, never serialized back); it
/// stays so that the metric's series keep their names.
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
    let config = watcher::Config::default();
    match resource {
        Resource::Nodes => watch::<Nodes>(client, config, tx).await,
        Resource::DaemonSets => watch::<DaemonSets>(client, config, tx).await,
        Resource::Pods => {
            let config = match pods {
                PodWatch::Daemon => config.labels(POD_TEMPLATE_GENERATION_LABEL),
                PodWatch::All => config,
            };
            watch::<Pods>(client, config, tx).await
        }
    }
}

async fn watch<K: Kind>(
    client: kube::Client,
    config: watcher::Config,
    tx: mpsc::Sender<WatchEvent>,
) {
    let resource = K::RESOURCE;
    let client = super::watch_starts::reporting_watch_starts(client, resource, tx.clone());
    let api: Api<Item<K>> = Api::all(client);
    let mut stream = watcher(api, config).default_backoff().boxed();
    let mut labels = LabelSets::default();
    while let Some(item) = stream.next().await {
        let event = match item {
            Ok(watcher::Event::Init) => WatchEvent::Listing(resource),
            Ok(watcher::Event::InitApply(item) | watcher::Event::Apply(item)) => {
                applied(item, &mut labels)
            }
            Ok(watcher::Event::InitDone) => WatchEvent::Synced(resource),
            Ok(watcher::Event::Delete(item)) => match reference(&item) {
                Some(r) => WatchEvent::Deleted(r),
                None => WatchEvent::Malformed(resource, "missing_field"),
            },
            Err(error) => {
                tracing::warn!(resource = resource.as_str(), %error, "watch failed; retrying with backoff");
                WatchEvent::Failed(resource, error_label(&error))
            }
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

/// An object that was added or changed, or why it was skipped. Pods without a DaemonSet owner
/// are passed on too: the model drops them (and the one it held, if the owner was removed). A
/// pod's labels are shared with the pods that have the same.
fn applied<K: Kind>(item: Item<K>, labels: &mut LabelSets) -> WatchEvent {
    match item.object {
        Ok(Object::Pod(mut pod)) => {
            pod.labels = labels.share(pod.labels);
            WatchEvent::Applied(Object::Pod(pod))
        }
        Ok(object) => WatchEvent::Applied(object),
        Err(label) => {
            tracing::warn!(
                resource = K::RESOURCE.as_str(),
                name = item.name().unwrap_or("<unnamed>"),
                reason = label,
                "malformed object skipped"
            );
            WatchEvent::Malformed(K::RESOURCE, label)
        }
    }
}

/// The identity of a deleted object: from its projection, or from its metadata when it has
/// none.
fn reference<K: Kind>(item: &Item<K>) -> Option<ObjectRef> {
    if let Ok(object) = &item.object {
        return Some(object.reference());
    }
    let name = item.name()?.to_owned();
    let key = || ObjectKey::new(item.namespace().unwrap_or_default(), name.clone());
    Some(match K::RESOURCE {
        Resource::Nodes => ObjectRef::Node(name.clone()),
        Resource::DaemonSets => ObjectRef::DaemonSet(key()),
        Resource::Pods => ObjectRef::Pod(key()),
    })
}
