use super::*;

#[test]
fn retry_after_is_read_as_seconds_or_as_a_date() {
    assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO),
        "a date in the past means now"
    );
    assert_eq!(parse_retry_after("soon"), None);
}

#[test]
fn header_values_from_settings_are_marked_sensitive() {
    let name = "X-Api-Key".to_owned();
    let map = headers([(&name, "k")]).unwrap();
    assert!(map.get("x-api-key").unwrap().is_sensitive());
    let bad = "bad name".to_owned();
    assert!(headers([(&bad, "k")]).is_err());
}
