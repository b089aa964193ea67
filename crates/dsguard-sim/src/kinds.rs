//! The resource kinds the simulated API server serves, and the discovery documents that list them.
//!
//! Every route, list and watch in `server/` starts by resolving a URL segment (`pods`, `daemonsets`)
//! to a [`Kind`]; discovery answers are built from the same table, in the shape the real
//! kube-apiserver v1.28 gives (`shared/fixtures/real-k8s/api/api-v1.json` and its siblings).

use serde_json::{Value, json};

/// A resource kind served by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `v1` Node (cluster scoped).
    Node,
    /// `v1` Pod.
    Pod,
    /// `v1` Namespace (cluster scoped).
    Namespace,
    /// `v1` Event.
    Event,
    /// `v1` ConfigMap.
    ConfigMap,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `apps/v1` ControllerRevision.
    ControllerRevision,
    /// `coordination.k8s.io/v1` Lease.
    Lease,
}

/// Static facts about one kind, as discovery publishes them.
#[derive(Debug)]
pub struct KindInfo {
    /// The kind name, e.g. `Pod`.
    pub kind: &'static str,
    /// The URL plural, e.g. `pods`.
    pub plural: &'static str,
    /// The singular name, e.g. `pod`.
    pub singular: &'static str,
    /// API group; empty for the core group.
    pub group: &'static str,
    /// `apiVersion` of the objects, e.g. `apps/v1`.
    pub api_version: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names kubectl accepts.
    pub short_names: &'static [&'static str],
    /// The storage version hash the real server publishes (copied from the v1.28 fixtures).
    pub storage_version_hash: &'static str,
    /// Whether the kind has a `/status` subresource.
    pub has_status: bool,
}

/// All kinds, in discovery order.
pub const ALL: [Kind; 8] = [
    Kind::ConfigMap,
    Kind::Event,
    Kind::Namespace,
    Kind::Node,
    Kind::Pod,
    Kind::ControllerRevision,
    Kind::DaemonSet,
    Kind::Lease,
];

impl Kind {
    /// The static facts about this kind.
    pub fn info(self) -> &'static KindInfo {
        match self {
            Kind::Node => &NODE,
            Kind::Pod => &POD,
            Kind::Namespace => &NAMESPACE,
            Kind::Event => &EVENT,
            Kind::ConfigMap => &CONFIG_MAP,
            Kind::DaemonSet => &DAEMONSET,
            Kind::ControllerRevision => &CONTROLLER_REVISION,
            Kind::Lease => &LEASE,
        }
    }

    /// Resolves a group (empty for core) and a URL plural to a kind.
    pub fn from_plural(group: &str, plural: &str) -> Option<Kind> {
        ALL.into_iter()
            .find(|kind| kind.info().group == group && kind.info().plural == plural)
    }

    /// The resource as the real server names it in messages: the plural, qualified by the
    /// group outside the core group (`nodes`, `leases.coordination.k8s.io`).
    pub fn qualified_resource(self) -> String {
        let info = self.info();
        if info.group.is_empty() {
            info.plural.to_string()
        } else {
            format!("{}.{}", info.plural, info.group)
        }
    }

    /// The list kind, e.g. `PodList`.
    pub fn list_kind(self) -> String {
        format!("{}List", self.info().kind)
    }
}

const NODE: KindInfo = KindInfo {
    kind: "Node",
    plural: "nodes",
    singular: "node",
    group: "",
    api_version: "v1",
    namespaced: false,
    short_names: &["no"],
    storage_version_hash: "XwShjMxG9Fs=",
    has_status: true,
};
const POD: KindInfo = KindInfo {
    kind: "Pod",
    plural: "pods",
    singular: "pod",
    group: "",
    api_version: "v1",
    namespaced: true,
    short_names: &["po"],
    storage_version_hash: "xPOwRZ+Yhw8=",
    has_status: true,
};
const NAMESPACE: KindInfo = KindInfo {
    kind: "Namespace",
    plural: "namespaces",
    singular: "namespace",
    group: "",
    api_version: "v1",
    namespaced: false,
    short_names: &["ns"],
    storage_version_hash: "Q3oi5N2YM8M=",
    has_status: true,
};
const EVENT: KindInfo = KindInfo {
    kind: "Event",
    plural: "events",
    singular: "event",
    group: "",
    api_version: "v1",
    namespaced: true,
    short_names: &["ev"],
    storage_version_hash: "r2yiGXH7wu8=",
    has_status: false,
};
const CONFIG_MAP: KindInfo = KindInfo {
    kind: "ConfigMap",
    plural: "configmaps",
    singular: "configmap",
    group: "",
    api_version: "v1",
    namespaced: true,
    short_names: &["cm"],
    storage_version_hash: "qFsyl6wFWjQ=",
    has_status: false,
};
const DAEMONSET: KindInfo = KindInfo {
    kind: "DaemonSet",
    plural: "daemonsets",
    singular: "daemonset",
    group: "apps",
    api_version: "apps/v1",
    namespaced: true,
    short_names: &["ds"],
    storage_version_hash: "dd7pWHUlMKQ=",
    has_status: true,
};
const CONTROLLER_REVISION: KindInfo = KindInfo {
    kind: "ControllerRevision",
    plural: "controllerrevisions",
    singular: "controllerrevision",
    group: "apps",
    api_version: "apps/v1",
    namespaced: true,
    short_names: &[],
    storage_version_hash: "85nkx63pcBU=",
    has_status: false,
};
const LEASE: KindInfo = KindInfo {
    kind: "Lease",
    plural: "leases",
    singular: "lease",
    group: "coordination.k8s.io",
    api_version: "coordination.k8s.io/v1",
    namespaced: true,
    short_names: &[],
    storage_version_hash: "gqkMMb/YqFM=",
    has_status: false,
};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_entries(kind: Kind) -> Vec<Value> {
    let info = kind.info();
    // Namespaces are the one kind without `deletecollection`.
    let verbs: Vec<&str> = VERBS
        .into_iter()
        .filter(|verb| kind != Kind::Namespace || *verb != "deletecollection")
        .collect();
    let mut main = json!({
        "name": info.plural,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": verbs,
    });
    if !info.short_names.is_empty() {
        main["shortNames"] = json!(info.short_names);
    }
    if matches!(kind, Kind::Pod | Kind::DaemonSet) {
        main["categories"] = json!(["all"]);
    }
    main["storageVersionHash"] = json!(info.storage_version_hash);
    let mut entries = vec![main];
    if info.has_status {
        entries.push(json!({
            "name": format!("{}/status", info.plural),
            "singularName": "",
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": ["get", "patch", "update"],
        }));
    }
    entries
}

/// The `APIResourceList` of one group version (`v1`, `apps/v1`, `coordination.k8s.io/v1`), or
/// `None` when the simulator does not serve it.
pub fn resource_list(group_version: &str) -> Option<Value> {
    let resources: Vec<Value> = ALL
        .into_iter()
        .filter(|kind| kind.info().api_version == group_version)
        .flat_map(resource_entries)
        .collect();
    if resources.is_empty() {
        return None;
    }
    // The real core list carries no `apiVersion`, the group lists do (see the fixtures).
    Some(if group_version == "v1" {
        json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": resources})
    } else {
        json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        })
    })
}

/// The `APIGroupList` served at `/apis`.
pub fn group_list() -> Value {
    let groups: Vec<Value> = ["apps/v1", "coordination.k8s.io/v1"]
        .into_iter()
        .map(|gv| {
            let (name, version) = gv.split_once('/').unwrap_or((gv, "v1"));
            json!({
                "name": name,
                "versions": [{"groupVersion": gv, "version": version}],
                "preferredVersion": {"groupVersion": gv, "version": version},
            })
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// The `APIVersions` document served at `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// The `/version` document: the simulator presents itself as the v1.28.0 server the fixtures
/// were recorded from.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "28",
        "gitVersion": "v1.28.0",
        "gitCommit": "8bfc72d03e2130f1bee566d692596931b0ff57cf",
        "gitTreeState": "archive",
        "buildDate": "2026-11-21T23:27:59Z",
        "goVersion": "go1.21.13",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}
