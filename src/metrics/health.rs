//! dsguard's own health: watch events and failures, sync age, blindness, malformed objects,
//! build information.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::base::Clock;
use crate::cluster::{FAILURE_REASONS, MALFORMED_REASONS};
use crate::model::SharedModel;

/// Encodes the health metrics.
#[derive(Debug)]
pub struct HealthCollector {
    /// The model.
    pub model: SharedModel,
    /// Now, for ages.
    pub clock: Arc<dyn Clock>,
}

fn seconds(t: crate::base::Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

impl Collector for HealthCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = self.clock.now();
        let model = self.model.lock().map_err(|_| std::fmt::Error)?;
        let resources = model.health().resources();

        let mut family = encoder.encode_descriptor(
            "dsguard_watch_events",
            "Watch events received, by resource and type",
            None,
            MetricType::Counter,
        )?;
        for (resource, health) in resources {
            for (kind, count) in &health.events {
                ConstCounter::new(*count).encode(
                    family.encode_family(&[("resource", resource.as_str()), ("type", *kind)])?,
                )?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "dsguard_watch_failures",
            "Watch failures (the watcher retries with backoff), by resource and reason",
            None,
            MetricType::Counter,
        )?;
        for (resource, health) in resources {
            for reason in FAILURE_REASONS {
                let count = health.failures.get(reason).copied().unwrap_or(0);
                let labels = [("resource", resource.as_str()), ("reason", reason)];
                ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "dsguard_watch_lists",
            "Lists started: the first, and one per restart of a lost watch",
            None,
            MetricType::Counter,
        )?;
        for (resource, health) in resources {
            ConstCounter::new(health.lists)
                .encode(family.encode_family(&[("resource", resource.as_str())])?)?;
        }
        let mut family = encoder.encode_descriptor(
            "dsguard_watch_synced",
            "1 once the resource's first list completed",
            None,
            MetricType::Gauge,
        )?;
        for (resource, health) in resources {
            ConstGauge::new(i64::from(health.synced))
                .encode(family.encode_family(&[("resource", resource.as_str())])?)?;
        }
        let mut family = encoder.encode_descriptor(
            "dsguard_watch_last_event_age_seconds",
            "Seconds since the last event of any kind from the resource's watch",
            None,
            MetricType::Gauge,
        )?;
        for (resource, health) in resources {
            if let Some(last) = health.last_event {
                let age = now.duration_since(last).as_secs_f64().max(0.0);
                ConstGauge::new(age)
                    .encode(family.encode_family(&[("resource", resource.as_str())])?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "dsguard_malformed_objects",
            "Objects skipped because they could not be read, by resource and reason",
            None,
            MetricType::Counter,
        )?;
        for resource in crate::cluster::Resource::ALL {
            for reason in MALFORMED_REASONS {
                let count = model
                    .malformed()
                    .get(&(resource, reason))
                    .copied()
                    .unwrap_or(0);
                let labels = [("resource", resource.as_str()), ("reason", reason)];
                ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
            }
        }

        let blind = model.blindness();
        let family = encoder.encode_descriptor("dsguard_blind", "1 while dsguard cannot trust its view of the cluster (not synced, or a watch failing beyond the staleness bound); coverage alerts are held back", None, MetricType::Gauge)?;
        ConstGauge::new(i64::from(blind.is_some())).encode(family)?;
        let family = encoder.encode_descriptor(
            "dsguard_blind_since_timestamp_seconds",
            "When dsguard turned blind; present only while it is",
            None,
            MetricType::Gauge,
        )?;
        if let Some(blind) = blind {
            ConstGauge::new(seconds(blind.since)).encode(family)?;
        }

        let mut family = encoder.encode_descriptor(
            "dsguard_build_info",
            "dsguard's version",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(1)
            .encode(family.encode_family(&[("version", env!("CARGO_PKG_VERSION"))])?)?;
        Ok(())
    }
}
