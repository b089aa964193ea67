//! What the engine saves to `alerts.json` in the state directory, and how: active alerts, groups,
//! silences, and the notifications it decided that the dispatcher does not hold yet (`pending`).
//!
//! The file is written whole in one atomic write ([`write_atomic`]), so a decision and the
//! notification it produced are committed together: a crash before the write forgets both (the
//! engine decides again, and nothing was sent), a crash after it keeps both (the notification is
//! handed over again with its id, and the dispatcher accepts it once). A pending notification is
//! let go once the dispatcher holds it, which keeps the file small.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::silence::Silence;
use super::{ActiveAlert, AlertEngine, Group};
use crate::base::Timestamp;
use crate::base::write_atomic;
use crate::notification::Notification;

/// The engine's state, as saved.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Saved {
    pub(super) active: BTreeMap<String, ActiveAlert>,
    pub(super) groups: BTreeMap<String, Group>,
    pub(super) silences: Vec<Silence>,
    pub(super) next_silence: u64,
    /// Decided, in the order decided, and not yet held by the dispatcher. Absent from files
    /// written before it existed.
    #[serde(default)]
    pub(super) pending: Vec<Notification>,
    /// Silences expired through the API, by id, with when: kept [`super::silence::TOMBSTONE`] so
    /// that the other replicas learn of the expiry (`ha.enabled`). Absent from older files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) expired: BTreeMap<String, Timestamp>,
}

/// What of the engine's state follows the leader (`ha.enabled`): the leader writes it where the
/// next leader reads it on taking over ([`AlertEngine::adopt`]). The firing set (`active`), the
/// notification log per group (`groups`: which alert went out firing, when the group was last
/// sent) and the notifications decided and not known to be delivered (`pending`, with their
/// ids, so a notification in flight at the failover goes out again with the same
/// `Idempotency-Key`). Silences follow on their own ([`super::SharedSilences`]): any replica
/// writes them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Handover {
    active: BTreeMap<String, ActiveAlert>,
    groups: BTreeMap<String, Group>,
    /// Decided and not known to be delivered, oldest first.
    pub pending: Vec<Notification>,
}

impl Handover {
    /// Drops the alerts of the firing set that do not fire yet (still within their `for`):
    /// the first thing dropped to fit a size limit. A new leader then starts their `for` again
    /// from its own view, which only delays them. Returns how many were dropped.
    pub fn drop_not_firing(&mut self) -> usize {
        let before = self.active.len();
        self.active.retain(|_, a| a.firing_since.is_some());
        before - self.active.len()
    }

    /// Drops the group sent longest ago (never sent counts as oldest), with its alerts and
    /// pending notifications: the next thing dropped to fit a size limit. A new leader may page
    /// again for it, or miss its resolve. Returns the group's key, `None` when none is left.
    pub fn drop_oldest_group(&mut self) -> Option<String> {
        let key = self
            .groups
            .iter()
            .min_by_key(|(_, g)| g.last_sent)
            .map(|(k, _)| k.clone())?;
        let group = self.groups.remove(&key)?;
        for fingerprint in group.alerts.keys() {
            if !self
                .groups
                .values()
                .any(|g| g.alerts.contains_key(fingerprint))
            {
                self.active.remove(fingerprint);
            }
        }
        self.pending.retain(|n| n.group_key != key);
        Some(key)
    }

    /// Whether there is nothing to hand over.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty() && self.groups.is_empty() && self.pending.is_empty()
    }
}

impl AlertEngine {
    /// What follows the leader, as of now.
    pub fn handover(&self) -> Handover {
        Handover {
            active: self.state.active.clone(),
            groups: self.state.groups.clone(),
            pending: self.state.pending.clone(),
        }
    }

    /// Takes over what the previous leader handed over: its groups and pending notifications
    /// replace this replica's own (which decided the same things at other moments, under other
    /// ids), and its firing set wins over this replica's. An alert that fires here but not
    /// there starts its `for` again at `now`: the previous leader did not page for it, and may
    /// have resolved it a moment before this replica's watch saw the change. Alerts there but
    /// not here resolve at the next evaluation, and go out resolved if they went out firing.
    pub fn adopt(&mut self, handover: Handover, now: Timestamp) {
        let own = std::mem::replace(&mut self.state.active, handover.active);
        for (fingerprint, mut alert) in own {
            if self.state.active.contains_key(&fingerprint) {
                continue;
            }
            if alert.firing_since.is_some() {
                alert.firing_since = None;
                alert.active_since = now;
            }
            self.state.active.insert(fingerprint, alert);
        }
        self.state.groups = handover.groups;
        self.state.pending = handover.pending;
        self.save();
    }
}

/// Saves the state; a failure is logged (the engine goes on from memory).
pub(super) fn save(path: &Path, state: &Saved) {
    let written = serde_json::to_vec(state)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_atomic(path, &bytes));
    if let Err(error) = written {
        tracing::error!(%error, path = %path.display(), "cannot save the alert state");
    }
}

/// The saved state; a missing file is a fresh start, a corrupt one is set aside (logged, never
/// fatal).
pub(super) fn load(path: &Path) -> Saved {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Saved::default(),
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "cannot read the alert state; starting afresh");
            return Saved::default();
        }
    };
    match serde_json::from_str::<Saved>(&text) {
        Ok(mut saved) => {
            saved.silences = saved
                .silences
                .into_iter()
                .filter_map(Silence::restore)
                .collect();
            saved
        }
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "corrupt alert state set aside; starting afresh");
            let _ = std::fs::rename(path, path.with_extension("json.corrupt"));
            Saved::default()
        }
    }
}
