//! Where a daemon pod should run: the simulator's own, independent rendering of the DaemonSet
//! controller's `NodeShouldRunDaemonPod` (node name, node selector, required node affinity with
//! `matchExpressions` and `matchFields`, taints and tolerations).
//!
//! It reads only the pod template JSON and the controllers' `NodeView`; dsguard's placement
//! code is deliberately not used, so that each checks the other.

use serde_json::Value;

use crate::objects::daemon_tolerations;
use crate::view::{NodeView, Taint};

/// The two answers of `NodeShouldRunDaemonPod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// A daemon pod should be created here.
    pub should_run: bool,
    /// A daemon pod already here may stay.
    pub should_continue: bool,
}

/// Whether the DaemonSet's pod template fits `node`.
pub fn place(template_spec: &Value, node: &NodeView) -> Placement {
    const NO: Placement = Placement {
        should_run: false,
        should_continue: false,
    };
    if let Some(name) = template_spec["nodeName"].as_str().filter(|n| !n.is_empty())
        && name != node.name
    {
        return NO;
    }
    if !selector_fits(&template_spec["nodeSelector"], node) || !affinity_fits(template_spec, node) {
        return NO;
    }
    const YES: Placement = Placement {
        should_run: true,
        should_continue: true,
    };
    if node.taints.is_empty() {
        return YES;
    }
    let mut tolerations = template_spec["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    tolerations.extend(daemon_tolerations(template_spec["hostNetwork"] == true));
    let untolerated = |effects: &[&str]| {
        node.taints.iter().any(|t| {
            effects.contains(&t.effect.as_str()) && !tolerations.iter().any(|tol| tolerates(tol, t))
        })
    };
    if untolerated(&["NoSchedule", "NoExecute"]) {
        return Placement {
            should_run: false,
            should_continue: !untolerated(&["NoExecute"]),
        };
    }
    YES
}

fn selector_fits(selector: &Value, node: &NodeView) -> bool {
    selector.as_object().is_none_or(|map| {
        map.iter()
            .all(|(k, v)| node.labels.get(k).map(String::as_str) == v.as_str())
    })
}

fn affinity_fits(spec: &Value, node: &NodeView) -> bool {
    let required =
        &spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
    let Some(terms) = required["nodeSelectorTerms"].as_array() else {
        return true;
    };
    terms.iter().any(|term| term_fits(term, node))
}

fn term_fits(term: &Value, node: &NodeView) -> bool {
    let expressions = term["matchExpressions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fields = term["matchFields"].as_array().cloned().unwrap_or_default();
    if expressions.is_empty() && fields.is_empty() {
        // An empty term selects nothing, as in the real scheduler.
        return false;
    }
    expressions
        .iter()
        .all(|e| requirement_fits(e, node.labels.get(e["key"].as_str().unwrap_or(""))))
        && fields
            .iter()
            .all(|f| f["key"] == "metadata.name" && requirement_fits(f, Some(&node.name)))
}

fn requirement_fits(requirement: &Value, value: Option<&String>) -> bool {
    let values: Vec<&str> = requirement["values"]
        .as_array()
        .map(|vs| vs.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let number = |v: Option<&String>| v.and_then(|v| v.parse::<i64>().ok());
    let bound = values.first().and_then(|v| v.parse::<i64>().ok());
    match requirement["operator"].as_str().unwrap_or("") {
        "In" => value.is_some_and(|v| values.contains(&v.as_str())),
        "NotIn" => !value.is_some_and(|v| values.contains(&v.as_str())),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => matches!((number(value), bound), (Some(v), Some(b)) if v > b),
        "Lt" => matches!((number(value), bound), (Some(v), Some(b)) if v < b),
        _ => false,
    }
}

/// Whether a toleration (JSON) tolerates a taint.
pub fn tolerates(toleration: &Value, taint: &Taint) -> bool {
    let effect = toleration["effect"].as_str().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration["key"].as_str().unwrap_or("");
    let operator = toleration["operator"].as_str().unwrap_or("Equal");
    if key.is_empty() {
        return operator == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match operator {
        "Exists" => true,
        _ => toleration["value"].as_str().unwrap_or("") == taint.value,
    }
}

#[cfg(test)]
mod tests;
