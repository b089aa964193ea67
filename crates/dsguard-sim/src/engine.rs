//! The scenario engine: builds the cluster of a scenario in the store, then, tick by tick,
//! plays the timeline and runs the emulated controllers, writing what they decide.
//!
//! Time comes from the [`SimClock`] (scenario time at a speed factor). Before scenario time zero
//! the engine runs a warm-up of simulated minutes in fast-forward, so the cluster starts settled:
//! pods created, bound, running and ready, with timestamps in the past.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::broadcast::error::TryRecvError;

use super::clock::SimClock;
use super::controllers::{self, Action, Ctx, KubeletState, NodeEdit, PodEdit};
use super::faults::Faults;
use super::kinds::Kind;
use super::objects;
use super::scenario::{FailureMode, Scenario};
use super::status::ApiError;
use super::store::{Key, Store};
use super::view::View;

mod steps;

/// Scenario time between two controller passes.
pub const TICK: Duration = Duration::from_secs(1);
/// Shortest real time between two passes, so high speed factors do not spin the CPU.
const MIN_WALL_TICK: Duration = Duration::from_millis(5);
/// Simulated time the cluster runs before scenario time zero.
const WARMUP: Duration = Duration::from_secs(30);

/// Plays one scenario against one store.
pub struct Engine {
    store: Arc<Store>,
    faults: Arc<Faults>,
    clock: SimClock,
    scenario: Scenario,
    view: View,
    /// Changes made by others (API clients, timeline steps); `None` until bootstrapped, since
    /// nobody else writes before.
    feed: Option<tokio::sync::broadcast::Receiver<Arc<super::store::Change>>>,
    kubelets: HashMap<String, KubeletState>,
    failures: HashMap<(String, String), FailureMode>,
    orphaned_since: HashMap<Key, Timestamp>,
    next_step: usize,
    next_pod_ip: u32,
    nodes_created: usize,
    last_ds_pass: Option<(u64, Timestamp)>,
    /// View version pod GC last looked at; it looks again on a change or while orphans wait.
    last_gc_version: Option<u64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("scenario", &self.scenario.name)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine for `scenario`; nothing is written until [`Engine::bootstrap`].
    pub fn new(store: Arc<Store>, faults: Arc<Faults>, scenario: Scenario) -> Engine {
        let failures = scenario
            .daemonsets
            .iter()
            .flat_map(|ds| {
                ds.failures.iter().flat_map(move |f| {
                    f.nodes
                        .iter()
                        .map(move |node| ((ds.id(), node.clone()), f.mode))
                })
            })
            .collect();
        Engine {
            clock: store.clock().clone(),
            feed: None,
            store,
            faults,
            scenario,
            view: View::default(),
            kubelets: HashMap::new(),
            failures,
            orphaned_since: HashMap::new(),
            next_step: 0,
            next_pod_ip: 0,
            nodes_created: 0,
            last_ds_pass: None,
            last_gc_version: None,
        }
    }

    /// The controllers' view (for tests).
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Creates namespaces, nodes and DaemonSets, then fast-forwards through the warm-up so the
    /// cluster is settled at scenario time zero.
    pub fn bootstrap(&mut self) -> Result<(), ApiError> {
        let start = self.clock.timestamp_at(Duration::ZERO);
        let warm = start
            .checked_sub(SignedDuration::try_from(WARMUP).unwrap_or_default())
            .unwrap_or(start);
        let mut namespaces = vec!["default", "kube-system", "kube-public", "kube-node-lease"];
        namespaces.extend(
            self.scenario
                .daemonsets
                .iter()
                .map(|ds| ds.namespace.as_str()),
        );
        namespaces.sort_unstable();
        namespaces.dedup();
        for ns in namespaces {
            let body = serde_json::json!({"metadata": {"name": ns}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
            self.store.create_at(Kind::Namespace, "", body, warm)?;
        }
        for pool in self.scenario.nodes.clone() {
            for name in pool.node_names() {
                self.create_node(
                    &name,
                    &pool.labels,
                    &pool.taints,
                    &pool.cpu,
                    &pool.memory,
                    warm,
                )?;
            }
        }
        for ds in self.scenario.daemonsets.clone() {
            let written = self.store.create_at(
                Kind::DaemonSet,
                &ds.namespace,
                objects::daemonset(&ds),
                warm,
            );
            self.record(written)?;
        }
        let mut now = warm;
        while now < start {
            self.pass(now);
            now = now
                .checked_add(SignedDuration::from_secs(1))
                .unwrap_or(start);
        }
        self.pass(start);
        self.feed = Some(self.store.subscribe());
        tracing::info!(
            scenario = %self.scenario.name,
            nodes = self.store.count(Kind::Node),
            pods = self.store.count(Kind::Pod),
            "cluster bootstrapped"
        );
        Ok(())
    }

    fn create_node(
        &mut self,
        name: &str,
        labels: &std::collections::BTreeMap<String, String>,
        taints: &[super::scenario::TaintSpec],
        cpu: &str,
        memory: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let body = objects::node(name, labels, taints, cpu, memory, self.nodes_created, now);
        self.nodes_created += 1;
        let written = self.store.create_at(Kind::Node, "", body, now);
        self.record(written)?;
        self.kubelets.insert(
            name.to_string(),
            KubeletState {
                up: true,
                last_renew: now,
                last_post: now,
            },
        );
        Ok(())
    }

    /// Plays the timeline and runs the controllers, forever (abort the task to stop).
    pub async fn run(mut self) {
        let wall_tick = self.clock.wall_duration(TICK).max(MIN_WALL_TICK);
        let mut interval = tokio::time::interval(wall_tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut finished = false;
        loop {
            interval.tick().await;
            let elapsed = self.clock.elapsed();
            let now = self.clock.timestamp_at(elapsed);
            self.play_steps(elapsed, now);
            self.pass(now);
            // The controllers keep running after the end, so the cluster stays consistent.
            if !finished
                && self
                    .scenario
                    .settings
                    .duration
                    .is_some_and(|d| elapsed >= d.0)
            {
                finished = true;
                tracing::info!(scenario = %self.scenario.name, "scenario timeline finished");
            }
        }
    }

    /// Brings the view up to date with the store.
    fn drain(&mut self) {
        let Some(feed) = self.feed.as_mut() else {
            return;
        };
        loop {
            match feed.try_recv() {
                Ok(change) => self.view.apply(&change),
                Err(TryRecvError::Empty) | Err(TryRecvError::Closed) => return,
                Err(TryRecvError::Lagged(_)) => {
                    *feed = self.store.subscribe();
                    self.view.resync(&self.store);
                }
            }
        }
    }

    /// Takes an own write into the view at once.
    fn record(
        &mut self,
        written: Result<Arc<super::store::Obj>, ApiError>,
    ) -> Result<(), ApiError> {
        let obj = written?;
        self.view.upsert(&obj);
        Ok(())
    }

    /// Plays the timeline up to scenario time `t` and runs one pass at `t`, for tests that
    /// drive time themselves instead of using [`Engine::run`].
    pub fn advance_to(&mut self, t: Duration) {
        let now = self.clock.timestamp_at(t);
        self.play_steps(t, now);
        self.pass(now);
    }

    /// One pass of every controller at `now`.
    pub fn pass(&mut self, now: Timestamp) {
        self.drain();
        let run_ds = match self.last_ds_pass {
            Some((version, at)) => {
                version != self.view.version || at <= now - SignedDuration::from_secs(5)
            }
            None => true,
        };
        let mut actions = Vec::new();
        {
            let ctx = Ctx {
                view: &self.view,
                now,
                settings: &self.scenario.settings,
                kubelets: &self.kubelets,
                failures: &self.failures,
            };
            actions.extend(controllers::node_lifecycle::tick(&ctx));
            actions.extend(controllers::kubelet::tick(&ctx));
            actions.extend(controllers::scheduler::tick(&ctx));
            if run_ds {
                actions.extend(controllers::daemonset::tick(&ctx));
            }
            if self.last_gc_version != Some(self.view.version) || !self.orphaned_since.is_empty() {
                self.last_gc_version = Some(self.view.version);
                actions.extend(controllers::podgc::tick(&ctx, &mut self.orphaned_since));
            }
        }
        // Remember what the DaemonSet controller saw: any write of this pass (its own or the
        // other controllers') makes the next pass run it again, until nothing changes.
        if run_ds {
            self.last_ds_pass = Some((self.view.version, now));
        }
        for action in actions {
            self.apply(action, now);
        }
        for kubelet in self.kubelets.values_mut().filter(|k| k.up) {
            kubelet.last_renew = now;
        }
    }

    fn apply(&mut self, action: Action, now: Timestamp) {
        let written = match action {
            Action::CreatePod { daemonset, node } => match self.view.daemonsets.get(&daemonset) {
                Some(ds) => {
                    let body = objects::daemon_pod(&ds.object, &ds.uid, &node, &ds.hash);
                    self.store.create_at(Kind::Pod, &daemonset.0, body, now)
                }
                None => return,
            },
            Action::DeletePod { key, grace: None } => {
                self.view.remove(Kind::Pod, &key);
                if let Err(error) = self.store.remove(Kind::Pod, &key) {
                    tracing::debug!(%error, "controller delete skipped");
                }
                return;
            }
            Action::DeletePod {
                key,
                grace: Some(grace),
            } => self.store.modify(Kind::Pod, &key, |pod| {
                super::server::mark_deleted(pod, grace, now);
                Ok(())
            }),
            Action::EditNode { name, edit } => self.edit_node(&name, edit, now),
            Action::EditPod { key, edit } => self.edit_pod(&key, edit, now),
            Action::DaemonSetStatus { key, status } => {
                self.store.modify(Kind::DaemonSet, &key, |ds| {
                    ds["status"] = status;
                    Ok(())
                })
            }
        };
        if let Err(error) = self.record(written) {
            // Races with API clients (a pod deleted meanwhile) are expected.
            tracing::debug!(%error, "controller write skipped");
        }
    }

    fn edit_node(
        &mut self,
        name: &str,
        edit: NodeEdit,
        now: Timestamp,
    ) -> Result<Arc<super::store::Obj>, ApiError> {
        if edit == NodeEdit::Heartbeat
            && let Some(kubelet) = self.kubelets.get_mut(name)
        {
            kubelet.last_post = now;
        }
        let key = (String::new(), name.to_string());
        self.store.modify(Kind::Node, &key, |node| {
            match &edit {
                NodeEdit::Heartbeat => objects::heartbeat(node, now),
                NodeEdit::Unknown => objects::mark_node_unknown(node, now),
                NodeEdit::ClearUnreachable => {
                    objects::remove_taint(node, objects::UNREACHABLE, None);
                    objects::remove_taint(node, objects::NOT_READY, None);
                }
                NodeEdit::CordonTaint(on) => objects::set_unschedulable(node, *on),
            }
            Ok(())
        })
    }

    fn edit_pod(
        &mut self,
        key: &Key,
        edit: PodEdit,
        now: Timestamp,
    ) -> Result<Arc<super::store::Obj>, ApiError> {
        let pod_ip = match &edit {
            PodEdit::Start {
                host_ip,
                host_network: true,
                ..
            } => host_ip.clone(),
            PodEdit::Start { .. } => {
                self.next_pod_ip += 1;
                let n = self.next_pod_ip;
                format!(
                    "10.{}.{}.{}",
                    64 + (n >> 16) % 64,
                    (n >> 8) & 0xff,
                    n & 0xff
                )
            }
            _ => String::new(),
        };
        self.store.modify(Kind::Pod, key, |pod| {
            match &edit {
                PodEdit::Bind(node) => objects::bind(pod, node, now),
                PodEdit::Unschedulable(message) => objects::unschedulable(pod, message, now),
                PodEdit::Start { mode, host_ip, .. } => {
                    let restarts = if *mode == Some(FailureMode::CrashLoop) {
                        5
                    } else {
                        0
                    };
                    objects::start(pod, *mode, host_ip, &pod_ip, restarts, now);
                }
                PodEdit::Ready => objects::ready(pod, now),
                PodEdit::NotReady => objects::mark_not_ready(pod, now),
            }
            Ok(())
        })
    }
}
