use super::*;

#[test]
fn durations_print_like_kubectl() {
    assert_eq!(human_duration(45), "45s");
    assert_eq!(human_duration(192), "3m12s");
    assert_eq!(human_duration(3600 * 5 + 60), "5h1m");
    assert_eq!(human_duration(86400 * 2 + 3600 * 3), "2d3h");
}
