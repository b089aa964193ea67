//! Node incidents: everything that happened to the daemon pods of one failed node, from the
//! moment its first pod was stranded until the node is back with every pod replaced, or gone
//! with nothing left of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::Timestamp;
use crate::cluster::ObjectKey;
use crate::coverage::{CellState, Coverage, Transition};

/// How many closed incidents are kept for the API.
pub const CLOSED_KEPT: usize = 100;

/// A daemon pod lost with its node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostPod {
    /// The DaemonSet.
    pub daemonset: ObjectKey,
    /// When it was stranded.
    pub since: Timestamp,
    /// When its cell on the node was healthy again, if it was.
    pub replaced: Option<Timestamp>,
}

/// One failed node's incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// The node.
    pub node: String,
    /// When its first daemon pod was stranded.
    pub started: Timestamp,
    /// The daemon pods lost with it.
    pub lost: Vec<LostPod>,
    /// When the node object was deleted, if it was.
    pub node_deleted: Option<Timestamp>,
    /// When the incident closed.
    pub closed: Option<Timestamp>,
}

/// Open incidents by node, and the most recent closed ones.
#[derive(Clone, Debug, Default)]
pub struct Incidents {
    open: BTreeMap<String, Incident>,
    closed: std::collections::VecDeque<Incident>,
}

impl Incidents {
    /// Books a cell transition.
    pub fn observe(&mut self, t: &Transition, now: Timestamp) {
        if t.to.state == CellState::Stranded {
            let incident = self.open.entry(t.node.clone()).or_insert_with(|| Incident {
                node: t.node.clone(),
                started: now,
                lost: Vec::new(),
                node_deleted: None,
                closed: None,
            });
            if !incident.lost.iter().any(|l| l.daemonset == t.daemonset) {
                incident.lost.push(LostPod {
                    daemonset: t.daemonset.clone(),
                    since: now,
                    replaced: None,
                });
            }
            return;
        }
        if t.to.state == CellState::Healthy
            && let Some(incident) = self.open.get_mut(&t.node)
            && let Some(lost) = incident
                .lost
                .iter_mut()
                .find(|l| l.daemonset == t.daemonset)
        {
            lost.replaced.get_or_insert(now);
        }
    }

    /// Books the deletion of a node object.
    pub fn node_deleted(&mut self, node: &str, now: Timestamp) {
        if let Some(incident) = self.open.get_mut(node) {
            incident.node_deleted.get_or_insert(now);
        }
    }

    /// Closes the incidents whose node has no gap left: back with every lost pod replaced, or
    /// deleted with no pod left bound to it.
    pub fn close_settled(&mut self, coverage: &Coverage, now: Timestamp) {
        let settled: Vec<String> = self
            .open
            .values()
            .filter(|i| {
                let gaps = coverage.node(&i.node).map_or(0, |n| n.states.gaps());
                let back = i.node_deleted.is_none() && i.lost.iter().all(|l| l.replaced.is_some());
                gaps == 0 && (back || i.node_deleted.is_some())
            })
            .map(|i| i.node.clone())
            .collect();
        for node in settled {
            if let Some(mut incident) = self.open.remove(&node) {
                incident.closed = Some(now);
                self.closed.push_front(incident);
                self.closed.truncate(CLOSED_KEPT);
            }
        }
    }

    /// Puts back saved incidents (a restart): open ones by node, closed ones newest first.
    pub fn restore(&mut self, open: Vec<Incident>, closed: Vec<Incident>) {
        self.open = open
            .into_iter()
            .filter(|i| i.closed.is_none())
            .map(|i| (i.node.clone(), i))
            .collect();
        self.closed = closed.into_iter().take(CLOSED_KEPT).collect();
    }

    /// Open incidents.
    pub fn open(&self) -> impl Iterator<Item = &Incident> {
        self.open.values()
    }

    /// Closed incidents, most recent first.
    pub fn closed(&self) -> impl Iterator<Item = &Incident> {
        self.closed.iter()
    }
}
