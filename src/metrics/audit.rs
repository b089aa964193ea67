//! `dsguard_audit_findings{namespace, daemonset, rule, severity}`: the audit's findings, one
//! series per finding (value 1), so that a dashboard lists them and a rule can page on a
//! critical one.
//!
//! The audit reads every cell, so it runs at most once per [`AUDIT_EVERY`] and scrapes in
//! between serve the last result: DaemonSet specs change rarely, and a scrape of a 5,000-node
//! cluster must stay well under its budget.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::audit::{AuditOptions, audit};
use crate::base::Clock;
use crate::model::SharedModel;

/// How long a computed audit is served: a few scrape intervals.
pub const AUDIT_EVERY: Duration = Duration::from_secs(30);

/// The labels of one finding.
type Labels = [String; 4];

/// Encodes the audit's findings.
#[derive(Debug)]
pub struct AuditCollector {
    /// The model.
    pub model: SharedModel,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The last result and when it was computed.
    pub cache: Mutex<Option<(Instant, Vec<Labels>)>>,
}

impl AuditCollector {
    fn findings(&self) -> Result<Vec<Labels>, std::fmt::Error> {
        let mut cache = self.cache.lock().map_err(|_| std::fmt::Error)?;
        if let Some((at, findings)) = cache.as_ref()
            && at.elapsed() < AUDIT_EVERY
        {
            return Ok(findings.clone());
        }
        let model = self.model.lock().map_err(|_| std::fmt::Error)?;
        // While blind the cells may be half-listed: serve the last audit rather than a wrong one.
        if model.blindness().is_some() {
            return Ok(cache.as_ref().map(|(_, f)| f.clone()).unwrap_or_default());
        }
        let findings: Vec<Labels> =
            audit(model.coverage(), &AuditOptions::default(), self.clock.now())
                .into_iter()
                .map(|f| {
                    [
                        f.namespace,
                        f.daemonset,
                        f.rule.as_str().to_owned(),
                        f.severity.as_str().to_owned(),
                    ]
                })
                .collect();
        *cache = Some((Instant::now(), findings.clone()));
        Ok(findings)
    }
}

impl Collector for AuditCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let findings = self.findings()?;
        let mut family = encoder.encode_descriptor(
            "dsguard_audit_findings",
            "Findings of the DaemonSet audit (docs/audit.md), one series per finding",
            None,
            MetricType::Gauge,
        )?;
        for [namespace, daemonset, rule, severity] in &findings {
            ConstGauge::new(1i64).encode(family.encode_family(&[
                ("namespace", namespace.as_str()),
                ("daemonset", daemonset.as_str()),
                ("rule", rule.as_str()),
                ("severity", severity.as_str()),
            ])?)?;
        }
        Ok(())
    }
}
