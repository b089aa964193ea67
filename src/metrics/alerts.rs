//! Alert metrics, computed from the alert engine at scrape time.

use std::collections::BTreeMap;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::alert::SharedEngine;
use crate::base::Clock;

/// Encodes `dsguard_alerts{alertname, state}`.
#[derive(Debug)]
pub struct AlertCollector {
    /// The engine.
    pub engine: SharedEngine,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

impl Collector for AlertCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = self.clock.now();
        let alerts = self.engine.lock().map_err(|_| std::fmt::Error)?.alerts(now);
        let mut counts: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
        for alert in &alerts {
            let name = alert
                .alert
                .labels
                .get("alertname")
                .cloned()
                .unwrap_or_default();
            *counts.entry((name, alert.state)).or_default() += 1;
        }
        let mut family = encoder.encode_descriptor(
            "dsguard_alerts",
            "Active alerts of dsguard's own engine, by name and state (pending, firing, silenced)",
            None,
            MetricType::Gauge,
        )?;
        for ((name, state), count) in &counts {
            ConstGauge::new(*count).encode(
                family.encode_family(&[("alertname", name.as_str()), ("state", *state)])?,
            )?;
        }
        Ok(())
    }
}
