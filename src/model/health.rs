//! Watch health and blindness: dsguard must never alert on what it cannot see. Until every
//! watch has synced, and while any watch has gone without a success for longer than the
//! staleness bound since it first failed, it is blind.
//!
//! A success is anything that proves the API server answers this watch: a list that completed
//! ([`WatchEvent::Synced`]), a watch the server accepted ([`WatchEvent::WatchStarted`], which
//! comes even when nothing changed, so a quiet cluster's watch heals on its own) and an object
//! event. Starting a list ([`WatchEvent::Listing`]) is only an attempt: the watcher emits it
//! before every retried list, so it must not end a failure.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde::Serialize;

use crate::base::Timestamp;
use crate::cluster::{Resource, WatchEvent};

/// Why dsguard is blind, and since when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Blindness {
    /// When it turned blind.
    pub since: Timestamp,
    /// Why, for people.
    pub reason: String,
}

/// One watch's health.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResourceHealth {
    /// The first list completed.
    pub synced: bool,
    /// Failing since this moment, with no success (completed list, accepted watch, object
    /// event) after it.
    pub failing_since: Option<Timestamp>,
    /// The last event of any kind.
    pub last_event: Option<Timestamp>,
    /// Lists started (the first, and every relist after a lost watch).
    pub lists: u64,
    /// Failures reported by the watcher, by reason.
    pub failures: BTreeMap<&'static str, u64>,
    /// Events by type.
    pub events: BTreeMap<&'static str, u64>,
}

/// The health of every watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchHealth {
    staleness: SignedDuration,
    started: Timestamp,
    resources: BTreeMap<Resource, ResourceHealth>,
    blind: Option<Blindness>,
}

impl WatchHealth {
    /// Nothing synced yet: blind from `now`.
    pub fn new(staleness: SignedDuration, now: Timestamp) -> Self {
        let mut health = Self {
            staleness,
            started: now,
            resources: Resource::ALL
                .into_iter()
                .map(|r| (r, ResourceHealth::default()))
                .collect(),
            blind: None,
        };
        health.judge(now);
        health
    }

    /// Books one event.
    pub fn observe(&mut self, event: &WatchEvent, now: Timestamp) {
        let (resource, kind) = match event {
            WatchEvent::Listing(r) => (*r, "listing"),
            WatchEvent::Applied(o) => (resource_of(o), "applied"),
            WatchEvent::Deleted(r) => (resource_of_ref(r), "deleted"),
            WatchEvent::Synced(r) => (*r, "synced"),
            WatchEvent::WatchStarted(r) => (*r, "watch_started"),
            WatchEvent::Failed(r, _) => (*r, "failed"),
            WatchEvent::Malformed(r, _) => (*r, "malformed"),
        };
        let health = self.resources.entry(resource).or_default();
        health.last_event = Some(now);
        *health.events.entry(kind).or_default() += 1;
        match event {
            WatchEvent::Failed(_, reason) => {
                health.failing_since.get_or_insert(now);
                *health.failures.entry(reason).or_default() += 1;
            }
            // An attempt, not a success: a list that keeps failing restarts with one each time.
            WatchEvent::Listing(_) => health.lists += 1,
            WatchEvent::Synced(_) => {
                health.synced = true;
                health.failing_since = None;
            }
            // The server answered: a list or a watch that started, an object that arrived.
            WatchEvent::WatchStarted(_)
            | WatchEvent::Applied(_)
            | WatchEvent::Deleted(_)
            | WatchEvent::Malformed(..) => health.failing_since = None,
        }
    }

    /// Re-judges blindness at `now`.
    pub fn judge(&mut self, now: Timestamp) {
        let reason = self.resources.iter().find_map(|(resource, health)| {
            if !health.synced {
                return Some(format!(
                    "waiting for the first list of {}",
                    resource.as_str()
                ));
            }
            let since = health.failing_since?;
            (now.duration_since(since) >= self.staleness).then(|| {
                format!(
                    "the {} watch has been failing since {since}",
                    resource.as_str()
                )
            })
        });
        self.blind = match (reason, self.blind.take()) {
            (None, _) => None,
            (Some(reason), Some(blind)) => Some(Blindness { reason, ..blind }),
            (Some(reason), None) => Some(Blindness {
                since: if self.resources.values().all(|h| h.last_event.is_none()) {
                    self.started
                } else {
                    now
                },
                reason,
            }),
        };
    }

    /// The next moment at which blindness may change without an event: a failing watch
    /// reaching the staleness bound. `None` when no watch is failing.
    pub fn next_judgement(&self) -> Option<Timestamp> {
        self.resources
            .values()
            .filter_map(|h| h.failing_since)
            .map(|since| since.checked_add(self.staleness).unwrap_or(Timestamp::MAX))
            .min()
    }

    /// Why dsguard is blind, if it is.
    pub fn blindness(&self) -> Option<&Blindness> {
        self.blind.as_ref()
    }

    /// Every watch's health.
    pub fn resources(&self) -> &BTreeMap<Resource, ResourceHealth> {
        &self.resources
    }
}

fn resource_of(object: &crate::cluster::Object) -> Resource {
    use crate::cluster::Object;
    match object {
        Object::Node(_) => Resource::Nodes,
        Object::DaemonSet(_) => Resource::DaemonSets,
        Object::Pod(_) => Resource::Pods,
    }
}

fn resource_of_ref(object: &crate::cluster::ObjectRef) -> Resource {
    use crate::cluster::ObjectRef;
    match object {
        ObjectRef::Node(_) => Resource::Nodes,
        ObjectRef::DaemonSet(_) => Resource::DaemonSets,
        ObjectRef::Pod(_) => Resource::Pods,
    }
}
