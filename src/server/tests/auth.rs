//! Writes need the token, reads can; silences are bounded; bodies are bounded.

use super::*;

const MUTE_ALL: &str =
    r#"{"matchers": ["alertname=~.*"], "duration": "1h", "created_by": "mallory"}"#;

/// Sends `body` to `uri` with the bearer `token`, if any; the status, the challenge header and
/// the JSON body (`null` when empty).
async fn send(
    state: AppState,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: String,
) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router(state)
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, challenge, json)
}

fn with_access(access: Access) -> AppState {
    AppState {
        access,
        ..state(true)
    }
}

#[tokio::test]
async fn a_mute_all_silence_needs_the_token() {
    let state = state(true);
    let post = |token: Option<&'static str>| {
        send(
            state.clone(),
            Method::POST,
            "/api/v1/silences",
            token,
            MUTE_ALL.to_owned(),
        )
    };
    let (status, challenge, body) = post(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="dsguard""#));
    assert_eq!(
        body["error"],
        "a bearer token is required (Authorization: Bearer <token>)"
    );
    let (status, _, body) = post(Some("0123456789abcdef0123456789abcdeX")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "the bearer token is not valid");
    let (_, silences) = get_json(state.clone(), "/api/v1/silences").await;
    assert_eq!(silences, serde_json::json!([]), "nothing was created");

    let (status, _, body) = post(Some(TOKEN)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/silences/{id}");
    let (status, _, _) = send(state.clone(), Method::DELETE, &uri, None, String::new()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "nor can it be lifted without"
    );
    let (status, _, _) = send(state, Method::DELETE, &uri, Some(TOKEN), String::new()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn without_a_configured_token_writes_are_off_and_reads_open() {
    let state = with_access(Access::default());
    let (status, _, body) = send(
        state.clone(),
        Method::POST,
        "/api/v1/silences",
        Some(TOKEN),
        MUTE_ALL.to_owned(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"],
        "writes are disabled: no API token is configured (server.auth.token_file)"
    );
    let (status, _, _) = send(
        state.clone(),
        Method::DELETE,
        "/api/v1/silences/s1",
        None,
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get_json(state, "/api/v1/silences").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn protected_reads_need_the_token_but_probes_and_metrics_stay_open() {
    let state = with_access(Access::new(Some(Token::new(TOKEN)), true));
    for uri in ["/api/v1/alerts", "/api/v1/silences", "/api/v1/coverage"] {
        let (status, _, _) = send(state.clone(), Method::GET, uri, None, String::new()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        let (status, _, _) =
            send(state.clone(), Method::GET, uri, Some(TOKEN), String::new()).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    for uri in ["/healthz", "/readyz", "/metrics"] {
        let (status, _, _) = send(state.clone(), Method::GET, uri, None, String::new()).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn oversized_silences_and_bodies_are_refused_with_clear_errors() {
    let state = state(true);
    let post = |body: String| {
        send(
            state.clone(),
            Method::POST,
            "/api/v1/silences",
            Some(TOKEN),
            body,
        )
    };
    let silence = |matchers: Vec<String>, comment: &str| {
        serde_json::json!({"matchers": matchers, "duration": "1h", "created_by": "ops", "comment": comment})
            .to_string()
    };
    let many = (0..10_000).map(|i| format!("node=w-{i}")).collect();
    let (status, _, body) = post(silence(many, "")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        body["error"],
        "request body larger than 65536 bytes (server.limits.max_body_bytes)"
    );
    let (status, _, _) = post(silence(vec!["node=w-1".to_owned()], &"x".repeat(1_900_000))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let seventeen = (0..17).map(|i| format!("node=w-{i}")).collect();
    let (status, _, body) = post(silence(seventeen, "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"],
        "matchers: 17 matchers, more than the 16 allowed (alerting.silences.max_matchers)"
    );
    let (status, _, body) = post(silence(vec!["node=w-1".to_owned()], &"x".repeat(5000))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"],
        "comment: 5000 bytes, longer than the 4096 allowed (alerting.silences.max_comment_length)"
    );
    let ten_years = MUTE_ALL.replace("1h", "87600h");
    let (status, _, body) = post(ten_years).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("duration: 3650d0h is longer"),
        "{body}"
    );

    for i in 0..100 {
        let (status, _, _) = post(silence(vec![format!("node=w-{i}")], "")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _, body) = post(silence(vec!["node=w-100".to_owned()], "")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["error"],
        "silences: 100 are active, the most allowed (alerting.silences.max_active); expire one first"
    );
}

#[test]
fn the_token_never_shows_in_debug_output() {
    let access = Access::new(Some(Token::new(TOKEN)), false);
    let debug = format!("{access:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("<redacted>"));
}

#[test]
fn token_files_are_checked_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("dsguard-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    let settings = |protect_reads| AuthSettings {
        token_file: Some(file.clone()),
        protect_reads,
    };
    let key = |result: Result<Access, SettingsError>| match result {
        Err(SettingsError::Invalid { key, .. }) => key,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        key(settings(false).access()),
        "server.auth.token_file",
        "missing"
    );
    std::fs::write(&file, "short\n").unwrap();
    assert_eq!(
        key(settings(false).access()),
        "server.auth.token_file",
        "short"
    );
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    assert!(
        settings(true).access().is_ok(),
        "a trailing newline is fine"
    );
    let no_token = AuthSettings {
        token_file: None,
        protect_reads: true,
    };
    assert_eq!(key(no_token.access()), "server.auth.protect_reads");
    let _ = std::fs::remove_dir_all(&dir);
}
