//! The durable outbox and the notification log, in `notify.state_dir` (or only in memory without
//! it).
//!
//! - `outbox/<id>.json`: one file per notification accepted from the engine and not yet finished
//!   (delivered, dropped or expired). Written before the notification is handed to its receiver,
//!   removed after it is finished; replayed in id order at start.
//! - `log.json`: per (receiver, group key) the last *firing* notification delivered: its firing
//!   and resolved fingerprints and when; for an Alertmanager receiver also its alerts (for
//!   re-posting). A delivered resolve removes the entry: "no entry" and "last was resolved"
//!   decide the same way, so the log holds only groups that are firing. It also keeps the ids
//!   of the last [`FINISHED_IDS`] notifications finished.
//!
//! A notification is known by its id ([`Notification::id`]): one already in the outbox or among
//! the last finished is not accepted again ([`Store::knows`]). The alert engine relies on it: it
//! keeps what it decided until the outbox holds it, and hands it over again after a crash.
//!
//! Every file is written whole to a temporary file, synced and renamed, so a `kill -9` leaves
//! either the old or the new version. The log is written before the outbox file is removed:
//! a crash in between replays a notification the log already shows as delivered, and the
//! dedup rule ([`decide`]) drops it. What cannot be closed is a crash after the receiver got the
//! request and before its answer was recorded: that notification goes out again, with the same
//! id (`Idempotency-Key`, `Message-ID`) so the receiver can recognise it.
//!
//! With `ha.enabled` the log and the notifications not finished follow the leader
//! ([`Store::handover`], written to a ConfigMap by `app`); a replica that takes over adopts the
//! log ([`Store::adopt`]), and of its own outbox (from an earlier term) sends only what the
//! previous leader had not finished.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::NotifyError;
use super::{Alert, Notification, Status};
use crate::base::{Timestamp, write_atomic};

/// How many ids of finished notifications the log keeps. The engine lets go of a notification
/// on its next tick (250 ms) after the outbox holds it, so a crash can make it hand over again
/// only notifications finished within that tick; more than a whole queue
/// ([`super::QUEUE_CAPACITY`]) finishing in one tick is out of reach, and each id is 16
/// characters, so the log stays near 20 KB.
pub(crate) const FINISHED_IDS: usize = super::QUEUE_CAPACITY;

/// A notification accepted by the dispatcher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Queued {
    /// Its place in the outbox; increases with every notification accepted.
    pub(crate) id: u64,
    /// When the dispatcher accepted it.
    pub(crate) accepted_at: Timestamp,
    /// The notification.
    pub(crate) notification: Notification,
}

/// What the log remembers of the last firing notification delivered to a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Delivered {
    /// Sorted fingerprints of its firing alerts.
    pub(crate) firing: Vec<String>,
    /// Sorted fingerprints of its resolved alerts.
    pub(crate) resolved: Vec<String>,
    /// When it was delivered.
    pub(crate) at: Timestamp,
    /// Its firing alerts, kept for receivers that re-post them (Alertmanager).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) alerts: Vec<Alert>,
}

impl Delivered {
    /// The log entry for a delivered firing notification.
    pub(crate) fn of(n: &Notification, at: Timestamp, keep_alerts: bool) -> Self {
        let (firing, resolved) = fingerprints(n);
        let alerts = if keep_alerts {
            n.alerts
                .iter()
                .filter(|a| a.status == Status::Firing)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        Self {
            firing,
            resolved,
            at,
            alerts,
        }
    }
}

/// Sorted fingerprints of the firing and of the resolved alerts.
fn fingerprints(n: &Notification) -> (Vec<String>, Vec<String>) {
    let mut firing = Vec::new();
    let mut resolved = Vec::new();
    for alert in &n.alerts {
        match alert.status {
            Status::Firing => firing.push(alert.fingerprint.clone()),
            Status::Resolved => resolved.push(alert.fingerprint.clone()),
        }
    }
    firing.sort();
    resolved.sort();
    (firing, resolved)
}

/// What to do with a notification, given the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Send it.
    Send,
    /// The same firing notification was delivered already (and this is not a repeat).
    Duplicate,
    /// A resolve for a group whose last delivered notification was not firing.
    ResolvedWithoutFiring,
    /// A resolve for a receiver with `send_resolved: false`.
    ResolvedNotWanted,
}

/// The dedup rule.
pub(crate) fn decide(n: &Notification, last: Option<&Delivered>, send_resolved: bool) -> Decision {
    if n.test {
        return Decision::Send;
    }
    match n.status {
        Status::Resolved if last.is_none() => Decision::ResolvedWithoutFiring,
        Status::Resolved if !send_resolved => Decision::ResolvedNotWanted,
        Status::Resolved => Decision::Send,
        Status::Firing => {
            let (firing, resolved) = fingerprints(n);
            match last {
                Some(l) if !n.repeat && l.firing == firing && l.resolved == resolved => {
                    Decision::Duplicate
                }
                _ => Decision::Send,
            }
        }
    }
}

/// The log file's content.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LogFile {
    version: u32,
    entries: Vec<LogEntry>,
    /// Ids of the last notifications finished, oldest first.
    #[serde(default)]
    finished: Vec<String>,
}

/// The notification log as it follows the leader (`ha.enabled`): per (receiver, group) the last
/// firing notification delivered. The next leader takes it over, so that it neither repeats a
/// page nor drops a resolve as "never fired".
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SharedLog {
    entries: Vec<LogEntry>,
}

impl SharedLog {
    /// Drops the firing alerts kept for re-posting (Alertmanager receivers): the first thing
    /// dropped to fit a size limit; the next leader re-posts a group again once it is notified.
    pub fn drop_reposts(&mut self) {
        for entry in &mut self.entries {
            entry.delivered.alerts.clear();
        }
    }

    /// Drops the entry of one group (dropped from the alert state to fit a size limit too).
    pub fn drop_group(&mut self, group_key: &str) {
        self.entries.retain(|e| e.group_key != group_key);
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct LogEntry {
    receiver: String,
    group_key: String,
    #[serde(flatten)]
    delivered: Delivered,
}

/// The outbox and the log.
#[derive(Debug)]
pub(crate) struct Store {
    dir: Option<PathBuf>,
    next_id: u64,
    log: BTreeMap<(String, String), Delivered>,
    /// The notifications in the outbox, by id.
    outboxed: HashMap<String, Notification>,
    /// Ids of notifications in the outbox that another leader finished meanwhile
    /// ([`Store::adopt`]): not to be sent.
    superseded: HashSet<String>,
    /// Ids of the last [`FINISHED_IDS`] notifications finished, oldest first.
    finished: VecDeque<String>,
}

fn state_error(path: &Path) -> impl FnOnce(io::Error) -> NotifyError + '_ {
    move |source| NotifyError::State {
        path: path.to_owned(),
        source,
    }
}

impl Store {
    /// Opens (creating) the state directory and reads what it holds: the log, and the outbox in
    /// id order. Unreadable outbox files are renamed `*.bad` and skipped.
    pub(crate) fn open(dir: Option<&Path>) -> Result<(Self, Vec<Queued>), NotifyError> {
        let mut store = Self {
            dir: dir.map(Path::to_owned),
            next_id: 1,
            log: BTreeMap::new(),
            outboxed: HashMap::new(),
            superseded: HashSet::new(),
            finished: VecDeque::new(),
        };
        let Some(dir) = dir else {
            return Ok((store, Vec::new()));
        };
        let outbox = dir.join("outbox");
        fs::create_dir_all(&outbox).map_err(state_error(&outbox))?;
        let log_path = dir.join("log.json");
        match fs::read(&log_path) {
            Ok(bytes) => {
                let file: LogFile = serde_json::from_slice(&bytes).map_err(|e| {
                    state_error(&log_path)(io::Error::new(io::ErrorKind::InvalidData, e))
                })?;
                for e in file.entries {
                    store.log.insert((e.receiver, e.group_key), e.delivered);
                }
                store.finished = file.finished.into();
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(state_error(&log_path)(e)),
        }
        let mut queued = Vec::new();
        for entry in fs::read_dir(&outbox).map_err(state_error(&outbox))? {
            let path = entry.map_err(state_error(&outbox))?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") => {}
                Some("tmp") => {
                    let _ = fs::remove_file(&path);
                    continue;
                }
                _ => continue,
            }
            let parsed = fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Queued>(&bytes).ok());
            match parsed {
                Some(q) => queued.push(q),
                None => {
                    tracing::warn!(path = %path.display(), "unreadable outbox file set aside");
                    let _ = fs::rename(&path, path.with_extension("bad"));
                }
            }
        }
        queued.sort_by_key(|q| q.id);
        store.outboxed = queued
            .iter()
            .map(|q| (q.notification.id(), q.notification.clone()))
            .collect();
        store.next_id = queued.last().map_or(1, |q| q.id + 1);
        Ok((store, queued))
    }

    /// Whether notifications survive a restart.
    pub(crate) fn is_durable(&self) -> bool {
        self.dir.is_some()
    }

    /// Whether a notification with this id is in the outbox or among the last finished: handed
    /// over again, it is not to be accepted twice.
    pub(crate) fn knows(&self, id: &str) -> bool {
        self.outboxed.contains_key(id) || self.finished.iter().any(|f| f == id)
    }

    /// Accepts a notification: gives it an id and writes it to the outbox. When the write fails
    /// the notification still comes back, to be delivered from memory.
    pub(crate) fn enqueue(
        &mut self,
        notification: Notification,
        now: Timestamp,
    ) -> (Queued, io::Result<()>) {
        let queued = Queued {
            id: self.next_id,
            accepted_at: now,
            notification,
        };
        self.next_id += 1;
        let written = match &self.dir {
            Some(dir) => serde_json::to_vec(&queued)
                .map_err(io::Error::other)
                .and_then(|bytes| write_atomic(&outbox_path(dir, queued.id), &bytes)),
            None => Ok(()),
        };
        // Known only once written: one delivered from memory is not held against a crash, and
        // the engine keeps it until it is finished.
        if written.is_ok() {
            self.outboxed
                .insert(queued.notification.id(), queued.notification.clone());
        }
        (queued, written)
    }

    /// The last firing notification delivered to this group.
    pub(crate) fn last(&self, receiver: &str, group_key: &str) -> Option<&Delivered> {
        self.log.get(&(receiver.to_owned(), group_key.to_owned()))
    }

    /// Finishes a notification: updates the log (`Some` records a delivered firing notification,
    /// `None` forgets the group, `keep` leaves the log alone) and its id among the finished, then
    /// removes it from the outbox.
    pub(crate) fn finish(&mut self, queued: &Queued, update: LogUpdate) -> io::Result<()> {
        let key = (
            queued.notification.receiver.clone(),
            queued.notification.group_key.clone(),
        );
        match update {
            LogUpdate::Keep => {}
            LogUpdate::Set(delivered) => {
                self.log.insert(key, delivered);
            }
            LogUpdate::Forget => {
                self.log.remove(&key);
            }
        }
        let id = queued.notification.id();
        self.outboxed.remove(&id);
        self.superseded.remove(&id);
        if self.finished.len() == FINISHED_IDS {
            self.finished.pop_front();
        }
        self.finished.push_back(id);
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        // Written even when only the finished ids changed: an id must be among them before its
        // outbox file goes, or a crash in between would let it be accepted again.
        self.write_log(dir)?;
        match fs::remove_file(outbox_path(dir, queued.id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn entries(&self) -> Vec<LogEntry> {
        self.log
            .iter()
            .map(|((receiver, group_key), delivered)| LogEntry {
                receiver: receiver.clone(),
                group_key: group_key.clone(),
                delivered: delivered.clone(),
            })
            .collect()
    }

    /// What follows the leader: the log, and of `decided` and the notifications in the outbox
    /// those not finished, oldest first.
    pub(crate) fn handover(&self, decided: Vec<Notification>) -> (SharedLog, Vec<Notification>) {
        let mut ids = HashSet::new();
        let mut unfinished: Vec<Notification> = decided
            .into_iter()
            .chain(
                self.outboxed
                    .iter()
                    .filter(|(id, _)| !self.superseded.contains(*id))
                    .map(|(_, n)| n.clone()),
            )
            .filter(|n| {
                let id = n.id();
                !self.finished.contains(&id) && ids.insert(id)
            })
            .collect();
        unfinished.sort_by_key(|n| n.created_at);
        let log = SharedLog {
            entries: self.entries(),
        };
        (log, unfinished)
    }

    /// Whether another leader finished this notification meanwhile ([`Store::adopt`]).
    pub(crate) fn is_superseded(&self, id: &str) -> bool {
        self.superseded.contains(id)
    }

    /// Takes over the log of the previous leader; of the notifications in this replica's outbox
    /// (from an earlier term) only those in `in_flight` (the previous leader's unfinished, by id)
    /// are still to be sent: it finished the others, or decided otherwise.
    pub(crate) fn adopt(&mut self, log: SharedLog, in_flight: &HashSet<String>) {
        self.log = log
            .entries
            .into_iter()
            .map(|e| ((e.receiver, e.group_key), e.delivered))
            .collect();
        self.superseded = self
            .outboxed
            .keys()
            .filter(|id| !in_flight.contains(*id))
            .cloned()
            .collect();
        if let Some(dir) = &self.dir
            && let Err(error) = self.write_log(dir)
        {
            tracing::error!(%error, "cannot write the notification log taken over");
        }
    }

    fn write_log(&self, dir: &Path) -> io::Result<()> {
        let file = LogFile {
            version: 1,
            entries: self.entries(),
            finished: self.finished.iter().cloned().collect(),
        };
        let bytes = serde_json::to_vec(&file).map_err(io::Error::other)?;
        write_atomic(&dir.join("log.json"), &bytes)
    }

    /// The firing alerts of every group last delivered to `receiver` (for re-posting).
    pub(crate) fn firing_alerts(&self, receiver: &str) -> Vec<Alert> {
        self.log
            .iter()
            .filter(|((r, _), _)| r == receiver)
            .flat_map(|(_, d)| d.alerts.iter().cloned())
            .collect()
    }
}

/// How finishing a notification changes the log.
#[derive(Debug)]
pub(crate) enum LogUpdate {
    /// Leave the log as it is.
    Keep,
    /// Record a delivered firing notification.
    Set(Delivered),
    /// Forget the group (a resolve was delivered or is not wanted).
    Forget,
}

fn outbox_path(dir: &Path, id: u64) -> PathBuf {
    dir.join("outbox").join(format!("{id:020}.json"))
}

#[cfg(test)]
mod tests;
