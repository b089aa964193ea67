use super::*;

fn http(status: u16) -> DeliveryError {
    DeliveryError::Http {
        status,
        body: String::new(),
        retry_after: None,
    }
}

#[test]
fn server_errors_and_throttling_are_retried_but_client_errors_are_not() {
    assert!(http(500).is_transient());
    assert!(http(503).is_transient());
    assert!(http(429).is_transient());
    assert!(http(408).is_transient());
    assert!(!http(400).is_transient());
    assert!(!http(404).is_transient());
    assert_eq!(http(429).metric_label(), "http_429");
    assert_eq!(http(502).metric_label(), "http_5xx");
}

#[test]
fn smtp_4xx_is_retried_and_5xx_is_not() {
    let smtp = |transient| DeliveryError::Smtp {
        message: String::new(),
        transient,
    };
    assert!(smtp(true).is_transient());
    assert!(!smtp(false).is_transient());
}

#[test]
fn a_redirect_is_permanent_and_names_its_status() {
    let e = DeliveryError::Redirect { status: 307 };
    assert!(!e.is_transient());
    assert_eq!(e.metric_label(), "redirect");
    assert!(e.to_string().contains("307"), "{e}");
}
