//! The edits the emulated scheduler and kubelets make to a daemon pod: binding, conditions,
//! container states, readiness.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::condition_pos;
use crate::clock::rfc3339;
use crate::scenario::FailureMode;

/// Sets a pod condition; `lastTransitionTime` moves only when the status changes.
pub fn set_pod_condition(
    pod: &mut Value,
    kind: &str,
    status: bool,
    reason: Option<(&str, &str)>,
    now: Timestamp,
) {
    if !pod["status"]["conditions"].is_array() {
        pod["status"]["conditions"] = json!([]);
    }
    let status = if status { "True" } else { "False" };
    let conditions = pod["status"]["conditions"]
        .as_array_mut()
        .expect("made an array above");
    let old = condition_pos(conditions, kind).map(|i| conditions.remove(i));
    let transition = match &old {
        Some(old) if old["status"] == status => old["lastTransitionTime"].clone(),
        _ => json!(rfc3339(now)),
    };
    let mut condition = json!({"type": kind, "status": status, "lastProbeTime": Value::Null, "lastTransitionTime": transition});
    if let Some((reason, message)) = reason {
        condition["reason"] = json!(reason);
        condition["message"] = json!(message);
    }
    conditions.push(condition);
    conditions.sort_by_key(|c| match c["type"].as_str() {
        Some("Initialized") => 0,
        Some("Ready") => 1,
        Some("ContainersReady") => 2,
        _ => 3,
    });
}

/// The scheduler binds the pod to its node.
pub fn bind(pod: &mut Value, node: &str, now: Timestamp) {
    pod["spec"]["nodeName"] = json!(node);
    set_pod_condition(pod, "PodScheduled", true, None, now);
}

/// The scheduler cannot place the pod.
pub fn unschedulable(pod: &mut Value, message: &str, now: Timestamp) {
    set_pod_condition(
        pod,
        "PodScheduled",
        false,
        Some(("Unschedulable", message)),
        now,
    );
}

fn container_name(pod: &Value) -> String {
    pod["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap_or("main")
        .to_string()
}

/// The kubelet starts the pod's container, which runs, cannot be pulled, or keeps crashing.
/// `restarts` counts crash-loop restarts so far.
pub fn start(
    pod: &mut Value,
    mode: Option<FailureMode>,
    host_ip: &str,
    pod_ip: &str,
    restarts: i64,
    now: Timestamp,
) {
    let at = rfc3339(now);
    let image = pod["spec"]["containers"][0]["image"].clone();
    let name = container_name(pod);
    let status = &mut pod["status"];
    status["hostIP"] = json!(host_ip);
    status["podIP"] = json!(pod_ip);
    status["podIPs"] = json!([{"ip": pod_ip}]);
    if !status["startTime"].is_string() {
        status["startTime"] = json!(at);
    }
    let (phase, state) = container_state(mode, &image, &name, restarts, &at);
    status["phase"] = json!(phase);
    status["containerStatuses"] = json!([{
        "name": name, "image": image, "imageID": "", "ready": false, "started": mode.is_none(),
        "restartCount": if mode == Some(FailureMode::CrashLoop) { restarts } else { 0 },
        "state": state, "lastState": {},
    }]);
    set_pod_condition(pod, "Initialized", true, None, now);
    let why = format!("containers with unready status: [{name}]");
    for kind in ["Ready", "ContainersReady"] {
        set_pod_condition(pod, kind, false, Some(("ContainersNotReady", &why)), now);
    }
}

/// The phase and container state of a started pod, by failure mode.
fn container_state(
    mode: Option<FailureMode>,
    image: &Value,
    name: &str,
    restarts: i64,
    at: &str,
) -> (&'static str, Value) {
    match mode {
        Some(FailureMode::ImagePull) => {
            let reason = if restarts % 2 == 0 {
                "ErrImagePull"
            } else {
                "ImagePullBackOff"
            };
            let message = format!("Back-off pulling image {image}");
            (
                "Pending",
                json!({"waiting": {"reason": reason, "message": message}}),
            )
        }
        Some(FailureMode::CrashLoop) => {
            let message = format!("back-off 5m0s restarting failed container={name}");
            (
                "Running",
                json!({"waiting": {"reason": "CrashLoopBackOff", "message": message}}),
            )
        }
        _ => ("Running", json!({"running": {"startedAt": at}})),
    }
}

/// The kubelet reports the running container ready.
pub fn ready(pod: &mut Value, now: Timestamp) {
    if let Some(status) = pod["status"]["containerStatuses"].get_mut(0) {
        status["ready"] = json!(true);
    }
    set_pod_condition(pod, "ContainersReady", true, None, now);
    set_pod_condition(pod, "Ready", true, None, now);
}

/// The node lifecycle controller marks a pod on a silent node not ready.
pub fn mark_not_ready(pod: &mut Value, now: Timestamp) {
    set_pod_condition(pod, "Ready", false, None, now);
}
