//! The election's API side: reads the Lease, writes it with the `resourceVersion` it read
//! (create, or replace with that precondition), and publishes this replica's [`Leadership`] on
//! a `watch` channel every `retry_period`, and at the very moment the renew deadline passes.
//! The decisions are in `leader.rs`.

use std::sync::Arc;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use tokio::sync::watch;

use super::leader::{Change, Election, HaSettings, Leadership, LeaseRecord, Step};
use super::leader::{next_step, record_to_write};
use crate::base::{Clock, Timestamp};

/// Why one round of the election failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The API answered with an error (a 409 is not one: it means another replica won).
    #[error("lease request failed: {0}")]
    Api(#[source] kube::Error),
    /// The request did not finish before the leader's renew deadline or one retry period.
    #[error("lease request timed out")]
    Timeout,
}

/// The outcome of one round.
enum Round {
    /// We hold the Lease, renewed at this time.
    Holding(Timestamp),
    /// Someone else holds it.
    Following(String),
    /// Another replica wrote first (409): try again next round.
    Lost,
}

/// The election of one replica; [`Elector::run`] runs it for good.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    settings: HaSettings,
    election: Election,
    clock: Arc<dyn Clock>,
    sender: watch::Sender<Leadership>,
}

impl Elector {
    /// An elector for the Lease of `settings` in `namespace`, and the channel it publishes on.
    pub fn new(
        client: kube::Client,
        settings: &HaSettings,
        namespace: &str,
        identity: String,
        clock: Arc<dyn Clock>,
    ) -> (Self, watch::Receiver<Leadership>) {
        let election = Election::new(identity, settings.renew_deadline.0);
        let (sender, receiver) = watch::channel(election.leadership());
        let elector = Self {
            api: Api::namespaced(client, namespace),
            name: settings.lease_name.clone(),
            settings: settings.clone(),
            election,
            clock,
            sender,
        };
        (elector, receiver)
    }

    /// Tries to acquire or renew every `retry_period`, until dropped (or until every receiver
    /// is gone).
    pub async fn run(mut self) {
        let retry = self.settings.retry_period.std();
        tracing::info!(
            identity = self.election.identity(),
            lease = %self.name,
            "leader election started"
        );
        loop {
            let started = tokio::time::Instant::now();
            self.round().await;
            self.publish();
            // Sleep until the next round, but wake at the renew deadline to step down on time.
            loop {
                let until_retry =
                    (started + retry).saturating_duration_since(tokio::time::Instant::now());
                if until_retry.is_zero() {
                    break;
                }
                let left = self
                    .election
                    .time_left(self.clock.now())
                    .unwrap_or(until_retry);
                tokio::time::sleep(until_retry.min(left)).await;
                self.publish();
            }
            if self.sender.is_closed() {
                return;
            }
        }
    }

    async fn round(&mut self) {
        let now = self.clock.now();
        // A leader's request may not outlive its term; a candidate's may take one retry period.
        let limit = self
            .election
            .time_left(now)
            .unwrap_or(self.settings.retry_period.std());
        let outcome = match tokio::time::timeout(limit, self.try_once(now)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(LeaseError::Timeout),
        };
        match outcome {
            Ok(Round::Holding(at)) => self.election.renewed(at),
            Ok(Round::Following(holder)) => self.election.follows(holder),
            Ok(Round::Lost) => tracing::debug!("another replica wrote the lease first"),
            Err(error) => {
                tracing::warn!(%error, lease = %self.name, "cannot acquire or renew the lease")
            }
        }
    }

    async fn try_once(&self, now: Timestamp) -> Result<Round, LeaseError> {
        let me = self.election.identity();
        let current = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(LeaseError::Api)?;
        let read = current.as_ref().map(record_of);
        let step = next_step(read.as_ref(), me, now);
        if let Step::Follow { holder } = step {
            return Ok(Round::Following(holder));
        }
        let duration = self.settings.lease_duration.0;
        let record = record_to_write(&step, read.as_ref(), me, duration, now);
        let mut lease = current.unwrap_or_else(|| Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                ..ObjectMeta::default()
            },
            ..Lease::default()
        });
        // The spec is ours to write; `metadata.resourceVersion` stays the one read, which makes
        // the replace conditional.
        lease.spec = Some(spec_of(&record));
        let written = match step {
            Step::Create => self.api.create(&PostParams::default(), &lease).await,
            _ => {
                self.api
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
            }
        };
        match written {
            Ok(_) => Ok(Round::Holding(now)),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Round::Lost),
            Err(error) => Err(LeaseError::Api(error)),
        }
    }

    fn publish(&mut self) {
        match self.election.observe(self.clock.now()) {
            Change::Elected => tracing::info!(
                identity = self.election.identity(),
                "acquired the lease; acting as leader"
            ),
            Change::SteppedDown => tracing::error!(
                identity = self.election.identity(),
                renew_deadline_seconds = self.settings.renew_deadline.0.as_secs_f64(),
                "could not renew the lease within the renew deadline; no longer acting as leader"
            ),
            Change::None => {}
        }
        let leadership = self.election.leadership();
        self.sender.send_if_modified(|old| {
            let changed = *old != leadership;
            *old = leadership;
            changed
        });
    }
}

fn record_of(lease: &Lease) -> LeaseRecord {
    let spec = lease.spec.clone().unwrap_or_default();
    LeaseRecord {
        holder: spec.holder_identity,
        renew_time: spec.renew_time.map(|t| t.0),
        acquire_time: spec.acquire_time.map(|t| t.0),
        duration: jiff::SignedDuration::from_secs(spec.lease_duration_seconds.unwrap_or(0).into()),
        transitions: spec.lease_transitions.unwrap_or(0),
    }
}

fn spec_of(record: &LeaseRecord) -> LeaseSpec {
    let seconds = record.duration.as_secs() + i64::from(record.duration.subsec_nanos() > 0);
    LeaseSpec {
        holder_identity: record.holder.clone(),
        renew_time: record.renew_time.map(MicroTime),
        acquire_time: record.acquire_time.map(MicroTime),
        lease_duration_seconds: Some(i32::try_from(seconds).unwrap_or(i32::MAX)),
        lease_transitions: Some(record.transitions),
        ..LeaseSpec::default()
    }
}
