//! Leader election over a `coordination.k8s.io/v1` Lease, the decisions only: the `ha` section
//! of the settings, what the Lease says ([`LeaseRecord`]), what to do about it ([`next_step`]),
//! and whether this replica may act ([`Election`]). All of it is pure, with `now` passed in;
//! `lease.rs` does the API calls and the timing.
//!
//! The semantics are client-go's `leaderelection`: a candidate takes the Lease when it is free
//! or expired (`renewTime + leaseDurationSeconds < now`), the holder renews it every
//! `retry_period`, and every write is a replace with the `resourceVersion` it read, so of two
//! candidates racing for the same Lease exactly one wins (the other gets 409 Conflict).
//!
//! Never two acting leaders: a holder acts only while `now < last renewTime + renew_deadline`,
//! and another replica takes over only once `now > renewTime + lease_duration`. Since
//! `renew_deadline < lease_duration`, the old holder has stopped acting `lease_duration -
//! renew_deadline` (5 s by default) before anyone else may start, which also bounds the clock
//! skew between replicas the scheme tolerates.
//!
//! Hand-written on kube's own API rather than taken from a crate: of the election crates, only
//! `kube-lease-manager` builds with kube 5, and it writes the Lease with server-side apply and
//! patches (a `patch` grant), in whole seconds; see the commit that added this paragraph.

use std::path::Path;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::base::{Duration, SettingsError, Timestamp};

/// Where Kubernetes mounts the pod's namespace with its service account token.
pub const SERVICE_ACCOUNT_NAMESPACE: &str =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// High availability: several replicas, one leader by Lease.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HaSettings {
    /// Elect a leader; only the leader notifies and reconciles. Off: this replica always acts
    /// and never touches a Lease.
    pub enabled: bool,
    /// Name of the Lease; also the prefix of the ConfigMaps `<name>-state` and
    /// `<name>-silences` that hold what follows the leader.
    pub lease_name: String,
    /// Namespace of the Lease; by default the pod's own (its service account's namespace file,
    /// else `POD_NAMESPACE`).
    pub namespace: Option<String>,
    /// This replica's name in the Lease; by default `POD_NAME`, else the host name.
    pub identity: Option<String>,
    /// How long a Lease stays valid after its last renewal (client-go's default, 15 s).
    pub lease_duration: Duration,
    /// A leader that could not renew for this long stops acting (client-go's default, 10 s).
    pub renew_deadline: Duration,
    /// How often to try to acquire or renew (client-go's default, 2 s).
    pub retry_period: Duration,
}

impl Default for HaSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            lease_name: "dsguard".to_owned(),
            namespace: None,
            identity: None,
            lease_duration: Duration(SignedDuration::from_secs(15)),
            renew_deadline: Duration(SignedDuration::from_secs(10)),
            retry_period: Duration(SignedDuration::from_secs(2)),
        }
    }
}

impl HaSettings {
    /// Checks the timings: each strictly shorter than the next. Where the namespace comes from
    /// is checked at start ([`HaSettings::resolve_namespace`]): the pod's files are not there
    /// where settings are checked ahead of time.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.retry_period.0 <= SignedDuration::ZERO {
            return Err(SettingsError::invalid(
                "ha.retry_period",
                "must be more than zero",
            ));
        }
        if self.lease_duration.0 < SignedDuration::from_secs(1) {
            return Err(SettingsError::invalid(
                "ha.lease_duration",
                "must be at least 1s (the Lease counts whole seconds)",
            ));
        }
        if self.renew_deadline.0 >= self.lease_duration.0 {
            return Err(SettingsError::invalid(
                "ha.renew_deadline",
                "must be shorter than ha.lease_duration, or a leader could act after losing the lease",
            ));
        }
        if self.retry_period.0 >= self.renew_deadline.0 {
            return Err(SettingsError::invalid(
                "ha.retry_period",
                "must be shorter than ha.renew_deadline, or a leader could not renew in time",
            ));
        }
        if self.lease_name.is_empty() {
            return Err(SettingsError::invalid("ha.lease_name", "must not be empty"));
        }
        Ok(())
    }

    /// The namespace of the Lease: the setting, else the pod's own (its service account's
    /// namespace file, else `POD_NAMESPACE`).
    pub fn lease_namespace(&self) -> Option<String> {
        self.namespace
            .clone()
            .or_else(|| namespace_file(Path::new(SERVICE_ACCOUNT_NAMESPACE)))
            .or_else(|| {
                std::env::var("POD_NAMESPACE")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
    }

    /// The namespace of the Lease, or the error naming `ha.namespace` when neither the setting
    /// nor the pod says it.
    pub fn resolve_namespace(&self) -> Result<String, SettingsError> {
        self.lease_namespace().ok_or_else(|| {
            SettingsError::invalid(
                "ha.namespace",
                format!("required when ha.enabled is true outside a pod (no {SERVICE_ACCOUNT_NAMESPACE}, no POD_NAMESPACE)"),
            )
        })
    }

    /// This replica's identity: the setting, else `POD_NAME`, else the host name.
    pub fn own_identity(&self) -> String {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        self.identity
            .clone()
            .or_else(|| env("POD_NAME"))
            .or_else(|| env("HOSTNAME"))
            .or_else(|| namespace_file(Path::new("/etc/hostname")))
            .unwrap_or_else(|| format!("dsguard-{}", std::process::id()))
    }
}

/// The first line of a small file, trimmed, if any.
fn namespace_file(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// Whether this replica may act, and who holds the Lease, for `/readyz`, `/api/v1/status` and
/// the `dsguard_leader` gauge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Leadership {
    /// This replica's identity.
    pub identity: String,
    /// Whether this replica is the acting leader.
    pub leading: bool,
    /// The Lease's holder as last seen, if any.
    pub holder: Option<String>,
}

/// What the election reads from a Lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    /// `spec.holderIdentity`.
    pub holder: Option<String>,
    /// `spec.renewTime`.
    pub renew_time: Option<Timestamp>,
    /// `spec.acquireTime`.
    pub acquire_time: Option<Timestamp>,
    /// `spec.leaseDurationSeconds`.
    pub duration: SignedDuration,
    /// `spec.leaseTransitions`.
    pub transitions: i32,
}

impl LeaseRecord {
    /// Whether nobody may count on the Lease any more: never renewed, or renewed longer than its
    /// duration ago.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.renew_time
            .and_then(|t| t.checked_add(self.duration).ok())
            .is_none_or(|until| until < now)
    }
}

/// What a candidate does with the Lease it read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// No Lease yet: create it, holding it.
    Create,
    /// Free or expired: take it over (a replace with the version read).
    Take,
    /// Ours: renew it (a replace with the version read).
    Renew,
    /// Someone else holds a live Lease: leave it alone.
    Follow {
        /// The holder.
        holder: String,
    },
}

/// The step for `me`, given the Lease as read (`None`: there is none).
pub fn next_step(record: Option<&LeaseRecord>, me: &str, now: Timestamp) -> Step {
    let Some(record) = record else {
        return Step::Create;
    };
    match record.holder.as_deref() {
        Some(holder) if holder == me => Step::Renew,
        Some(holder) if !holder.is_empty() && !record.expired(now) => Step::Follow {
            holder: holder.to_owned(),
        },
        _ => Step::Take,
    }
}

/// The Lease `me` writes for `step` at `now`, from the one read.
pub fn record_to_write(
    step: &Step,
    read: Option<&LeaseRecord>,
    me: &str,
    duration: SignedDuration,
    now: Timestamp,
) -> LeaseRecord {
    let transitions = read.map_or(0, |r| r.transitions);
    let (acquire_time, transitions) = match (step, read) {
        (Step::Renew, Some(read)) => (read.acquire_time.or(Some(now)), transitions),
        (Step::Take, Some(_)) => (Some(now), transitions.saturating_add(1)),
        _ => (Some(now), transitions),
    };
    LeaseRecord {
        holder: Some(me.to_owned()),
        renew_time: Some(now),
        acquire_time,
        duration,
        transitions,
    }
}

/// A change of this replica's role, to be logged once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing changed.
    None,
    /// This replica became the acting leader.
    Elected,
    /// This replica could not renew within `renew_deadline` and stopped acting.
    SteppedDown,
}

/// This replica's side of the election.
#[derive(Clone, Debug)]
pub struct Election {
    identity: String,
    renew_deadline: SignedDuration,
    /// The `renewTime` of our last successful write.
    last_renew: Option<Timestamp>,
    holder: Option<String>,
    acting: bool,
}

impl Election {
    /// A candidate that has not acquired anything yet.
    pub fn new(identity: String, renew_deadline: SignedDuration) -> Self {
        Self {
            identity,
            renew_deadline,
            last_renew: None,
            holder: None,
            acting: false,
        }
    }

    /// This replica's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Our write with `renewTime = at` succeeded: we hold the Lease.
    pub fn renewed(&mut self, at: Timestamp) {
        self.last_renew = Some(at);
        self.holder = Some(self.identity.clone());
    }

    /// Someone else holds the Lease: whatever we held is gone.
    pub fn follows(&mut self, holder: String) {
        self.last_renew = None;
        self.holder = Some(holder);
    }

    /// Whether we may act at `now`: our last renewal is younger than the renew deadline.
    pub fn leading(&self, now: Timestamp) -> bool {
        self.last_renew
            .and_then(|t| t.checked_add(self.renew_deadline).ok())
            .is_some_and(|until| now < until)
    }

    /// How long we may still act after `now` without renewing (`None`: we do not act).
    pub fn time_left(&self, now: Timestamp) -> Option<std::time::Duration> {
        let until = self.last_renew?.checked_add(self.renew_deadline).ok()?;
        let left = until.duration_since(now);
        (left > SignedDuration::ZERO).then(|| left.unsigned_abs())
    }

    /// Updates the acting flag for `now` and says whether it changed.
    pub fn observe(&mut self, now: Timestamp) -> Change {
        let leading = self.leading(now);
        let change = match (self.acting, leading) {
            (false, true) => Change::Elected,
            (true, false) => Change::SteppedDown,
            _ => Change::None,
        };
        self.acting = leading;
        change
    }

    /// What to publish (after [`Election::observe`]).
    pub fn leadership(&self) -> Leadership {
        Leadership {
            identity: self.identity.clone(),
            leading: self.acting,
            holder: self.holder.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
