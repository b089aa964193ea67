//! The executor task: every `reconcile.interval` it reads the DaemonSets' opt-out annotations,
//! plans from the shared model, publishes the plan (for `/api/v1/reconcile`) and the planned
//! gauge, lets the [`Decider`] choose, and executes, in `enforce` mode only, through [`io`].
//! Every execution and every decision not to execute is logged and counted; executions (and,
//! with `dry_run_events`, dry-run decisions) are recorded as Events on the pod and DaemonSet.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::action::{Action, Plan};
use super::decide::{Decider, Decision, Outcome};
use super::io::{self, ReconcileError};
use super::metrics::ReconcileMetrics;
use super::plan::{DaemonSetAnnotations, plan};
use super::{Mode, ReconcileSettings};
use crate::base::{Clock, Timestamp};
use crate::cluster::Leadership;
use crate::model::SharedModel;

/// The latest plan, shared with the HTTP API.
#[derive(Clone, Debug, Default)]
pub struct ReconcileHandle {
    latest: Arc<Mutex<Latest>>,
    /// Counts the plans published, for those that act on each new one.
    published: Arc<watch::Sender<u64>>,
}

/// What the last run saw.
#[derive(Clone, Debug, Default)]
pub struct Latest {
    /// The mode.
    pub mode: Mode,
    /// The plan (`None` before the first run).
    pub plan: Option<Plan>,
    /// Why dsguard was blind, if it was.
    pub blind: Option<String>,
}

impl ReconcileHandle {
    /// A copy of what the last run saw.
    pub fn latest(&self) -> Latest {
        self.latest.lock().expect("reconcile handle").clone()
    }

    /// Changes whenever a run publishes a plan (the alert rules add its advice).
    pub fn published(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    fn publish(&self, latest: Latest) {
        *self.latest.lock().expect("reconcile handle") = latest;
        self.published.send_modify(|count| *count += 1);
    }
}

/// The executor.
#[derive(Debug)]
pub struct Executor {
    settings: ReconcileSettings,
    metrics: ReconcileMetrics,
    handle: ReconcileHandle,
    decider: Decider,
    annotations: Option<DaemonSetAnnotations>,
    /// The leader election's state: only the acting leader executes. `None`: always act.
    leadership: Option<watch::Receiver<Leadership>>,
}

/// What one run did, for tests and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Actions in the plan.
    pub planned: usize,
    /// Executions attempted, with their outcome.
    pub executed: Vec<(Action, Outcome)>,
    /// Decisions reported without execution.
    pub reported: Vec<(Action, Outcome)>,
}

impl Executor {
    /// An executor with these settings, counting into `metrics`.
    pub fn new(settings: ReconcileSettings, metrics: ReconcileMetrics) -> Self {
        Self {
            decider: Decider::new(&settings),
            settings,
            metrics,
            handle: ReconcileHandle::default(),
            annotations: None,
            leadership: None,
        }
    }

    /// Executes only while `leadership` says this replica leads (`ha.enabled`); a follower
    /// still plans and publishes its plan.
    pub fn with_leadership(mut self, leadership: watch::Receiver<Leadership>) -> Self {
        self.leadership = Some(leadership);
        self
    }

    fn leading(&self) -> bool {
        self.leadership
            .as_ref()
            .is_none_or(|leadership| leadership.borrow().leading)
    }

    /// The handle the HTTP API reads the latest plan from.
    pub fn handle(&self) -> ReconcileHandle {
        self.handle.clone()
    }

    /// Runs until the task is dropped: one [`Executor::run_once`] every `reconcile.interval`.
    pub async fn run(mut self, model: SharedModel, clock: Arc<dyn Clock>, client: kube::Client) {
        tracing::info!(
            mode = self.settings.mode.as_str(),
            "reconcile executor started"
        );
        let mut ticker = tokio::time::interval(self.settings.interval.std());
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.run_once(&model, clock.as_ref(), &client).await;
        }
    }

    /// One run: annotations, plan, decisions, executions.
    pub async fn run_once(
        &mut self,
        model: &SharedModel,
        clock: &dyn Clock,
        client: &kube::Client,
    ) -> RunReport {
        match io::daemonset_annotations(client).await {
            Ok(annotations) => self.annotations = Some(annotations),
            Err(error) => tracing::warn!(
                %error,
                error_kind = error.metric_label(),
                "cannot list DaemonSets for opt-out annotations; executions re-check them live"
            ),
        }
        let now = clock.now();
        let empty = DaemonSetAnnotations::new();
        let annotations = self.annotations.as_ref().unwrap_or(&empty);
        let (plan, blind, slack) = {
            let model = model.lock().expect("model lock");
            (
                plan(&model, annotations, now, &self.settings),
                model.blindness().map(|b| b.reason.clone()),
                model.coverage().settings().termination_slack,
            )
        };
        self.metrics.observe_plan(&plan, now);
        for error in &plan.annotation_errors {
            tracing::warn!(%error, "bad opt-out annotation");
        }
        let mut report = RunReport {
            planned: plan.actions.len(),
            ..RunReport::default()
        };
        if !self.leading() {
            // The leader decides and executes; two executors would race for every pod.
            tracing::debug!(planned = report.planned, "not the leader; nothing executed");
            self.handle.publish(Latest {
                mode: self.settings.mode,
                plan: Some(plan),
                blind,
            });
            return report;
        }
        let decisions = self.decider.decide(&plan, blind.is_some(), now);
        self.handle.publish(Latest {
            mode: self.settings.mode,
            plan: Some(plan.clone()),
            blind,
        });
        for decision in decisions {
            match decision {
                Decision::Report(action, outcome) => {
                    self.report(client, &action, outcome, now).await;
                    report.reported.push((action, outcome));
                }
                // Leadership may end during a run: each execution checks it again.
                Decision::Execute(_) if !self.leading() => break,
                Decision::Execute(action) => {
                    let outcome = self.execute(client, model, clock, &action, slack).await;
                    report.executed.push((action, outcome));
                }
            }
        }
        report
    }

    async fn report(
        &self,
        client: &kube::Client,
        action: &Action,
        outcome: Outcome,
        now: Timestamp,
    ) {
        self.metrics.count(action.kind, outcome);
        tracing::info!(
            kind = action.kind.as_str(),
            outcome = outcome.as_str(),
            pod = ?action.pod.as_ref().map(ToString::to_string),
            node = ?action.node,
            opted_out = ?action.opted_out,
            kubectl = %action.kubectl,
            "reconcile decision"
        );
        if outcome == Outcome::DryRun && self.settings.dry_run_events {
            let message = format!("dsguard would force-delete this pod: {}", action.reason);
            if let Err(error) =
                io::record_events(client, action, outcome, &message, (None, None), now).await
            {
                tracing::warn!(%error, error_kind = error.metric_label(), "cannot record event");
            }
        }
    }

    async fn execute(
        &mut self,
        client: &kube::Client,
        model: &SharedModel,
        clock: &dyn Clock,
        action: &Action,
        slack: jiff::SignedDuration,
    ) -> Outcome {
        let now = clock.now();
        let sighted = || model.lock().expect("model lock").blindness().is_none();
        let result = io::execute(client, action, slack, now, sighted).await;
        let (outcome, message, uids) = match result {
            Ok(done) => (
                done.outcome,
                done.detail,
                (done.pod_uid, done.daemonset_uid),
            ),
            Err(error) => (Outcome::Failed, failure_message(&error), (None, None)),
        };
        let retry = self.decider.record(action, outcome, now);
        self.metrics.count(action.kind, outcome);
        let pod = action.pod.as_ref().map(ToString::to_string);
        match outcome {
            Outcome::Failed => tracing::warn!(
                kind = action.kind.as_str(),
                pod = ?pod,
                error = %message,
                retry_at = ?retry.map(|t| t.to_string()),
                "reconcile action failed"
            ),
            _ => tracing::info!(
                kind = action.kind.as_str(),
                outcome = outcome.as_str(),
                pod = ?pod,
                detail = %message,
                "reconcile action"
            ),
        }
        if matches!(outcome, Outcome::Executed | Outcome::Failed)
            && let Err(error) =
                io::record_events(client, action, outcome, &message, uids, clock.now()).await
        {
            tracing::warn!(%error, error_kind = error.metric_label(), "cannot record event");
        }
        outcome
    }
}

fn failure_message(error: &ReconcileError) -> String {
    format!("dsguard could not force-delete the pod: {error}")
}
