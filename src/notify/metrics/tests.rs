use super::*;

#[test]
fn the_exposition_names_follow_the_conventions() {
    let mut registry = Registry::default();
    let m = NotifyMetrics::register(&mut registry);
    m.finished("ops", Outcome::Delivered);
    m.retried("ops", "http_5xx");
    m.latency("ops", 0.2);
    m.depth("ops", 3);
    m.resent("am", true);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for line in [
        "dsguard_notifications_total{receiver=\"ops\",outcome=\"delivered\"} 1",
        "dsguard_notification_retries_total{receiver=\"ops\",reason=\"http_5xx\"} 1",
        "dsguard_notification_delivery_duration_seconds_count{receiver=\"ops\"} 1",
        "dsguard_notification_outbox_depth{receiver=\"ops\"} 3",
        "dsguard_notification_resends_total{receiver=\"am\",result=\"success\"} 1",
        "dsguard_notifications_unknown_receiver_total 0",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
}
