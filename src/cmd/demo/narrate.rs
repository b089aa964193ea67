//! What `dsguard demo` prints besides the cell transitions: every notification as it goes out
//! (`PAGE …`, `RESOLVED …`), and at the end a short summary of the node incidents read from
//! dsguard's own API, as any client would read it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::SocketAddr;

use dsguard_sim::clock::SimClock;
use serde::Deserialize;
use serde::de::DeserializeOwned;
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

/// The fields of `/api/v1/incidents` the summary tells.
#[derive(Debug, Deserialize)]
struct Incidents {
    open: Vec<Incident>,
    closed: Vec<Incident>,
}

#[derive(Debug, Deserialize)]
struct Incident {
    node: String,
    started: Timestamp,
    lost: Vec<LostPod>,
    node_deleted: Option<Timestamp>,
    closed: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
struct LostPod {
    daemonset: Key,
    replaced: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
struct Key {
    namespace: String,
    name: String,
}

/// The fields of `/api/v1/coverage` the summary tells.
#[derive(Debug, Deserialize)]
struct Coverage {
    gaps: Vec<Gap>,
}

#[derive(Debug, Deserialize)]
struct Gap {
    namespace: String,
    daemonset: String,
    node: String,
    state: String,
    reason: String,
    since: Option<Timestamp>,
    detail: Option<String>,
    unreplaced: bool,
}

/// Reads incidents and gaps from dsguard's API and tells what failed, what was lost, what came
/// back when, and what never did and why.
pub async fn incident_summary(addr: SocketAddr, clock: &SimClock) -> String {
    async fn get<T: DeserializeOwned>(addr: SocketAddr, path: &str) -> anyhow::Result<T> {
        let url = format!("http://{addr}{path}");
        Ok(reqwest::get(url).await?.error_for_status()?.json().await?)
    }
    match (
        get::<Incidents>(addr, "/api/v1/incidents").await,
        get::<Coverage>(addr, "/api/v1/coverage").await,
    ) {
        (Ok(incidents), Ok(coverage)) => summarize(&incidents, &coverage, clock),
        (Err(error), _) | (_, Err(error)) => format!("(no incident summary: {error:#})\n"),
    }
}

fn summarize(incidents: &Incidents, coverage: &Coverage, clock: &SimClock) -> String {
    let at = |t: Timestamp| format!("{}s", clock.scenario_time_of(t).as_secs());
    let mut out = String::from("Incident summary (scenario time)\n");
    let all: Vec<&Incident> = incidents.open.iter().chain(&incidents.closed).collect();
    if all.is_empty() {
        out.push_str("  no node failed\n");
    }
    for incident in all {
        let deleted = incident
            .node_deleted
            .map_or(String::new(), |t| format!("; node deleted at {}", at(t)));
        let closed = incident.closed.map_or("; still open".to_owned(), |t| {
            format!("; closed at {}", at(t))
        });
        let _ = writeln!(
            out,
            "  {} failed at {}: {} daemon pods lost with it{deleted}{closed}",
            incident.node,
            at(incident.started),
            incident.lost.len(),
        );
        for pod in &incident.lost {
            let fate = match (pod.replaced, incident.node_deleted) {
                (Some(t), _) => format!("came back on the node at {}", at(t)),
                (None, Some(_)) => "never came back on it: the node was deleted (daemon pods are \
                                    never moved elsewhere)"
                    .to_owned(),
                (None, None) => "not back yet".to_owned(),
            };
            let ds = format!("{}/{}", pod.daemonset.namespace, pod.daemonset.name);
            let _ = writeln!(out, "    {ds:<32} {fate}");
        }
    }
    let unreplaced: Vec<&Gap> = coverage.gaps.iter().filter(|g| g.unreplaced).collect();
    if !unreplaced.is_empty() {
        out.push_str("  Still unreplaced after the failure:\n");
    }
    for gap in unreplaced {
        let _ = writeln!(
            out,
            "    {}/{} on {}: {} ({}) since {}: {}",
            gap.namespace,
            gap.daemonset,
            gap.node,
            gap.state,
            gap.reason,
            gap.since.map_or("?".to_owned(), at),
            gap.detail.as_deref().unwrap_or("no detail"),
        );
    }
    out
}
