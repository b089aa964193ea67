//! Reading the scheduler's `Unschedulable` message ("0/8 nodes are available: 1 Insufficient
//! cpu, 1 node(s) had untolerated taint {dedicated: infra}. preemption: ...") into causes, each
//! with the usual fix for a daemon pod.

use crate::cluster::ObjectKey;

/// One thing the scheduler says stands in the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// `Insufficient <resource>` (cpu, memory, pods, ephemeral-storage, …).
    Insufficient(String),
    /// `had untolerated taint {key: value}`.
    UntoleratedTaint(String),
    /// `didn't have free ports for the requested pod ports`.
    Ports,
    /// `didn't match Pod's node affinity/selector`.
    Affinity,
}

/// The causes named in a scheduler message, in the order they appear, without repeats.
pub fn causes(message: &str) -> Vec<Cause> {
    let mut found = Vec::new();
    let mut push = |cause: Cause| {
        if !found.contains(&cause) {
            found.push(cause);
        }
    };
    // Only the part before "preemption:" describes the nodes.
    let nodes = message.split("preemption:").next().unwrap_or(message);
    for part in nodes.split([',', ':', '.']) {
        let part = part.trim();
        if let Some(at) = part.find("Insufficient ") {
            let resource = part[at + "Insufficient ".len()..].trim();
            push(Cause::Insufficient(resource.to_owned()));
        } else if part.contains("Too many pods") {
            push(Cause::Insufficient("pods".to_owned()));
        } else if part.contains("free ports") {
            push(Cause::Ports);
        } else if part.contains("node affinity") || part.contains("node selector") {
            push(Cause::Affinity);
        }
    }
    let mut rest = nodes;
    while let Some(at) = rest.find("untolerated taint") {
        rest = &rest[at..];
        let (Some(open), Some(close)) = (rest.find('{'), rest.find('}')) else {
            break;
        };
        if open < close {
            push(Cause::UntoleratedTaint(
                rest[open + 1..close].trim().to_owned(),
            ));
        }
        rest = &rest[close + 1..];
    }
    found
}

/// The advice: plain words for every cause, and the command that applies the most likely fix.
pub fn advice(ds: &ObjectKey, pod: Option<&ObjectKey>, message: &str) -> (String, String) {
    let causes = causes(message);
    let mut words = vec![format!(
        "The scheduler cannot place the daemon pod: \"{message}\"."
    )];
    let mut command = None;
    for cause in &causes {
        match cause {
            Cause::Insufficient(resource) => {
                words.push(format!(
                    "The node has no room left for its {resource} request. Give the DaemonSet \
                     the `system-node-critical` priority class so that the scheduler preempts \
                     lower-priority pods for it (allowed in kube-system, elsewhere only with a \
                     ResourceQuota that admits the class), lower its {resource} request, or \
                     move other workloads off the node."
                ));
                command.get_or_insert_with(|| {
                    format!(
                        "kubectl -n {} patch daemonset {} --type merge -p \
                         '{{\"spec\":{{\"template\":{{\"spec\":{{\"priorityClassName\":\"system-node-critical\"}}}}}}}}'",
                        ds.namespace, ds.name
                    )
                });
            }
            Cause::UntoleratedTaint(taint) => {
                let key = taint.split(':').next().unwrap_or(taint).trim();
                words.push(format!(
                    "The node carries the taint {{{taint}}} that the DaemonSet does not \
                     tolerate. Add a toleration for it if the daemon belongs there, or remove \
                     the taint."
                ));
                command.get_or_insert_with(|| {
                    format!(
                        "kubectl -n {} patch daemonset {} --type json -p \
                         '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/tolerations/-\",\"value\":{{\"key\":\"{key}\",\"operator\":\"Exists\"}}}}]'",
                        ds.namespace, ds.name
                    )
                });
            }
            Cause::Ports => words.push(
                "Another pod on the node already uses a host port the daemon pod asks for: \
                 find it and free the port, or change the DaemonSet's hostPort."
                    .to_owned(),
            ),
            Cause::Affinity => words.push(
                "The node does not match the pod's node affinity or selector (for the daemon \
                 pod's own node this usually means the node's labels changed after the \
                 controller created the pod): check the node's labels against the DaemonSet."
                    .to_owned(),
            ),
        }
    }
    if causes.is_empty() {
        words.push(
            "Check the pod's events for the scheduler's full reason: resources, taints and \
             host ports are the usual ones."
                .to_owned(),
        );
    }
    let command = command.unwrap_or_else(|| match pod {
        Some(pod) => format!("kubectl -n {} describe pod {}", pod.namespace, pod.name),
        None => format!("kubectl -n {} describe daemonset {}", ds.namespace, ds.name),
    });
    (words.join(" "), command)
}

#[cfg(test)]
mod tests;
