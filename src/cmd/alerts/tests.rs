use super::*;

#[test]
fn alerts_render_as_a_table_and_blindness_comes_first() {
    let body = serde_json::json!({
        "blind": null,
        "alerts": [{"state": "firing", "labels": {"alertname": "DaemonSetPodsStranded", "severity": "critical"},
                    "annotations": {"summary": "Node w-2 is down: 2 daemon pod(s) lost"}, "firing_since": "2026-11-22T00:02:00Z"}]
    });
    let text = render(&body);
    assert!(text.starts_with("STATE   ALERT"), "{text}");
    assert!(
        text.contains(
            "firing  DaemonSetPodsStranded  critical  2026-11-22T00:02:00Z  Node w-2 is down"
        ),
        "{text}"
    );
    let hostile = serde_json::json!({"alerts": [{"state": "firing",
        "labels": {"alertname": "x".repeat(65_536)}, "annotations": {"summary": "\u{1b}]0;owned\u{7}"}}]});
    let text = render(&hostile);
    assert!(
        !text.contains('\u{1b}') && text.contains("\\u{1b}]0;owned"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() < 1000));
    let blind = serde_json::json!({"blind": {"since": "2026-11-22T00:00:00Z", "reason": "waiting"}, "alerts": []});
    assert_eq!(
        render(&blind),
        "dsguard is blind since 2026-11-22T00:00:00Z: waiting\n\nNo active alert.\n"
    );
}
