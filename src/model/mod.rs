//! The model task's state: the coverage engine fed by the watchers, the health of each watch
//! (and so whether dsguard is blind), and the node incidents.
//!
//! [`Model::handle`] applies one [`WatchEvent`]; [`Model::tick`] advances time. Both return the
//! cell transitions they caused. Like the engine it wraps, the model is synchronous, does no
//! I/O and takes the time as an argument; the async task that owns it lives in `app`.

mod health;
mod incidents;
mod snapshot;

use jiff::SignedDuration;
use prometheus_client::metrics::histogram::Histogram;

use crate::base::Timestamp;
use crate::cluster::{Object, ObjectRef, Resource, WatchEvent};
use crate::coverage::{CellState, Coverage, Settings, Transition};

pub use health::{Blindness, WatchHealth};
pub use incidents::{Incident, Incidents};
pub use snapshot::{
    MAX_SAVED_CELLS, MAX_SAVED_OPEN_INCIDENTS, SNAPSHOT_VERSION, SavedCell, Snapshot,
};

/// The model, shared by the model task (writer) and the HTTP server, metrics, alert engine and
/// executor (readers).
pub type SharedModel = std::sync::Arc<std::sync::Mutex<Model>>;

/// Buckets of the time-to-replace histogram, in seconds: from a pod that starts in seconds to
/// one that waits half an hour for an image or for room.
pub const REPLACEMENT_BUCKETS: [f64; 10] = [
    5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0,
];

/// A missing, pending or not-ready daemon pod "follows a node failure" when its node came back
/// from an incident, or joined while one was open, within this window.
pub const INCIDENT_WINDOW: SignedDuration = SignedDuration::from_mins(30);

/// Coverage, watch health and incidents.
#[derive(Debug)]
pub struct Model {
    coverage: Coverage,
    health: WatchHealth,
    incidents: Incidents,
    replacement: Histogram,
    malformed: std::collections::BTreeMap<(Resource, &'static str), u64>,
    /// What each relist in progress has listed so far, for the resources of which the model held
    /// objects when the relist started: at `Synced`, what it holds and the list lacked is deleted.
    relisting: std::collections::BTreeMap<Resource, rustc_hash::FxHashSet<ObjectRef>>,
    /// A restored snapshot's cell clocks, waiting for every watch to have listed.
    restoring: Option<Vec<SavedCell>>,
}

impl Model {
    /// A model that has seen nothing yet, started at `now`; `staleness` bounds how long a watch
    /// may fail before dsguard turns blind.
    pub fn new(settings: Settings, staleness: SignedDuration, now: Timestamp) -> Self {
        Self {
            coverage: Coverage::new(settings),
            health: WatchHealth::new(staleness, now),
            incidents: Incidents::default(),
            replacement: Histogram::new(REPLACEMENT_BUCKETS),
            malformed: Default::default(),
            relisting: Default::default(),
            restoring: None,
        }
    }

    /// What to save across a restart: the clocks of the gaps whose start no object carries
    /// (`orphaned`, `missing` after a lost pod), oldest first, and the incidents, both bounded
    /// ([`MAX_SAVED_CELLS`], [`MAX_SAVED_OPEN_INCIDENTS`], [`incidents::CLOSED_KEPT`]).
    pub fn snapshot(&self, now: Timestamp) -> Snapshot {
        // Before every watch has listed, gaps are artefacts of the list order (pods before their
        // nodes look orphaned): only what an earlier run saved is kept then.
        let mut cells: Vec<SavedCell> = match &self.restoring {
            Some(saved) => saved.clone(),
            None if self.health.resources().values().all(|h| h.synced) => self
                .coverage
                .gaps(now)
                .iter()
                .filter_map(SavedCell::of)
                .collect(),
            None => Vec::new(),
        };
        cells.sort_by_key(|c| c.since);
        cells.truncate(MAX_SAVED_CELLS);
        let mut open: Vec<Incident> = self.incidents.open().cloned().collect();
        open.sort_by_key(|i| std::cmp::Reverse(i.started));
        open.truncate(MAX_SAVED_OPEN_INCIDENTS);
        Snapshot {
            version: SNAPSHOT_VERSION,
            taken: now,
            cells,
            open,
            closed: self.incidents.closed().cloned().collect(),
        }
    }

    /// Takes back a snapshot of an earlier run, right after [`Model::new`]. Incidents come back
    /// at once (the lists that follow book replacements and new losses into them); cell clocks
    /// once every watch has listed, and only for cells still in the saved state. The caller
    /// checks the [`SNAPSHOT_VERSION`].
    pub fn restore(&mut self, snapshot: Snapshot) {
        self.incidents.restore(snapshot.open, snapshot.closed);
        self.restoring = Some(snapshot.cells);
    }

    /// Applies one watch event.
    pub fn handle(&mut self, event: WatchEvent, now: Timestamp) -> Vec<Transition> {
        self.health.observe(&event, now);
        match event {
            // A pod without a DaemonSet owner is none of dsguard's business; if it was held, its
            // owner reference was removed.
            WatchEvent::Applied(Object::Pod(pod)) if pod.owner.is_none() => {
                self.coverage.delete_pod(&pod.key, now)
            }
            WatchEvent::Applied(object) => {
                if let Some(seen) = self.relisting.get_mut(&object.resource()) {
                    seen.insert(object.reference());
                }
                match object {
                    Object::Node(node) => self.coverage.apply_node(node, now),
                    Object::DaemonSet(ds) => self.coverage.apply_daemonset(ds, now),
                    Object::Pod(pod) => self.coverage.apply_pod(pod, now),
                }
            }
            WatchEvent::Deleted(reference) => self.delete(reference, now),
            WatchEvent::Malformed(resource, reason) => {
                *self.malformed.entry((resource, reason)).or_default() += 1
            }
            WatchEvent::Listing(resource) => {
                if self.holds(resource).next().is_some() {
                    self.relisting.insert(resource, Default::default());
                } else {
                    self.relisting.remove(&resource);
                }
            }
            // A list is complete: the model is as large as it will be for a while.
            WatchEvent::Synced(resource) => {
                self.finish_relist(resource, now);
                self.coverage.shrink_to_fit();
            }
            WatchEvent::WatchStarted(_) | WatchEvent::Failed(..) => {}
        }
        self.settle(now)
    }

    fn delete(&mut self, reference: ObjectRef, now: Timestamp) {
        match reference {
            ObjectRef::Node(name) => {
                self.coverage.delete_node(&name, now);
                self.incidents.node_deleted(&name, now);
            }
            ObjectRef::DaemonSet(key) => self.coverage.delete_daemonset(&key, now),
            ObjectRef::Pod(key) => self.coverage.delete_pod(&key, now),
        }
    }

    /// The objects of a resource the model holds.
    fn holds(&self, resource: Resource) -> Box<dyn Iterator<Item = ObjectRef> + '_> {
        match resource {
            Resource::Nodes => Box::new(
                self.coverage
                    .node_names()
                    .map(|n| ObjectRef::Node(n.to_owned())),
            ),
            Resource::DaemonSets => Box::new(
                self.coverage
                    .daemonset_keys()
                    .map(|k| ObjectRef::DaemonSet(k.clone())),
            ),
            Resource::Pods => Box::new(self.coverage.pod_keys().map(|k| ObjectRef::Pod(k.clone()))),
        }
    }

    /// A relist completed: what the model holds of the resource and the list did not contain was
    /// deleted while the watch was down, also when the list was empty (as the watcher's own set
    /// of known objects made it before the model took this over).
    fn finish_relist(&mut self, resource: Resource, now: Timestamp) {
        let Some(seen) = self.relisting.remove(&resource) else {
            return;
        };
        let gone: Vec<ObjectRef> = self.holds(resource).filter(|r| !seen.contains(r)).collect();
        for reference in gone {
            self.delete(reference, now);
        }
    }

    /// Advances time: grace periods expire, deadlines pass, blindness is re-judged.
    pub fn tick(&mut self, now: Timestamp) -> Vec<Transition> {
        self.coverage.tick(now);
        self.health.judge(now);
        self.settle(now)
    }

    fn settle(&mut self, now: Timestamp) -> Vec<Transition> {
        if self.restoring.is_some() {
            self.finish_restore(now);
        }
        let transitions = self.coverage.take_transitions();
        for t in &transitions {
            self.incidents.observe(t, now);
            if let Some(seconds) = self.replacement_seconds(t) {
                self.replacement.observe(seconds);
            }
        }
        self.incidents.close_settled(&self.coverage, now);
        self.health.judge(now);
        transitions
    }

    /// Once every watch has listed: saved clocks go to the cells still in their state, and the
    /// open incidents of nodes that are gone now are booked as deleted (the deletion happened
    /// while dsguard was not running; the relist of a fresh process cannot report it).
    fn finish_restore(&mut self, now: Timestamp) {
        if !self.health.resources().values().all(|h| h.synced) {
            return;
        }
        for saved in self.restoring.take().into_iter().flatten() {
            self.coverage.restore_cell(
                &saved.daemonset,
                &saved.node,
                saved.state,
                saved.since,
                saved.had_pod,
                now,
            );
        }
        let gone: Vec<String> = self
            .incidents
            .open()
            .filter(|i| self.coverage.node_info(&i.node).is_none())
            .map(|i| i.node.clone())
            .collect();
        for node in gone {
            self.incidents.node_deleted(&node, now);
        }
    }

    /// Time to replace: from the moment the node joined or became ready again to the moment its
    /// daemon pod turned ready, for pods that turned ready within the new-node window of it.
    fn replacement_seconds(&self, t: &Transition) -> Option<f64> {
        if t.to.state != CellState::Healthy || !t.from.state.is_gap() {
            return None;
        }
        let node = self.coverage.node_info(&t.node)?;
        let began = [node.created, node.health_since]
            .into_iter()
            .flatten()
            .max()?;
        let waited = t.at.duration_since(began);
        (!waited.is_negative() && waited <= self.coverage.settings().new_node_window)
            .then(|| waited.as_secs_f64())
    }

    /// Every gap, with `unreplaced` set: an actionable gap that keeps a lost daemon pod from
    /// coming back. That is a pod stuck terminating or orphaned (it blocks its replacement), or a
    /// missing, pending or not-ready pod on a node that came back from an incident or joined
    /// while one was open.
    pub fn gaps(&self, now: Timestamp) -> Vec<crate::coverage::GapView> {
        let mut gaps = self.coverage.gaps(now);
        for gap in &mut gaps {
            gap.unreplaced = gap.actionable
                && match gap.state {
                    CellState::StuckTerminating | CellState::Orphaned => true,
                    CellState::Missing | CellState::Pending | CellState::NotReady => {
                        self.follows_node_failure(&gap.node, now)
                    }
                    _ => false,
                };
        }
        gaps
    }

    fn follows_node_failure(&self, node: &str, now: Timestamp) -> bool {
        let recent = |t: Timestamp| now.duration_since(t) <= INCIDENT_WINDOW;
        let incidents = || self.incidents.open().chain(self.incidents.closed());
        let came_back = incidents().any(|i| i.node == node && i.closed.is_none_or(recent));
        let joined_during_one = self
            .coverage
            .node_info(node)
            .and_then(|n| n.created)
            .filter(|created| recent(*created))
            .is_some_and(|created| {
                incidents().any(|i| {
                    i.node != node && i.started <= created && i.closed.is_none_or(|c| c >= created)
                })
            });
        came_back || joined_during_one
    }

    /// The earliest moment after `now` at which [`Model::tick`] may change something without
    /// any event: a cell's deadline (grace, deletion, availability, new node) or a failing
    /// watch's staleness bound. `None` when nothing waits for time.
    pub fn next_deadline(&self, now: Timestamp) -> Option<Timestamp> {
        [self.coverage.next_deadline(), self.health.next_judgement()]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
    }

    /// The coverage engine.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// The watches' health.
    pub fn health(&self) -> &WatchHealth {
        &self.health
    }

    /// Why dsguard cannot trust its data, if it cannot.
    pub fn blindness(&self) -> Option<&Blindness> {
        self.health.blindness()
    }

    /// Node incidents, open ones first.
    pub fn incidents(&self) -> &Incidents {
        &self.incidents
    }

    /// The time-to-replace histogram (shared with the metrics registry).
    pub fn replacement_histogram(&self) -> &Histogram {
        &self.replacement
    }

    /// Objects skipped as malformed, by resource and reason.
    pub fn malformed(&self) -> &std::collections::BTreeMap<(Resource, &'static str), u64> {
        &self.malformed
    }
}

#[cfg(test)]
mod tests;
