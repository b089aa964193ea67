use super::*;

#[test]
fn metrics_are_exposed_under_their_names_with_fixed_labels() {
    let mut registry = Registry::default();
    let metrics = ReconcileMetrics::register(&mut registry);
    metrics.observe_plan(&Plan::default(), Timestamp::UNIX_EPOCH);
    metrics.count(ActionKind::DeleteStuckPod, Outcome::DryRun);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains(
            r#"dsguard_reconcile_executions_total{kind="delete_stuck_pod",outcome="dry_run"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"dsguard_reconcile_actions{kind="controller_stalled",executable="false"} 0"#
        ),
        "{text}"
    );
    assert!(
        text.contains("dsguard_reconcile_last_run_timestamp_seconds 0"),
        "{text}"
    );
}
