use super::*;

fn labels(value: Option<&str>) -> Labels {
    value
        .map(|v| (ANNOTATION_RECONCILE.to_owned(), v.to_owned()))
        .into_iter()
        .collect()
}

#[test]
fn absent_or_true_allows_and_false_opts_out() {
    assert_eq!(Consent::of(&labels(None)), Consent::Allowed);
    assert_eq!(Consent::of(&labels(Some("true"))), Consent::Allowed);
    assert_eq!(Consent::of(&labels(Some(" False "))), Consent::OptedOut);
}

#[test]
fn a_bad_value_is_an_opt_out_that_names_the_value() {
    let consent = Consent::of(&labels(Some("no")));
    assert_eq!(consent, Consent::Invalid("no".to_owned()));
    let reason = consent.opt_out_reason("node w-1").unwrap();
    assert!(
        reason.contains("node w-1") && reason.contains("\"no\""),
        "{reason}"
    );
    assert!(consent.error("node w-1").is_some());
    assert!(Consent::OptedOut.error("node w-1").is_none());
}
