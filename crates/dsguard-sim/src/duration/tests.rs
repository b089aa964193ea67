use super::*;

#[test]
fn durations_read_in_every_written_form() {
    let read = |t: &str| t.parse::<Dur>().map(|d| d.0);
    assert_eq!(read("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(read("1m30s"), Ok(Duration::from_secs(90)));
    assert_eq!(read("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(read("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(read("12"), Ok(Duration::from_secs(12)));
    assert!(read("6o").is_err());
    assert!(read("10 parsecs").is_err());
    assert!(read("").is_err());
}
