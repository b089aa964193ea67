use super::*;

#[test]
fn a_uuid_is_kept_as_its_bytes_and_prints_back_the_same() {
    let text = "2532ee1f-3b88-40e5-839f-bcd865958de6";
    let uid = Uid::parse(text);
    assert!(matches!(uid, Uid::Uuid(_)));
    assert_eq!(uid.to_string(), text);
    assert_eq!(format!("{uid:?}"), format!("{text:?}"));
}

#[test]
fn anything_else_stays_text() {
    for text in [
        "u-1",
        "",
        "2532EE1F-3B88-40E5-839F-BCD865958DE6",
        "2532ee1f-3b88-40e5-839f-bcd865958de",
        "2532ee1f03b88-40e5-839f-bcd865958de6",
        "2532ee1f-3b88-40e5-839f-bcd865958dxz",
    ] {
        let uid = Uid::parse(text);
        assert_eq!(uid, Uid::Text(text.into()), "{text}");
        assert_eq!(uid.to_string(), text);
    }
}
