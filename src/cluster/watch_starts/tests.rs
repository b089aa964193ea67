use super::*;

#[test]
fn only_watch_requests_count_as_watches() {
    let uri = |s: &str| s.parse::<http::Uri>().unwrap();
    assert!(is_watch(&uri(
        "/api/v1/nodes?&watch=true&timeoutSeconds=290&resourceVersion=7"
    )));
    assert!(!is_watch(&uri("/api/v1/nodes?limit=500")));
    assert!(!is_watch(&uri("/api/v1/nodes?labelSelector=watch%3Dtrue")));
}
