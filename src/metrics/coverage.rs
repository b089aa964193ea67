//! Coverage metrics, computed from the model at scrape time: per node, per DaemonSet, one sparse
//! series per gap, node incidents, and on request the full (DaemonSet × node) matrix.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::base::Clock;
use crate::model::SharedModel;

/// Encodes the coverage metrics.
#[derive(Debug)]
pub struct CoverageCollector {
    /// The model.
    pub model: SharedModel,
    /// Now, for gap ages.
    pub clock: Arc<dyn Clock>,
    /// Export every cell.
    pub full_matrix: bool,
}

/// One gauge family: encodes every (labels, value) pair under one descriptor.
fn gauges<'a, const N: usize>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = ([(&'static str, &'a str); N], f64)>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in series {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for CoverageCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = self.clock.now();
        let model = self.model.lock().map_err(|_| std::fmt::Error)?;
        let coverage = model.coverage();

        let nodes = coverage.nodes();
        let node_series = |f: fn(&crate::coverage::NodeCounts) -> i64| {
            nodes
                .iter()
                .map(move |n| ([("node", n.name.as_str())], f(&n.counts) as f64))
        };
        gauges(
            &mut encoder,
            "dsguard_node_desired_daemon_pods",
            "DaemonSets whose pod should run on the node",
            node_series(|c| c.desired),
        )?;
        gauges(
            &mut encoder,
            "dsguard_node_scheduled_daemon_pods",
            "DaemonSets with a pod scheduled on the node, among those that should run there",
            node_series(|c| c.scheduled),
        )?;
        gauges(
            &mut encoder,
            "dsguard_node_ready_daemon_pods",
            "DaemonSets with a ready pod on the node, among those that should run there",
            node_series(|c| c.ready),
        )?;

        let daemonsets = coverage.daemonsets();
        let ds_series = |f: fn(&crate::coverage::DaemonSetCounts) -> i64| {
            daemonsets.iter().map(move |d| {
                (
                    [
                        ("namespace", d.key.namespace.as_str()),
                        ("daemonset", d.key.name.as_str()),
                    ],
                    f(&d.counts) as f64,
                )
            })
        };
        let help = "computed by dsguard the way the DaemonSet controller computes its status";
        gauges(
            &mut encoder,
            "dsguard_daemonset_desired_pods",
            &format!("Nodes that should run the DaemonSet's pod, {help}"),
            ds_series(|c| c.desired),
        )?;
        gauges(
            &mut encoder,
            "dsguard_daemonset_current_pods",
            &format!("Nodes that should run the pod and have one, {help}"),
            ds_series(|c| c.current),
        )?;
        gauges(
            &mut encoder,
            "dsguard_daemonset_ready_pods",
            &format!("Nodes that should run the pod and have it ready, {help}"),
            ds_series(|c| c.ready),
        )?;
        gauges(
            &mut encoder,
            "dsguard_daemonset_available_pods",
            &format!("Nodes whose pod is available (ready for minReadySeconds), {help}"),
            ds_series(|c| c.available),
        )?;
        gauges(
            &mut encoder,
            "dsguard_daemonset_updated_pods",
            &format!("Nodes whose pod runs the current template, {help}"),
            ds_series(|c| c.updated),
        )?;
        gauges(
            &mut encoder,
            "dsguard_daemonset_misscheduled_pods",
            &format!("Nodes running the pod where it should not run, {help}"),
            ds_series(|c| c.misscheduled),
        )?;

        let mismatch = daemonsets
            .iter()
            .filter_map(|d| d.controller.map(|c| (d, c)))
            .flat_map(|(d, c)| {
                let labels = |field| {
                    [
                        ("namespace", d.key.namespace.as_str()),
                        ("daemonset", d.key.name.as_str()),
                        ("field", field),
                    ]
                };
                [
                    (labels("desired"), (d.counts.desired - c.desired) as f64),
                    (labels("current"), (d.counts.current - c.current) as f64),
                    (labels("ready"), (d.counts.ready - c.ready) as f64),
                    (
                        labels("available"),
                        (d.counts.available - c.available) as f64,
                    ),
                    (labels("updated"), (d.counts.updated - c.updated) as f64),
                    (
                        labels("misscheduled"),
                        (d.counts.misscheduled - c.misscheduled) as f64,
                    ),
                ]
            });
        gauges(
            &mut encoder,
            "dsguard_daemonset_controller_difference",
            "dsguard's number minus the DaemonSet controller's status number; a lasting difference means a stuck controller or a dsguard bug",
            mismatch,
        )?;

        let gap_states = daemonsets.iter().flat_map(|d| {
            crate::coverage::CellState::ALL
                .into_iter()
                .filter(|s| s.is_gap())
                .map(move |s| {
                    (
                        [
                            ("namespace", d.key.namespace.as_str()),
                            ("daemonset", d.key.name.as_str()),
                            ("state", s.as_str()),
                        ],
                        d.states.get(s) as f64,
                    )
                })
        });
        gauges(
            &mut encoder,
            "dsguard_daemonset_gaps",
            "The DaemonSet's cells in each gap state",
            gap_states,
        )?;

        let gaps = model.gaps(now);
        let gap_labels = |g: &crate::coverage::GapView| -> [(&'static str, String); 5] {
            [
                ("namespace", g.namespace.clone()),
                ("daemonset", g.daemonset.clone()),
                ("node", g.node.clone()),
                ("state", g.state.as_str().to_owned()),
                ("reason", g.reason.as_str().to_owned()),
            ]
        };
        let mut family = encoder.encode_descriptor("dsguard_gap_age_seconds", "How long the (DaemonSet, node) cell has been in its gap state; present only while the gap exists", None, MetricType::Gauge)?;
        for g in &gaps {
            let age = g
                .since
                .map_or(0.0, |s| now.duration_since(s).as_secs_f64().max(0.0));
            ConstGauge::new(age).encode(family.encode_family(&gap_labels(g))?)?;
        }
        let mut family = encoder.encode_descriptor(
            "dsguard_gap_actionable",
            "1 when the gap is past its grace period, 0 while it is within it",
            None,
            MetricType::Gauge,
        )?;
        for g in &gaps {
            ConstGauge::new(i64::from(g.actionable))
                .encode(family.encode_family(&gap_labels(g))?)?;
        }

        let mut family = encoder.encode_descriptor("dsguard_gap_unreplaced", "1 when the actionable gap keeps a lost daemon pod from coming back: stuck terminating, orphaned, or missing / pending / not ready on a node back from (or joined during) a node incident", None, MetricType::Gauge)?;
        for g in &gaps {
            ConstGauge::new(i64::from(g.unreplaced))
                .encode(family.encode_family(&gap_labels(g))?)?;
        }

        let rollout = coverage.rollout_pending();
        gauges(
            &mut encoder,
            "dsguard_daemonset_rollout_pending_pods",
            "Pods a rollout still has to replace on usable nodes (Ready, not cordoned, not being deleted by the autoscaler, not under maintenance)",
            rollout.iter().map(|(key, n)| {
                (
                    [
                        ("namespace", key.namespace.as_str()),
                        ("daemonset", key.name.as_str()),
                    ],
                    *n as f64,
                )
            }),
        )?;

        let mut family = encoder.encode_descriptor("dsguard_node_condition", "1 for each condition a node is in: not_ready, unreachable, cordoned, autoscaler_deleting, out_of_service, maintenance", None, MetricType::Gauge)?;
        for view in &nodes {
            let Some(info) = coverage.node_info(&view.name) else {
                continue;
            };
            let conditions = [
                (
                    "not_ready",
                    info.health == crate::cluster::NodeHealth::NotReady,
                ),
                (
                    "unreachable",
                    info.health == crate::cluster::NodeHealth::Unreachable,
                ),
                ("cordoned", info.is_cordoned()),
                ("autoscaler_deleting", info.is_autoscaler_deleting()),
                ("out_of_service", info.is_out_of_service()),
                ("maintenance", info.is_in_maintenance()),
            ];
            for (condition, _) in conditions.iter().filter(|(_, on)| *on) {
                ConstGauge::new(1).encode(
                    family.encode_family(&[
                        ("node", view.name.as_str()),
                        ("condition", *condition),
                    ])?,
                )?;
            }
        }

        let incidents = model.incidents();
        let open: Vec<_> = incidents.open().collect();
        gauges(
            &mut encoder,
            "dsguard_node_incident_lost_pods",
            "Daemon pods lost with a failed node, per open node incident",
            open.iter()
                .map(|i| ([("node", i.node.as_str())], i.lost.len() as f64)),
        )?;
        gauges(
            &mut encoder,
            "dsguard_node_incident_unreplaced_pods",
            "Daemon pods of an open node incident not yet back",
            open.iter().map(|i| {
                (
                    [("node", i.node.as_str())],
                    i.lost.iter().filter(|l| l.replaced.is_none()).count() as f64,
                )
            }),
        )?;
        gauges(
            &mut encoder,
            "dsguard_node_incident_started_timestamp_seconds",
            "When the open node incident started",
            open.iter().map(|i| {
                (
                    [("node", i.node.as_str())],
                    i.started.as_millisecond() as f64 / 1000.0,
                )
            }),
        )?;
        let family = encoder.encode_descriptor(
            "dsguard_node_incidents_open",
            "Open node incidents",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(open.len() as i64).encode(family)?;

        if self.full_matrix {
            let mut family = encoder.encode_descriptor("dsguard_cell_state", "Every (DaemonSet, node) cell with its state (full matrix, enabled by metrics.full_matrix)", None, MetricType::Gauge)?;
            for view in coverage.cells() {
                let labels = [
                    ("namespace", view.daemonset.namespace.as_str()),
                    ("daemonset", view.daemonset.name.as_str()),
                    ("node", view.node.as_str()),
                    ("state", view.cell.state.as_str()),
                ];
                ConstGauge::new(1).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}
