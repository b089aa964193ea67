//! The alert engine: from the model to notifications, the way Alertmanager does it.
//!
//! Each evaluation asks [`rules::conditions`] which alerts hold now; an alert is *pending* until
//! its condition has held for its `for` duration, then *firing*, then *resolved* when the
//! condition goes. Firing alerts that no silence matches are routed ([`route`]) to receivers,
//! grouped by labels, and flushed as [`Notification`]s after `group_wait`, then on change after
//! `group_interval`, and again every `repeat_interval`. Resolved alerts go out once, if they were
//! notified firing. The engine is synchronous and does no I/O but for saving its state to the
//! state directory, so that a restart neither repeats nor forgets a notification.
//!
//! What it decides it also keeps, in the same save, until the dispatcher holds it
//! ([`AlertEngine::release_held`]); after a crash the caller hands [`AlertEngine::pending`] over
//! again, with the original ids, so no notification is lost between the decision and the outbox.

mod config;
mod deadline;
mod route;
mod rules;
mod silence;
mod state;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::base::Timestamp;
use crate::model::Model;
use crate::notification::{self, Notification, Status};
pub use config::{AlertSettings, SilenceLimits, default_destination};
use route::Destination;
pub use silence::{
    MAX_CREATED_BY_LENGTH, SharedSilences, Silence, SilenceError, SilenceRequest, TOMBSTONE,
};
pub use state::Handover;
use state::Saved;

/// The alert engine, shared by the model task (which evaluates it) and the API and metrics
/// (which read it and change silences).
pub type SharedEngine = std::sync::Arc<std::sync::Mutex<AlertEngine>>;

/// An alert whose condition holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActiveAlert {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// When the condition first held.
    pub active_since: Timestamp,
    /// When it started firing (after its `for`).
    pub firing_since: Option<Timestamp>,
    /// Its `for` duration.
    pub for_duration: SignedDuration,
    /// The link back to dsguard.
    pub generator_url: String,
}

/// A group of alerts for one receiver.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Group {
    destination: Destination,
    group_labels: BTreeMap<String, String>,
    /// By fingerprint; `notified` says whether it went out firing.
    alerts: BTreeMap<String, (notification::Alert, bool)>,
    created: Timestamp,
    last_sent: Option<Timestamp>,
    dirty: bool,
}

/// The alert engine.
#[derive(Debug)]
pub struct AlertEngine {
    settings: AlertSettings,
    rollouts: rules::RolloutTracker,
    /// When the rules said, at the last evaluation, that time alone may change them.
    rules_change_at: Option<Timestamp>,
    state: Saved,
    state_file: Option<PathBuf>,
    /// Put before the number of each silence id; a replica's own with `ha.enabled`.
    silence_prefix: String,
    /// Woken when something outside an evaluation changes what it decides (a silence).
    changes: Arc<tokio::sync::Notify>,
}

/// One alert as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct AlertView {
    /// `pending`, `firing` or `silenced`.
    pub state: &'static str,
    /// The alert.
    #[serde(flatten)]
    pub alert: ActiveAlert,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The silences that match it.
    pub silenced_by: Vec<String>,
}

impl AlertEngine {
    /// An engine; with a state directory it resumes from `alerts.json` there (a corrupt file is
    /// logged and set aside, never fatal).
    pub fn new(settings: AlertSettings, state_dir: Option<PathBuf>) -> Self {
        let state_file = state_dir.map(|d| d.join("alerts.json"));
        let state = state_file.as_deref().map(state::load).unwrap_or_default();
        Self {
            settings,
            rollouts: rules::RolloutTracker::default(),
            rules_change_at: None,
            state,
            state_file,
            silence_prefix: String::new(),
            changes: Arc::default(),
        }
    }

    /// Evaluates the rules at `now` and returns the notifications due.
    pub fn evaluate(&mut self, model: &Model, now: Timestamp) -> Vec<Notification> {
        self.evaluate_with_advice(model, now, &|_, _| None)
    }

    /// [`AlertEngine::evaluate`], with the reconcile plan's advice added to the alerts of the
    /// cells it closes (annotation `advice`).
    pub fn evaluate_with_advice(
        &mut self,
        model: &Model,
        now: Timestamp,
        advice: rules::Advice<'_>,
    ) -> Vec<Notification> {
        let rules::Conditions {
            holding: conditions,
            changes_at,
        } = rules::conditions(
            model,
            now,
            &self.settings.runbook_base_url,
            &mut self.rollouts,
            advice,
        );
        self.rules_change_at = changes_at;
        let before = serde_json::to_string(&self.state.active).unwrap_or_default();
        let mut holding = BTreeMap::new();
        for condition in conditions {
            let fingerprint = fingerprint(&condition.labels);
            let generator_url = format!(
                "{}{}",
                self.settings.external_url.trim_end_matches('/'),
                condition.api_path
            );
            let alert = self
                .state
                .active
                .entry(fingerprint.clone())
                .or_insert_with(|| ActiveAlert {
                    labels: condition.labels.clone(),
                    annotations: condition.annotations.clone(),
                    active_since: now,
                    firing_since: None,
                    for_duration: condition.for_duration,
                    generator_url,
                });
            alert.annotations = condition.annotations;
            if alert.firing_since.is_none()
                && now.duration_since(alert.active_since) >= alert.for_duration
            {
                alert.firing_since = Some(now);
            }
            holding.insert(fingerprint, ());
        }
        // While blind, dsguard cannot tell whether a coverage alert still holds: it neither
        // resolves nor notifies them (a restart starts blind; it must not resolve everything).
        let blind = model.blindness().is_some();
        let gone: Vec<String> = self
            .state
            .active
            .iter()
            .filter(|(f, a)| !holding.contains_key(*f) && (!blind || is_blind_alert(a)))
            .map(|(f, _)| f.clone())
            .collect();
        for fingerprint in gone {
            if let Some(alert) = self.state.active.remove(&fingerprint)
                && alert.firing_since.is_some()
            {
                self.resolve(&fingerprint, now);
            }
        }
        self.group_firing(now);
        let notifications = self.flush(now, blind);
        let after = serde_json::to_string(&self.state.active).unwrap_or_default();
        let collected = self.collect_expired_silences(now);
        // Decided and pending in one save: no crash can keep the one and lose the other.
        self.state.pending.extend(notifications.iter().cloned());
        if before != after || !notifications.is_empty() || collected {
            self.save();
        }
        notifications
    }

    /// The notifications decided and not yet released, oldest first: after a restart, what to
    /// hand over again (the dispatcher accepts each id once).
    pub fn pending(&self) -> Vec<Notification> {
        self.state.pending.clone()
    }

    /// How many decided notifications are not released yet (see [`AlertEngine::pending`]).
    pub fn pending_count(&self) -> usize {
        self.state.pending.len()
    }

    /// Lets go of the pending notifications that `held` says the dispatcher holds (durable in
    /// its outbox, or finished); returns how many are still pending.
    pub fn release_held(&mut self, held: &dyn Fn(&Notification) -> bool) -> usize {
        let before = self.state.pending.len();
        self.state.pending.retain(|n| !held(n));
        if self.state.pending.len() != before {
            self.save();
        }
        self.state.pending.len()
    }

    /// Keeps of the pending notifications only the latest per receiver and group, the state a
    /// receiver would end in; returns how many are left. A follower (`ha.enabled`) hands
    /// nothing over, so without this its pending list would grow for as long as it follows.
    pub fn coalesce_pending(&mut self) -> usize {
        let before = self.state.pending.len();
        let mut seen = std::collections::BTreeSet::new();
        let mut kept: Vec<Notification> = Vec::with_capacity(before);
        for notification in self.state.pending.drain(..).rev() {
            let key = (
                notification.receiver.clone(),
                notification.group_key.clone(),
            );
            if seen.insert(key) {
                kept.push(notification);
            }
        }
        kept.reverse();
        self.state.pending = kept;
        if self.state.pending.len() != before {
            self.save();
        }
        self.state.pending.len()
    }

    /// Puts every firing, unsilenced alert into its groups.
    fn group_firing(&mut self, now: Timestamp) {
        let mut defaults = default_destination();
        defaults.receiver = self.settings.route.receiver.clone().unwrap_or_default();
        let firing: Vec<(String, ActiveAlert)> = self
            .state
            .active
            .iter()
            .filter(|(_, a)| a.firing_since.is_some())
            .filter(|(_, a)| {
                !self
                    .state
                    .silences
                    .iter()
                    .any(|s| s.silences(&a.labels, now))
            })
            .map(|(f, a)| (f.clone(), a.clone()))
            .collect();
        let silenced: Vec<String> = self
            .state
            .active
            .iter()
            .filter(|(_, a)| {
                self.state
                    .silences
                    .iter()
                    .any(|s| s.silences(&a.labels, now))
            })
            .map(|(f, _)| f.clone())
            .collect();
        for group in self.state.groups.values_mut() {
            for fingerprint in &silenced {
                group.alerts.remove(fingerprint);
            }
        }
        for (fingerprint, alert) in firing {
            for destination in self.settings.route.destinations(&alert.labels, &defaults) {
                if destination.receiver.is_empty() {
                    continue;
                }
                let group_labels: BTreeMap<String, String> = destination
                    .group_by
                    .iter()
                    .filter_map(|l| alert.labels.get(l).map(|v| (l.clone(), v.clone())))
                    .collect();
                let key = format!(
                    "{}:{}:{:?}",
                    destination.route_id, destination.receiver, group_labels
                );
                let group = self.state.groups.entry(key).or_insert_with(|| Group {
                    destination: destination.clone(),
                    group_labels,
                    alerts: BTreeMap::new(),
                    created: now,
                    last_sent: None,
                    dirty: true,
                });
                let entry = notification::Alert {
                    status: Status::Firing,
                    labels: alert.labels.clone(),
                    annotations: alert.annotations.clone(),
                    starts_at: alert.firing_since.unwrap_or(now),
                    ends_at: None,
                    generator_url: alert.generator_url.clone(),
                    fingerprint: fingerprint.clone(),
                };
                match group.alerts.get_mut(&fingerprint) {
                    Some((existing, _)) if *existing == entry => {}
                    Some((existing, _)) => {
                        *existing = entry;
                        group.dirty = true;
                    }
                    None => {
                        group.alerts.insert(fingerprint.clone(), (entry, false));
                        group.dirty = true;
                    }
                }
            }
        }
    }

    fn resolve(&mut self, fingerprint: &str, now: Timestamp) {
        for group in self.state.groups.values_mut() {
            let notified = match group.alerts.get_mut(fingerprint) {
                Some((alert, notified)) => {
                    alert.status = Status::Resolved;
                    alert.ends_at = Some(now);
                    *notified
                }
                None => continue,
            };
            if notified {
                group.dirty = true;
            } else {
                group.alerts.remove(fingerprint);
            }
        }
    }

    /// The notifications due at `now`; while blind, only `DsguardBlind`'s.
    fn flush(&mut self, now: Timestamp, blind: bool) -> Vec<Notification> {
        let mut out = Vec::new();
        for (key, group) in &mut self.state.groups {
            // While blind only DsguardBlind speaks; the others wait, neither sent nor dropped.
            if blind
                && group.alerts.values().any(|(a, _)| {
                    a.labels.get("alertname").map(String::as_str) != Some(BLIND_ALERT)
                })
            {
                continue;
            }
            let since = |t: Timestamp| now.duration_since(t);
            let firing = group
                .alerts
                .values()
                .any(|(a, _)| a.status == Status::Firing);
            let due = match group.last_sent {
                None => since(group.created) >= group.destination.group_wait,
                Some(last) if group.dirty => since(last) >= group.destination.group_interval,
                Some(last) => firing && since(last) >= group.destination.repeat_interval,
            };
            if !due || group.alerts.is_empty() {
                continue;
            }
            let repeat = group.last_sent.is_some() && !group.dirty;
            let alerts: Vec<notification::Alert> =
                group.alerts.values().map(|(a, _)| a.clone()).collect();
            out.push(Notification {
                receiver: group.destination.receiver.clone(),
                group_key: key.clone(),
                status: if firing {
                    Status::Firing
                } else {
                    Status::Resolved
                },
                group_labels: group.group_labels.clone(),
                common_labels: common(alerts.iter().map(|a| &a.labels)),
                common_annotations: common(alerts.iter().map(|a| &a.annotations)),
                alerts,
                repeat,
                test: false,
                created_at: now,
            });
            group.alerts.retain(|_, (a, _)| a.status == Status::Firing);
            for (_, notified) in group.alerts.values_mut() {
                *notified = true;
            }
            group.last_sent = Some(now);
            group.dirty = false;
        }
        self.state.groups.retain(|_, g| !g.alerts.is_empty());
        out
    }

    /// Every active alert, firing ones first.
    pub fn alerts(&self, now: Timestamp) -> Vec<AlertView> {
        let mut views: Vec<AlertView> = self
            .state
            .active
            .iter()
            .map(|(fingerprint, alert)| {
                let silenced_by: Vec<String> = self
                    .state
                    .silences
                    .iter()
                    .filter(|s| s.silences(&alert.labels, now))
                    .map(|s| s.id.clone())
                    .collect();
                let state = match (alert.firing_since, silenced_by.is_empty()) {
                    (None, _) => "pending",
                    (Some(_), true) => "firing",
                    (Some(_), false) => "silenced",
                };
                AlertView {
                    state,
                    alert: alert.clone(),
                    fingerprint: fingerprint.clone(),
                    silenced_by,
                }
            })
            .collect();
        views.sort_by(|a, b| {
            (a.state != "firing", &a.alert.labels).cmp(&(b.state != "firing", &b.alert.labels))
        });
        views
    }

    /// Creates a silence, within `alerting.silences`.
    pub fn silence(
        &mut self,
        request: SilenceRequest,
        now: Timestamp,
    ) -> Result<Silence, SilenceError> {
        self.collect_expired_silences(now);
        let active = self.state.silences.len();
        if active >= self.settings.silences.max_active {
            return Err(SilenceError::TooMany(active));
        }
        let id = format!("{}s{}", self.silence_prefix, self.state.next_silence + 1);
        let silence = Silence::create(request, id, now, &self.settings.silences)?;
        self.state.next_silence += 1;
        self.state.silences.push(silence.clone());
        self.save();
        self.changes.notify_one();
        Ok(silence)
    }

    /// Silences not yet expired.
    pub fn silences(&mut self, now: Timestamp) -> Vec<Silence> {
        self.collect_expired_silences(now);
        self.state.silences.clone()
    }

    /// Expires a silence now; false if there is none with this id.
    pub fn expire_silence(&mut self, id: &str, now: Timestamp) -> bool {
        let Some(silence) = self
            .state
            .silences
            .iter_mut()
            .find(|s| s.id == id && s.ends_at > now)
        else {
            return false;
        };
        silence.ends_at = now;
        self.state.expired.insert(id.to_owned(), now);
        self.save();
        self.changes.notify_one();
        true
    }

    fn save(&self) {
        if let Some(path) = &self.state_file {
            state::save(path, &self.state);
        }
    }
}

/// The alert that speaks while the others are held back, and that no silence mutes.
const BLIND_ALERT: &str = "DsguardBlind";

fn is_blind_alert(alert: &ActiveAlert) -> bool {
    alert.labels.get("alertname").map(String::as_str) == Some(BLIND_ALERT)
}

/// A stable identity of a label set: FNV-1a over the sorted pairs (stable across versions,
/// unlike `std`'s hasher).
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for byte in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut common = first.clone();
    for map in maps {
        common.retain(|k, v| map.get(k) == Some(v));
    }
    common
}

#[cfg(test)]
mod tests;
