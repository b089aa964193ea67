//! `dsguard_leader`: whether this replica is the acting leader (1) or a follower (0), read at
//! scrape time from the election's `watch` channel. Without `ha.enabled` the one replica always
//! acts, and the gauge is 1.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use tokio::sync::watch;

use crate::cluster::Leadership;

/// Encodes `dsguard_leader` from the latest leadership.
#[derive(Debug)]
pub struct LeaderCollector {
    /// The election's channel; `None` without `ha.enabled`.
    pub leadership: Option<watch::Receiver<Leadership>>,
}

impl Collector for LeaderCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let leading = self.leadership.as_ref().is_none_or(|l| l.borrow().leading);
        let family = encoder.encode_descriptor(
            "dsguard_leader",
            "Whether this replica is the acting leader: it alone notifies and reconciles (1), or a follower (0)",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(i64::from(leading)).encode(family)?;
        Ok(())
    }
}
