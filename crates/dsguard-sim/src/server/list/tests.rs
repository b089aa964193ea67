use super::*;

#[test]
fn continue_tokens_have_the_real_servers_encoding() {
    // The token of shared/fixtures/real-k8s/api/list-pods-limit3.json.
    let real =
        "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MjE3NCwic3RhcnQiOiJkc2cvaG9zdG5ldC1zZDU1Y1x1MDAwMCJ9";
    let (rv, start) = decode_continue(real).expect("decodes");
    assert_eq!((rv, start.as_str()), (2174, "dsg/hostnet-sd55c\u{0}"));
    let ours = encode_continue(2174, "dsg/hostnet-sd55c");
    assert_eq!(decode_continue(&ours).expect("round trip"), (rv, start));
}

#[test]
fn a_garbled_continue_token_is_a_bad_request() {
    let error = decode_continue("gYGB").unwrap_err();
    assert_eq!(error.code(), 400);
    assert!(
        error
            .to_string()
            .starts_with("invalid continue token: continue key is not valid: "),
        "{error}"
    );
}
