//! What a person reads, shared by the Slack and email receivers: the title of a notification and
//! the facts of each alert (node, DaemonSet, reason, since, runbook), taken from the labels and
//! annotations the alert engine sets (see `docs/alerts.md`).

use super::{Alert, Notification, Status};

/// The marker of a test notification, at the start of every title.
pub const TEST_MARK: &str = "[TEST] ";

/// `[FIRING:2] DaemonSetPodsStranded node=worker-2`, with `[TEST] ` before it for a test.
pub fn title(n: &Notification) -> String {
    let firing = n
        .alerts
        .iter()
        .filter(|a| a.status == Status::Firing)
        .count();
    let status = match n.status {
        Status::Firing => format!("[FIRING:{firing}]"),
        Status::Resolved => "[RESOLVED]".to_owned(),
    };
    let name = n
        .common_labels
        .get("alertname")
        .or_else(|| n.alerts.first().and_then(|a| a.labels.get("alertname")))
        .map_or("dsguard", String::as_str);
    let mut title = format!("{status} {name}");
    for (key, value) in &n.group_labels {
        if key != "alertname" {
            title.push_str(&format!(" {key}={value}"));
        }
    }
    if n.test {
        title.insert_str(0, TEST_MARK);
    }
    title
}

/// The facts of one alert that a reader needs, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The summary annotation, or the alert's name.
    pub summary: String,
    /// The description annotation.
    pub description: Option<String>,
    /// `(label, value)` pairs: Node, DaemonSet, State, Reason, Since / Resolved.
    pub fields: Vec<(&'static str, String)>,
    /// The runbook URL.
    pub runbook: Option<String>,
    /// The link back to dsguard.
    pub generator_url: String,
}

/// The facts of an alert.
pub fn facts(alert: &Alert) -> Facts {
    let label = |k: &str| alert.labels.get(k).filter(|v| !v.is_empty()).cloned();
    let mut fields = Vec::new();
    if let Some(node) = label("node") {
        fields.push(("Node", node));
    }
    match (label("namespace"), label("daemonset")) {
        (Some(ns), Some(ds)) => fields.push(("DaemonSet", format!("{ns}/{ds}"))),
        (None, Some(ds)) => fields.push(("DaemonSet", ds)),
        _ => {}
    }
    if let Some(state) = label("state") {
        fields.push(("State", state));
    }
    if let Some(reason) = label("reason") {
        fields.push(("Reason", reason));
    }
    fields.push(("Since", when(alert.starts_at)));
    if let (Status::Resolved, Some(end)) = (alert.status, alert.ends_at) {
        fields.push(("Resolved", when(end)));
    }
    Facts {
        summary: alert
            .annotations
            .get("summary")
            .cloned()
            .or_else(|| label("alertname"))
            .unwrap_or_else(|| "alert".to_owned()),
        description: alert.annotations.get("description").cloned(),
        fields,
        runbook: alert.annotations.get("runbook_url").cloned(),
        generator_url: alert.generator_url.clone(),
    }
}

/// A moment as `2024-05-01 12:00:00 UTC`.
fn when(t: crate::base::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The line that says a notification is a test.
pub const TEST_TEXT: &str =
    "This is a test notification sent by `dsguard notify test`; no action is needed.";

#[cfg(test)]
mod tests;
