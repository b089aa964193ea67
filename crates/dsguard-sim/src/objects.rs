//! The JSON of the objects the emulated cluster writes, and the edits its controllers make to
//! them, shaped after the real objects in `tests/fixtures/real-k8s/story2/` of the workspace.
//!
//! Builders (`node`, `daemonset`, `daemon_pod`) make new objects; the other functions change an
//! object in place and are what `engine.rs` hands to `Store::modify`. They are plain functions of
//! JSON so that each can be tested alone.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::scenario::{DaemonSetSpec, Effect, TaintSpec, TolerationOperator, TolerationSpec};

/// Taint the node lifecycle controller puts on a node that stopped heartbeating.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Taint for a node that reports not ready.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Taint `kubectl cordon` implies.
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// Parses a CPU quantity (`4`, `500m`, `0.5`) into millicores.
pub fn cpu_millis(quantity: &str) -> Option<i64> {
    let quantity = quantity.trim();
    if let Some(m) = quantity.strip_suffix('m') {
        return m.parse().ok();
    }
    quantity
        .parse::<f64>()
        .ok()
        .map(|cores| (cores * 1000.0).round() as i64)
}

/// A taint as JSON.
pub fn taint_json(taint: &TaintSpec) -> Value {
    let mut value = json!({"key": taint.key, "effect": taint.effect.as_str()});
    if let Some(v) = &taint.value {
        value["value"] = json!(v);
    }
    value
}

/// A toleration as JSON.
pub fn toleration_json(toleration: &TolerationSpec) -> Value {
    let mut value = json!({});
    if let Some(key) = &toleration.key {
        value["key"] = json!(key);
    }
    let operator = toleration.operator.unwrap_or(if toleration.key.is_none() {
        TolerationOperator::Exists
    } else {
        TolerationOperator::Equal
    });
    value["operator"] = json!(match operator {
        TolerationOperator::Exists => "Exists",
        TolerationOperator::Equal => "Equal",
    });
    if let Some(v) = &toleration.value {
        value["value"] = json!(v);
    }
    if let Some(effect) = toleration.effect {
        value["effect"] = json!(effect.as_str());
    }
    value
}

/// A Node object as a kubelet registers it; `index` picks its IP address.
pub fn node(
    name: &str,
    labels: &BTreeMap<String, String>,
    taints: &[TaintSpec],
    cpu: &str,
    memory: &str,
    index: usize,
    now: Timestamp,
) -> Value {
    let mut labels = labels.clone();
    labels.insert("kubernetes.io/hostname".into(), name.into());
    labels
        .entry("kubernetes.io/os".into())
        .or_insert_with(|| "linux".into());
    let resources = json!({"cpu": cpu, "memory": memory, "pods": "110"});
    let mut spec = json!({});
    if !taints.is_empty() {
        spec["taints"] = taints.iter().map(taint_json).collect();
    }
    let mut node = json!({
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": spec,
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [],
            "addresses": [
                {"type": "InternalIP", "address": node_ip(index)},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://1.7.2",
                "kernelVersion": "6.1.0-sim", "kubeProxyVersion": "v1.28.0", "kubeletVersion": "v1.28.0",
                "machineID": "", "operatingSystem": "linux", "osImage": "dsguard sim", "systemUUID": "",
            },
        },
    });
    heartbeat(&mut node, now);
    node
}

/// The node's internal IP.
pub fn node_ip(index: usize) -> String {
    format!("10.0.{}.{}", index / 250, index % 250 + 1)
}

fn condition_pos(conditions: &[Value], kind: &str) -> Option<usize> {
    conditions.iter().position(|c| c["type"] == kind)
}

/// Sets a node condition, keeping `lastTransitionTime` unless the status changes.
fn set_node_condition(
    node: &mut Value,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    heartbeat: Option<&str>,
) {
    if !node["status"]["conditions"].is_array() {
        node["status"]["conditions"] = json!([]);
    }
    let conditions = node["status"]["conditions"]
        .as_array_mut()
        .expect("made an array above");
    let old = condition_pos(conditions, kind).map(|i| conditions.remove(i));
    let transition = match &old {
        Some(old) if old["status"] == status => old["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let heartbeat = match heartbeat {
        Some(at) => json!(at),
        None => old
            .as_ref()
            .map_or(Value::Null, |o| o["lastHeartbeatTime"].clone()),
    };
    conditions.push(json!({
        "type": kind, "status": status, "reason": reason, "message": message,
        "lastHeartbeatTime": heartbeat, "lastTransitionTime": transition,
    }));
    conditions.sort_by_key(|c| match c["type"].as_str() {
        Some("Ready") => 0,
        Some("MemoryPressure") => 1,
        Some("DiskPressure") => 2,
        _ => 3,
    });
}

/// A live kubelet posts its status: Ready=True and no pressure.
pub fn heartbeat(node: &mut Value, now: Timestamp) {
    let now = rfc3339(now);
    let at = Some(now.as_str());
    set_node_condition(
        node,
        "Ready",
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
        &now,
        at,
    );
    set_node_condition(
        node,
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
        &now,
        at,
    );
    set_node_condition(
        node,
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
        &now,
        at,
    );
    set_node_condition(
        node,
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
        &now,
        at,
    );
}

/// The node lifecycle controller gives up on a silent node: every condition `Unknown`, and
/// the `unreachable` taints with `NoSchedule` and `NoExecute`.
pub fn mark_node_unknown(node: &mut Value, now: Timestamp) {
    let now = rfc3339(now);
    for kind in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
        set_node_condition(
            node,
            kind,
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
            &now,
            None,
        );
    }
    for effect in ["NoSchedule", "NoExecute"] {
        add_taint(
            node,
            json!({"key": UNREACHABLE, "effect": effect, "timeAdded": now}),
        );
    }
}

/// Adds a taint unless one with the same key and effect is there.
pub fn add_taint(node: &mut Value, taint: Value) {
    if !node["spec"]["taints"].is_array() {
        node["spec"]["taints"] = json!([]);
    }
    let taints = node["spec"]["taints"]
        .as_array_mut()
        .expect("made an array above");
    if !taints
        .iter()
        .any(|t| t["key"] == taint["key"] && t["effect"] == taint["effect"])
    {
        taints.push(taint);
    }
}

/// Removes taints with `key` (and `effect`, if given); drops an empty list.
pub fn remove_taint(node: &mut Value, key: &str, effect: Option<Effect>) {
    if let Some(taints) = node["spec"]["taints"].as_array_mut() {
        taints.retain(|t| !(t["key"] == key && effect.is_none_or(|e| t["effect"] == e.as_str())));
        if taints.is_empty()
            && let Some(spec) = node["spec"].as_object_mut()
        {
            spec.remove("taints");
        }
    }
}

/// `spec.unschedulable` on or off (cordon and uncordon).
pub fn set_unschedulable(node: &mut Value, on: bool) {
    if on {
        node["spec"]["unschedulable"] = json!(true);
        add_taint(node, json!({"key": UNSCHEDULABLE, "effect": "NoSchedule"}));
    } else {
        if let Some(spec) = node["spec"].as_object_mut() {
            spec.remove("unschedulable");
        }
        remove_taint(node, UNSCHEDULABLE, None);
    }
}

/// The tolerations the DaemonSet controller adds to every daemon pod.
pub fn daemon_tolerations(host_network: bool) -> Vec<Value> {
    let mut tolerations = vec![
        json!({"key": NOT_READY, "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"}),
    ];
    if host_network {
        tolerations.push(json!({"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}));
    }
    tolerations
}

/// A DaemonSet object from its scenario description.
pub fn daemonset(spec: &DaemonSetSpec) -> Value {
    let labels = spec.pod_labels();
    let mut pod_spec = json!({
        "containers": [{
            "name": spec.name, "image": spec.image, "imagePullPolicy": "IfNotPresent",
            "resources": {"requests": {"cpu": spec.cpu}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }],
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
        "securityContext": {}, "terminationGracePeriodSeconds": 30,
    });
    if !spec.node_selector.is_empty() {
        pod_spec["nodeSelector"] = json!(spec.node_selector);
    }
    if let Some(terms) = &spec.node_affinity {
        pod_spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}});
    }
    if !spec.tolerations.is_empty() {
        pod_spec["tolerations"] = spec.tolerations.iter().map(toleration_json).collect();
    }
    if spec.host_network {
        pod_spec["hostNetwork"] = json!(true);
    }
    json!({
        "metadata": {
            "name": spec.name, "namespace": spec.namespace,
            "annotations": {"deprecated.daemonset.template.generation": "1"},
        },
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"creationTimestamp": Value::Null, "labels": labels}, "spec": pod_spec},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": spec.max_unavailable, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
            "minReadySeconds": spec.min_ready_seconds,
        },
        "status": {"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0},
    })
}

/// The `controller-revision-hash` of a pod template: ten characters of a hash of its JSON, in
/// the alphabet the real controller uses.
pub fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in template.to_string().bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|_| {
            let c = ALPHABET[(hash % ALPHABET.len() as u64) as usize] as char;
            hash /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// The template generation of a DaemonSet (its `deprecated.daemonset.template.generation`).
pub fn template_generation(ds: &Value) -> i64 {
    ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"]
        .as_str()
        .and_then(|g| g.parse().ok())
        .unwrap_or(1)
}

/// A daemon pod for `node`, as the DaemonSet controller creates it: template labels plus
/// `controller-revision-hash` and `pod-template-generation`, an owner reference, the added
/// tolerations, and required node affinity replaced by `matchFields metadata.name In [node]`.
pub fn daemon_pod(ds: &Value, ds_uid: &str, node: &str, hash: &str) -> Value {
    let template = &ds["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels["controller-revision-hash"] = json!(hash);
    labels["pod-template-generation"] = json!(template_generation(ds).to_string());
    let name = ds["metadata"]["name"].as_str().unwrap_or("ds");
    // A DaemonSet written through the API may hold anything; what is not an object here is
    // replaced rather than indexed into.
    let mut spec = template["spec"].clone();
    if !spec.is_object() {
        spec = json!({});
    }
    if !spec["affinity"].is_object() {
        spec["affinity"] = json!({});
    }
    if !spec["affinity"]["nodeAffinity"].is_object() {
        spec["affinity"]["nodeAffinity"] = json!({});
    }
    let host_network = spec["hostNetwork"] == true;
    let mut tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
    for added in daemon_tolerations(host_network) {
        if !tolerations.contains(&added) {
            tolerations.push(added);
        }
    }
    spec["tolerations"] = json!(tolerations);
    spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}],
    });
    spec["enableServiceLinks"] = json!(true);
    spec["priority"] = json!(0);
    spec["serviceAccountName"] = json!("default");
    json!({
        "metadata": {
            "generateName": format!("{name}-"),
            "labels": labels,
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "DaemonSet", "name": name, "uid": ds_uid,
                "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    })
}

mod pod;

pub use pod::{bind, mark_not_ready, ready, set_pod_condition, start, unschedulable};

#[cfg(test)]
mod tests;
