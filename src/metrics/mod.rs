//! Metrics: the Prometheus exposition of the model, in OpenMetrics text.
//!
//! State is computed at scrape time from the model by two collectors ([`coverage`] and
//! [`health`]); only what happens between scrapes (evaluation durations, replacement times) is
//! observed into histograms as it happens. Names follow `dsguard_<what>_<unit>`; no label carries
//! free text: states, reasons and resources are fixed sets, names are Kubernetes object names.

mod alerts;
mod audit;
mod coverage;
mod health;
mod leader;
mod text;

use std::sync::Arc;

pub use leader::LeaderCollector;
pub use text::{PROMETHEUS_TEXT, from_openmetrics};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::base::Clock;
use crate::model::SharedModel;

/// What the exposition contains (the `metrics` section of the settings).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Export every (DaemonSet, node) cell, not only the gaps: for small clusters.
    pub full_matrix: bool,
}

/// Buckets of the evaluation-time histogram, in seconds: one event takes microseconds, a full
/// relist of a 5,000-node cluster a few hundred milliseconds.
pub const EVALUATION_BUCKETS: [f64; 9] =
    [0.000_01, 0.000_1, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The registry and the metrics observed outside of scrapes.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Time spent applying one batch of watch events (or one tick) to the model.
    pub evaluation: Histogram,
}

impl Metrics {
    /// Registers every metric of dsguard.
    pub fn new(
        model: SharedModel,
        alerts: crate::alert::SharedEngine,
        clock: Arc<dyn Clock>,
        full_matrix: bool,
    ) -> Self {
        let mut registry = Registry::default();
        let evaluation = Histogram::new(EVALUATION_BUCKETS);
        registry.register_with_unit(
            "dsguard_evaluation_duration",
            "Time spent applying one batch of watch events, or one timer tick, to the model",
            prometheus_client::registry::Unit::Seconds,
            evaluation.clone(),
        );
        let replacement = model
            .lock()
            .expect("model lock")
            .replacement_histogram()
            .clone();
        registry.register_with_unit(
            "dsguard_replacement_duration",
            "From a node joining or becoming ready again to its daemon pod turning ready",
            prometheus_client::registry::Unit::Seconds,
            replacement,
        );
        registry.register_collector(Box::new(coverage::CoverageCollector {
            model: model.clone(),
            clock: clock.clone(),
            full_matrix,
        }));
        registry.register_collector(Box::new(alerts::AlertCollector {
            engine: alerts,
            clock: clock.clone(),
        }));
        registry.register_collector(Box::new(audit::AuditCollector {
            model: model.clone(),
            clock: clock.clone(),
            cache: std::sync::Mutex::new(None),
        }));
        registry.register_collector(Box::new(health::HealthCollector { model, clock }));
        Self {
            registry,
            evaluation,
        }
    }

    /// The registry, for subsystems that register their own metrics (before serving starts).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The exposition in OpenMetrics text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
