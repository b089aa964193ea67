use super::*;

fn scrubber(build: impl FnOnce(&mut Secrets)) -> Scrubber {
    let mut secrets = Secrets::default();
    build(&mut secrets);
    secrets.build()
}

#[test]
fn a_token_echoed_raw_percent_encoded_or_go_escaped_is_redacted() {
    let s = scrubber(|s| {
        s.url(&SecretUrl::new(
            "http://127.0.0.1:9/hook?token=SECRET=123&x=1",
        ));
    });
    for echoed in [
        "invalid token SECRET=123",
        "token%3DSECRET%3D123",
        "token%3dSECRET%3d123",
        r#"{"error":"bad token\u003dSECRET\u003d123\u0026x\u003d1"}"#,
        r#"{"error":"bad token\u003DSECRET\u003D123"}"#,
    ] {
        let out = s.scrub(echoed);
        assert!(!out.contains("SECRET"), "{echoed} -> {out}");
        assert!(out.contains(REDACTED), "{out}");
    }
}

#[test]
fn a_slack_urls_last_segment_is_redacted_on_its_own_but_its_fixed_words_are_not() {
    let s = scrubber(|s| {
        s.url(&SecretUrl::new(
            "https://hooks.slack.com/services/T0/B0/XXXXSECRET",
        ));
    });
    assert_eq!(
        s.scrub("no_service for /services/T0/B0/XXXXSECRET"),
        "no_service for /<redacted>"
    );
    assert_eq!(
        s.scrub("invalid_token XXXXSECRET at services T0"),
        "invalid_token <redacted> at services T0"
    );
    assert_eq!(
        s.scrub("escaped \\/services\\/T0\\/B0\\/XXXXSECRET"),
        "escaped \\/<redacted>"
    );
}

#[test]
fn user_info_and_percent_decoded_query_values_are_redacted() {
    let s = scrubber(|s| {
        s.url(&SecretUrl::new(
            "https://alice:PASS-WORD-9@am.example/x?key=a%2Fb%2Fcdef",
        ));
    });
    let out = s.scrub("user alice password PASS-WORD-9 key a/b/cdef");
    assert!(
        !out.contains("PASS-WORD-9") && !out.contains("a/b/cdef"),
        "{out}"
    );
    assert!(
        out.contains("alice"),
        "a short user name is no secret: {out}"
    );
}

#[test]
fn words_of_a_header_value_and_basic_auth_in_base64_are_redacted() {
    let s = scrubber(|s| {
        s.value("Bearer eyJhbGciOi.eyJzdWIiOi.SIGNATURE42");
        s.basic_auth("dsguard", "hunter22");
    });
    let out = s.scrub("bad signature SIGNATURE42 for Bearer");
    assert_eq!(out, "bad signature <redacted> for Bearer");
    let echoed = format!("authorization Basic {}", base64(b"dsguard:hunter22"));
    assert_eq!(s.scrub(&echoed), "authorization Basic <redacted>");
}

#[test]
fn a_short_whole_secret_is_redacted_only_as_a_word() {
    let s = scrubber(|s| {
        s.value("ops");
    });
    assert_eq!(s.scrub("value ops refused"), "value <redacted> refused");
    assert_eq!(s.scrub("stops"), "stops");
}

#[test]
fn short_parts_and_common_words_are_kept() {
    let s = scrubber(|s| {
        s.url(&SecretUrl::new("http://am:9093/api/v2/alerts"));
    });
    assert_eq!(s.scrub("POST /api/v2/alerts: 404"), "POST /<redacted>: 404");
    assert_eq!(s.scrub("alerts api v2"), "alerts api v2");
}

#[test]
fn base64_follows_rfc_4648() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
}
