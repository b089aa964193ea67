//! What `dsguard demo` prints besides the cell transitions: every notification as it goes out
//! (`PAGE …`, `RESOLVED …`), and at the end a short summary of the node incidents read from
//! dsguard's own API, as any client would read it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::SocketAddr;

use dsguard_sim::clock::SimClock;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::base::Timestamp;
use crate::notification::{Notification, Status};

/// Prints every notification the alert engine hands over, one line per alert, the way a pager
/// would show it.
pub async fn print_notifications(mut receiver: mpsc::Receiver<Notification>, clock: SimClock) {
    let mut paged = HashSet::new();
    while let Some(notification) = receiver.recv().await {
        let at = clock.scenario_time_of(clock.now()).as_secs();
        for line in notification_lines(&notification, &mut paged) {
            println!("[{at:>4}s] {line}");
        }
    }
}

/// `PAGE DaemonSetPodsStranded worker-3: 3 daemon pods lost with it …` or `RESOLVED …`; an
/// alert already paged that comes again is a `REPEAT` (the repeat interval passed) or an
/// `UPDATE` (its group changed: another alert joined, or its annotations changed).
pub fn notification_lines(notification: &Notification, paged: &mut HashSet<String>) -> Vec<String> {
    notification
        .alerts
        .iter()
        .map(|alert| {
            let verb = match alert.status {
                Status::Resolved => {
                    paged.remove(&alert.fingerprint);
                    "RESOLVED"
                }
                Status::Firing if paged.insert(alert.fingerprint.clone()) => "PAGE    ",
                Status::Firing if notification.repeat => "REPEAT  ",
                Status::Firing => "UPDATE  ",
            };
            let label = |k: &str| alert.labels.get(k).map_or("", String::as_str);
            let mut target = label("node").to_owned();
            if !label("daemonset").is_empty() {
                let _ = write!(target, " {}/{}", label("namespace"), label("daemonset"));
            }
            let summary = alert.annotations.get("summary").map_or("", String::as_str);
            format!(
                "{verb}  {} {}: {summary}",
                label("alertname"),
                target.trim()
            )
        })
        .collect()
}

/// Reads incidents and gaps from dsguard's API and tells what failed, what was lost, what came
/// back when, and what never did and why.
pub async fn incident_summary(addr: SocketAddr, clock: &SimClock) -> String {
    let get = async |path: &str| -> anyhow::Result<Value> {
        Ok(reqwest::get(format!("http://{addr}{path}"))
            .await?
            .error_for_status()?
            .json()
            .await?)
    };
    match (
        get("/api/v1/incidents").await,
        get("/api/v1/coverage").await,
    ) {
        (Ok(incidents), Ok(coverage)) => summarize(&incidents, &coverage, clock),
        (Err(error), _) | (_, Err(error)) => format!("(no incident summary: {error:#})\n"),
    }
}

fn summarize(incidents: &Value, coverage: &Value, clock: &SimClock) -> String {
    let at = |v: &Value| -> String {
        v.as_str()
            .and_then(|s| s.parse::<Timestamp>().ok())
            .map_or_else(
                || "?".to_owned(),
                |t| format!("{}s", clock.scenario_time_of(t).as_secs()),
            )
    };
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let mut out = String::from("Incident summary (scenario time)\n");
    let all: Vec<Value> = list(&incidents["open"])
        .into_iter()
        .chain(list(&incidents["closed"]))
        .collect();
    if all.is_empty() {
        out.push_str("  no node failed\n");
    }
    for incident in &all {
        let lost = list(&incident["lost"]);
        let _ = writeln!(
            out,
            "  {} failed at {}: {} daemon pods lost with it{}{}",
            incident["node"].as_str().unwrap_or("?"),
            at(&incident["started"]),
            lost.len(),
            incident["node_deleted"]
                .as_str()
                .map_or(String::new(), |_| format!(
                    "; node deleted at {}",
                    at(&incident["node_deleted"])
                )),
            incident["closed"]
                .as_str()
                .map_or("; still open".to_owned(), |_| format!(
                    "; closed at {}",
                    at(&incident["closed"])
                )),
        );
        for pod in &lost {
            let ds = format!(
                "{}/{}",
                pod["daemonset"]["namespace"].as_str().unwrap_or("?"),
                pod["daemonset"]["name"].as_str().unwrap_or("?")
            );
            let fate = if pod["replaced"].is_string() {
                format!("came back on the node at {}", at(&pod["replaced"]))
            } else if incident["node_deleted"].is_string() {
                "never came back on it: the node was deleted (daemon pods are never moved elsewhere)".to_owned()
            } else {
                "not back yet".to_owned()
            };
            let _ = writeln!(out, "    {ds:<32} {fate}");
        }
    }
    let unreplaced: Vec<Value> = list(&coverage["gaps"])
        .into_iter()
        .filter(|g| g["unreplaced"] == true)
        .collect();
    if !unreplaced.is_empty() {
        out.push_str("  Still unreplaced after the failure:\n");
    }
    for gap in &unreplaced {
        let _ = writeln!(
            out,
            "    {}/{} on {}: {} ({}) since {}: {}",
            gap["namespace"].as_str().unwrap_or("?"),
            gap["daemonset"].as_str().unwrap_or("?"),
            gap["node"].as_str().unwrap_or("?"),
            gap["state"].as_str().unwrap_or("?"),
            gap["reason"].as_str().unwrap_or("?"),
            at(&gap["since"]),
            gap["detail"].as_str().unwrap_or("no detail"),
        );
    }
    out
}
