//! dsguard keeps watch over the DaemonSets of a Kubernetes cluster.
//!
//! For every DaemonSet and every node it answers: should a daemon pod run here, is one scheduled
//! here, is it ready? It uses the placement rules of the Kubernetes DaemonSet controller, so its
//! numbers agree with the controller's own, and it explains every gap between them and reality.
//!
//! ```text
//!  kube API ──list/watch──▶ cluster/   objects projected to slim structs at the edge
//!  (or a kubectl dump)          │       (NodeInfo, DaemonSetInfo, PodInfo; nothing else kept)
//!                               ▼
//!                          coverage/    placement (the controller's NodeShouldRunDaemonPod),
//!                               │       one cell per (DaemonSet, node), its state and `since`,
//!                               │       controller-style counts; incremental, pure, clock injected
//!              ┌────────────────┼──────────────────┐
//!              ▼                ▼                  ▼
//!          check/          (metrics/)         (alert/, reconcile/)
//!   `dsguard check`:      Prometheus           alert engine, receivers,
//!   report a dump         exposition           the plan that closes gaps
//!
//!  sim/ : a simulated Kubernetes API server with scenario playback, independent of coverage/,
//!         used by the demo, the end-to-end tests and the benchmarks.
//! ```
//!
//! The parts in parentheses are being built; see the README.

#![forbid(unsafe_code)]

pub mod alert;
pub mod app;
pub mod check;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod coverage;
pub mod demo;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod reconcile;
pub mod server;
pub mod settings;
pub mod sim;
