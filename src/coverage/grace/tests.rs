use super::*;

fn annotations(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn annotations_override_the_defaults_per_state() {
    let (periods, errors) = GracePeriods::default().with_overrides(&annotations(&[
        ("dsguard.io/grace-missing", "10m"),
        ("dsguard.io/grace-not-ready", "1h30m"),
        ("dsguard.io/grace-stuck_terminating", "0s"),
        ("dsguard.io/maintenance", "true"),
    ]));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(periods.missing, SignedDuration::from_mins(10));
    assert_eq!(periods.not_ready, SignedDuration::from_mins(90));
    assert_eq!(periods.stuck_terminating, SignedDuration::ZERO);
    assert_eq!(periods.pending, GracePeriods::default().pending);
}

#[test]
fn bad_annotations_are_reported_and_the_default_kept() {
    let (periods, errors) = GracePeriods::default().with_overrides(&annotations(&[
        ("dsguard.io/grace-missing", "soon"),
        ("dsguard.io/grace-pending", "-5m"),
        ("dsguard.io/grace-healthy", "5m"),
        ("dsguard.io/grace-lost", "5m"),
    ]));
    assert_eq!(periods, GracePeriods::default());
    let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "annotation dsguard.io/grace-healthy: no gap state named \"healthy\"",
            "annotation dsguard.io/grace-lost: no gap state named \"lost\"",
            "annotation dsguard.io/grace-missing: \"soon\" is not a duration (examples: 90s, 10m, 1h30m)",
            "annotation dsguard.io/grace-pending: \"-5m\" is negative",
        ]
    );
}
