//! The emulated controllers' view of the cluster: slim copies of nodes, DaemonSets and pods,
//! kept current from the store's change feed like an informer cache.
//!
//! The engine feeds every change through [`View::apply`]; writes made through the API (a
//! `kubectl cordon`, a deleted pod) reach the controllers the same way as their own.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::Value;

use super::kinds::Kind;
use super::objects::{cpu_millis, template_generation, template_hash};
use super::store::{Change, EventType, Key, Obj, Store};

/// A taint, as the placement code needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value (empty if none).
    pub value: String,
    /// Effect.
    pub effect: String,
}

/// What the controllers know of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    /// Resource version seen.
    pub rv: u64,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
    /// Status of the `Ready` condition (`True`, `False`, `Unknown`).
    pub ready: String,
    /// Allocatable CPU in millicores.
    pub cpu_millis: i64,
    /// Internal IP.
    pub ip: String,
}

/// What the controllers know of a pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodView {
    /// Resource version seen.
    pub rv: u64,
    /// Namespace and name.
    pub key: Key,
    /// The node it is bound to, or the node its `matchFields` affinity names.
    pub node: Option<String>,
    /// Whether `spec.nodeName` is set.
    pub bound: bool,
    /// UID of the controlling DaemonSet.
    pub owner_uid: Option<String>,
    /// `controller-revision-hash` label.
    pub hash: Option<String>,
    /// `pod-template-generation` label.
    pub generation: Option<i64>,
    /// `status.phase`.
    pub phase: String,
    /// Whether the container has been started by the kubelet.
    pub started: bool,
    /// `Ready` condition is `True`.
    pub ready: bool,
    /// When `Ready` last changed.
    pub ready_since: Option<Timestamp>,
    /// `PodScheduled` is `False`.
    pub unschedulable: bool,
    /// When the pod was bound (`PodScheduled` transition).
    pub bound_at: Option<Timestamp>,
    /// `status.startTime`.
    pub started_at: Option<Timestamp>,
    /// `metadata.deletionTimestamp`.
    pub deleting: Option<Timestamp>,
    /// `metadata.deletionGracePeriodSeconds`.
    pub deletion_grace: i64,
    /// `metadata.creationTimestamp`.
    pub created: Option<Timestamp>,
    /// CPU request in millicores.
    pub cpu_millis: i64,
    /// Restart count of the first container.
    pub restarts: i64,
}

/// What the controllers know of a DaemonSet.
#[derive(Debug, Clone)]
pub struct DsView {
    /// Resource version seen.
    pub rv: u64,
    /// Namespace and name.
    pub key: Key,
    /// UID.
    pub uid: String,
    /// The whole object (DaemonSets are few).
    pub object: Value,
    /// Current template generation.
    pub generation: i64,
    /// Hash of the current template.
    pub hash: String,
}

/// The cluster as the controllers see it.
#[derive(Debug, Default)]
pub struct View {
    /// Nodes by name.
    pub nodes: BTreeMap<String, NodeView>,
    /// Pods by key.
    pub pods: HashMap<Key, PodView>,
    /// DaemonSets by key.
    pub daemonsets: BTreeMap<Key, DsView>,
    /// Bumped on every change applied; controllers skip work when it has not moved.
    pub version: u64,
}

fn time(value: &Value) -> Option<Timestamp> {
    value.as_str().and_then(|t| t.parse().ok())
}

fn condition<'a>(value: &'a Value, kind: &str) -> Option<&'a Value> {
    value["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

impl NodeView {
    /// Reads a node object.
    pub fn from_value(value: &Value) -> NodeView {
        let taints = value["spec"]["taints"]
            .as_array()
            .map(|taints| {
                taints
                    .iter()
                    .map(|t| Taint {
                        key: t["key"].as_str().unwrap_or("").into(),
                        value: t["value"].as_str().unwrap_or("").into(),
                        effect: t["effect"].as_str().unwrap_or("").into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        NodeView {
            rv: 0,
            name: value["metadata"]["name"].as_str().unwrap_or("").into(),
            labels: string_map(&value["metadata"]["labels"]),
            taints,
            unschedulable: value["spec"]["unschedulable"] == true,
            ready: condition(value, "Ready")
                .and_then(|c| c["status"].as_str())
                .unwrap_or("Unknown")
                .into(),
            cpu_millis: value["status"]["allocatable"]["cpu"]
                .as_str()
                .and_then(cpu_millis)
                .unwrap_or(0),
            ip: value["status"]["addresses"][0]["address"]
                .as_str()
                .unwrap_or("")
                .into(),
        }
    }
}

impl PodView {
    /// Reads a pod object.
    pub fn from_value(key: Key, value: &Value) -> PodView {
        let spec = &value["spec"];
        let node_name = spec["nodeName"].as_str().filter(|n| !n.is_empty());
        let affinity_node = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]
            .as_str();
        let owner = value["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r["controller"] == true && r["kind"] == "DaemonSet")
            });
        let labels = &value["metadata"]["labels"];
        let ready = condition(value, "Ready");
        let scheduled = condition(value, "PodScheduled");
        let container = &value["status"]["containerStatuses"][0];
        PodView {
            rv: 0,
            key,
            node: node_name.or(affinity_node).map(String::from),
            bound: node_name.is_some(),
            owner_uid: owner.and_then(|o| o["uid"].as_str()).map(String::from),
            hash: labels["controller-revision-hash"]
                .as_str()
                .map(String::from),
            generation: labels["pod-template-generation"]
                .as_str()
                .and_then(|g| g.parse().ok()),
            phase: value["status"]["phase"]
                .as_str()
                .unwrap_or("Pending")
                .into(),
            started: container.is_object(),
            ready: ready.is_some_and(|c| c["status"] == "True"),
            ready_since: ready.and_then(|c| time(&c["lastTransitionTime"])),
            unschedulable: scheduled.is_some_and(|c| c["status"] == "False"),
            bound_at: scheduled
                .filter(|c| c["status"] == "True")
                .and_then(|c| time(&c["lastTransitionTime"])),
            started_at: time(&value["status"]["startTime"]),
            deleting: time(&value["metadata"]["deletionTimestamp"]),
            deletion_grace: value["metadata"]["deletionGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(0),
            created: time(&value["metadata"]["creationTimestamp"]),
            cpu_millis: spec["containers"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| {
                            c["resources"]["requests"]["cpu"]
                                .as_str()
                                .and_then(cpu_millis)
                        })
                        .sum()
                })
                .unwrap_or(0),
            restarts: container["restartCount"].as_i64().unwrap_or(0),
        }
    }
}

impl DsView {
    /// Reads a DaemonSet object.
    pub fn from_value(key: Key, uid: String, value: Value) -> DsView {
        DsView {
            rv: 0,
            key,
            uid,
            generation: template_generation(&value),
            hash: template_hash(&value["spec"]["template"]),
            object: value,
        }
    }
}

impl View {
    /// The version of the object the view holds, if it holds it.
    fn seen(&self, kind: Kind, key: &Key) -> Option<u64> {
        match kind {
            Kind::Node => self.nodes.get(&key.1).map(|n| n.rv),
            Kind::Pod => self.pods.get(key).map(|p| p.rv),
            Kind::DaemonSet => self.daemonsets.get(key).map(|d| d.rv),
            _ => None,
        }
    }

    /// Applies one change from the store; changes the view already has (the engine applies
    /// its own writes at once) are skipped without parsing.
    pub fn apply(&mut self, change: &Change) {
        let obj = &change.obj;
        if change.event_type == EventType::Deleted {
            self.remove(obj.kind, &obj.key);
        } else if self.seen(obj.kind, &obj.key).is_none_or(|rv| rv < obj.rv) {
            self.upsert(obj);
        }
    }

    /// Forgets an object.
    pub fn remove(&mut self, kind: Kind, key: &Key) {
        let removed = match kind {
            Kind::Node => self.nodes.remove(&key.1).is_some(),
            Kind::Pod => self.pods.remove(key).is_some(),
            Kind::DaemonSet => self.daemonsets.remove(key).is_some(),
            _ => false,
        };
        if removed {
            self.version += 1;
        }
    }

    /// Takes in the current state of an object. A change the controllers cannot see (a
    /// heartbeat's timestamp) does not bump the version, so they are not re-run for it.
    pub fn upsert(&mut self, obj: &Obj) {
        if !matches!(obj.kind, Kind::Node | Kind::Pod | Kind::DaemonSet) {
            return;
        }
        let Ok(value) = serde_json::from_slice::<Value>(&obj.body) else {
            return;
        };
        let changed = match obj.kind {
            Kind::Node => {
                let node = NodeView {
                    rv: obj.rv,
                    ..NodeView::from_value(&value)
                };
                let old = self.nodes.insert(obj.key.1.clone(), node.clone());
                old.is_none_or(|old| NodeView { rv: obj.rv, ..old } != node)
            }
            Kind::Pod => {
                let pod = PodView {
                    rv: obj.rv,
                    ..PodView::from_value(obj.key.clone(), &value)
                };
                let old = self.pods.insert(obj.key.clone(), pod.clone());
                old.is_none_or(|old| PodView { rv: obj.rv, ..old } != pod)
            }
            _ => {
                let ds = DsView::from_value(obj.key.clone(), obj.uid.clone(), value);
                self.daemonsets
                    .insert(obj.key.clone(), DsView { rv: obj.rv, ..ds });
                true
            }
        };
        if changed {
            self.version += 1;
        }
    }

    /// Rebuilds the whole view from the store (after the change feed lagged).
    pub fn resync(&mut self, store: &Store) {
        *self = View {
            version: self.version + 1,
            ..View::default()
        };
        for kind in [Kind::Node, Kind::Pod, Kind::DaemonSet] {
            for obj in store.list(kind, None).1 {
                self.upsert(&obj);
            }
        }
    }
}
