use super::*;

#[test]
fn durations_read_like_people_write_them() {
    let human_secs = |s| human(SignedDuration::from_secs(s));
    assert_eq!(human_secs(0), "0s");
    assert_eq!(human_secs(45), "45s");
    assert_eq!(human_secs(120), "2m");
    assert_eq!(human_secs(200), "3m20s");
    assert_eq!(human_secs(7500), "2h5m");
    assert_eq!(human_secs(273_600), "3d4h");
    assert_eq!(human_secs(-5), "0s");
}

#[test]
fn negative_and_malformed_durations_are_refused() {
    assert_eq!(parse_duration(" 1h30m "), Ok(SignedDuration::from_mins(90)));
    assert!(parse_duration("-5s").unwrap_err().contains("negative"));
    assert!(
        parse_duration("soon")
            .unwrap_err()
            .contains("not a duration")
    );
}
