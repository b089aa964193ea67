//! dsguard keeps watch over the DaemonSets of a Kubernetes cluster.
//!
//! For every DaemonSet and every node it answers: should a daemon pod run here, is one scheduled
//! here, is it ready? It uses the placement rules of the Kubernetes DaemonSet controller, so its
//! numbers agree with the controller's own, and it explains every gap between them and reality.
//!
//! The layers, each importing only those below it (`tests/layers.rs` holds them to it):
//!
//! ```text
//!  cmd/          the subcommands: clap types, what they print, exit codes
//!  simulated     dsguard against the simulated cluster (feature "sim": demo, tests, benchmarks)
//!  app           the wiring: settings in, tasks out, one select! that says which task stopped;
//!                the state that follows the leader (alert handover + notify log, silences)
//!  settings      composes the sections each module owns; loads and validates them
//!  server/       /metrics /healthz /readyz /api/v1, and the status page at /
//!  metrics/      the Prometheus exposition, computed from the model at scrape time
//!  alert/  reconcile/  audit/   alert rules and groups | the reconcile plan | spec findings
//!  notify/       webhook, Slack, email, Alertmanager; retries; durable outbox and log
//!  notification  the Alert / Notification types alert/ hands to notify/
//!  model/        the model task's state: coverage + watch health + incidents
//!  coverage/     placement (the controller's NodeShouldRunDaemonPod), one cell per
//!                (DaemonSet, node), grace, counts; incremental, pure, clock injected
//!  cluster/      slim objects projected at the edge, watch events, dumps, the kube client,
//!                leader election over a Lease (only the leader notifies and reconciles),
//!                one key of a ConfigMap read and written with resourceVersion preconditions
//!  base/         time, durations, the clock, the settings error; no project dependencies
//! ```
//!
//! Data flows up: the kube API (or a `kubectl` dump) feeds `cluster/`, whose watch events the
//! model task applies to `model/`; `alert/`, `reconcile/`, `metrics/` and `server/` read the
//! model. The simulated API server is its own crate, `dsguard-sim`, which depends on nothing of
//! dsguard so that it stays an independent oracle.

#![forbid(unsafe_code)]

pub mod alert;
pub mod app;
pub mod audit;
pub mod base;
pub mod cluster;
pub mod cmd;
pub mod coverage;
pub mod metrics;
pub mod model;
pub mod notification;
pub mod notify;
pub mod reconcile;
pub mod server;
pub mod settings;
#[cfg(feature = "sim")]
pub mod simulated;
