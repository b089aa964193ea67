//! Server-side printing: `kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io`
//! and prints the columns the server chooses. These are the columns of the real server's
//! printers (`pkg/printers/internalversion/printers.go`) for the kinds the simulator serves;
//! columns with priority 1 are the `-o wide` ones.

use serde_json::{Value, json};

use crate::clock::SimClock;
use crate::kinds::Kind;
use crate::store::Obj;

fn column(name: &str, kind: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": kind, "format": format, "description": name, "priority": priority})
}

fn columns(kind: Kind) -> Vec<Value> {
    let s = "string";
    match kind {
        Kind::Pod => vec![
            column("Name", s, 0),
            column("Ready", s, 0),
            column("Status", s, 0),
            column("Restarts", s, 0),
            column("Age", s, 0),
            column("IP", s, 1),
            column("Node", s, 1),
            column("Nominated Node", s, 1),
            column("Readiness Gates", s, 1),
        ],
        Kind::Node => vec![
            column("Name", s, 0),
            column("Status", s, 0),
            column("Roles", s, 0),
            column("Age", s, 0),
            column("Version", s, 0),
            column("Internal-IP", s, 1),
            column("External-IP", s, 1),
            column("OS-Image", s, 1),
            column("Kernel-Version", s, 1),
            column("Container-Runtime", s, 1),
        ],
        Kind::DaemonSet => vec![
            column("Name", s, 0),
            column("Desired", "integer", 0),
            column("Current", "integer", 0),
            column("Ready", "integer", 0),
            column("Up-to-date", "integer", 0),
            column("Available", "integer", 0),
            column("Node Selector", s, 0),
            column("Age", s, 0),
            column("Containers", s, 1),
            column("Images", s, 1),
            column("Selector", s, 1),
        ],
        Kind::Namespace => vec![
            column("Name", s, 0),
            column("Status", s, 0),
            column("Age", s, 0),
        ],
        _ => vec![column("Name", s, 0), column("Age", s, 0)],
    }
}

/// A `Table` of `items`, with the list metadata given.
pub fn table<'a>(
    kind: Kind,
    items: impl IntoIterator<Item = &'a Obj>,
    metadata: Value,
    clock: &SimClock,
) -> Value {
    let rows: Vec<Value> = items.into_iter().map(|obj| row(kind, obj, clock)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(kind),
        "rows": rows,
    })
}

/// One table row with its object as `PartialObjectMetadata` (kubectl reads the namespace there).
pub fn row(kind: Kind, obj: &Obj, clock: &SimClock) -> Value {
    let value: Value = serde_json::from_slice(&obj.body).unwrap_or_else(|_| json!({}));
    let age = age(&value, clock);
    let name = obj.key.1.clone();
    let cells = match kind {
        Kind::Pod => pod_cells(&value, name, age),
        Kind::Node => node_cells(&value, name, age),
        Kind::DaemonSet => daemonset_cells(&value, name, age),
        Kind::Namespace => {
            let phase = value["status"]["phase"]
                .as_str()
                .unwrap_or("Active")
                .to_string();
            vec![json!(name), json!(phase), json!(age)]
        }
        _ => vec![json!(name), json!(age)],
    };
    json!({
        "cells": cells,
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": value["metadata"],
        },
    })
}

fn age(value: &Value, clock: &SimClock) -> String {
    let Some(created) = value["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    else {
        return "<unknown>".into();
    };
    let seconds = clock.now().duration_since(created).as_secs().max(0);
    human_duration(seconds)
}

/// `kubectl`'s short durations: `45s`, `3m12s`, `5h`, `2d3h`.
pub fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

fn pod_cells(pod: &Value, name: String, age: String) -> Vec<Value> {
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total = pod["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = statuses.iter().filter(|c| c["ready"] == true).count();
    let restarts: i64 = statuses
        .iter()
        .filter_map(|c| c["restartCount"].as_i64())
        .sum();
    let mut reason = pod["status"]["reason"]
        .as_str()
        .or_else(|| pod["status"]["phase"].as_str())
        .unwrap_or("Pending")
        .to_string();
    for status in &statuses {
        if let Some(waiting) = status["state"]["waiting"]["reason"].as_str() {
            reason = waiting.to_string();
        }
    }
    if pod["metadata"]["deletionTimestamp"].is_string() {
        reason = "Terminating".into();
    }
    let ip = pod["status"]["podIP"].as_str().unwrap_or("<none>");
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("<none>");
    vec![
        json!(name),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts.to_string()),
        json!(age),
        json!(ip),
        json!(node),
        json!("<none>"),
        json!("<none>"),
    ]
}

fn node_cells(node: &Value, name: String, age: String) -> Vec<Value> {
    let ready = node["status"]["conditions"]
        .as_array()
        .and_then(|conditions| conditions.iter().find(|c| c["type"] == "Ready"))
        .map(|c| c["status"].as_str().unwrap_or("Unknown").to_string());
    let mut status = match ready.as_deref() {
        Some("True") => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if node["spec"]["unschedulable"] == true {
        status.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = node["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .collect()
        })
        .unwrap_or_default();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    let address = |kind: &str| {
        node["status"]["addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["type"] == kind))
            .and_then(|x| x["address"].as_str())
            .unwrap_or("<none>")
            .to_string()
    };
    let info = &node["status"]["nodeInfo"];
    let text = |v: &Value| {
        v.as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or("<unknown>")
            .to_string()
    };
    vec![
        json!(name),
        json!(status),
        json!(roles),
        json!(age),
        json!(text(&info["kubeletVersion"])),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(text(&info["osImage"])),
        json!(text(&info["kernelVersion"])),
        json!(text(&info["containerRuntimeVersion"])),
    ]
}

fn daemonset_cells(ds: &Value, name: String, age: String) -> Vec<Value> {
    let status = &ds["status"];
    let number = |field: &str| json!(status[field].as_i64().unwrap_or(0));
    let spec = &ds["spec"]["template"]["spec"];
    let selector = spec["nodeSelector"]
        .as_object()
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_else(|| "<none>".into());
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let images: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["image"].as_str())
        .collect();
    let match_labels = ds["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    vec![
        json!(name),
        number("desiredNumberScheduled"),
        number("currentNumberScheduled"),
        number("numberReady"),
        number("updatedNumberScheduled"),
        number("numberAvailable"),
        json!(selector),
        json!(age),
        json!(names.join(",")),
        json!(images.join(",")),
        json!(match_labels),
    ]
}

#[cfg(test)]
mod tests;
