use std::sync::Mutex;

use super::*;
use crate::alert::{AlertEngine, AlertSettings, SilenceRequest};
use crate::base::FixedClock;

fn engine() -> SharedEngine {
    Arc::new(Mutex::new(AlertEngine::new(AlertSettings::default(), None)))
}

fn clock() -> FixedClock {
    FixedClock("2026-11-22T00:00:00Z".parse().unwrap())
}

#[test]
fn nothing_is_written_while_the_shared_silences_say_it_all() {
    let alerts = engine();
    assert_eq!(
        merge_silences(None, &alerts, &clock()),
        None,
        "no empty ConfigMap"
    );
    let request = SilenceRequest {
        matchers: vec!["node=w-1".into()],
        duration: "1h".into(),
        created_by: "ops".into(),
        comment: String::new(),
    };
    alerts.lock().unwrap().silence(request, clock().0).unwrap();
    let text = merge_silences(None, &alerts, &clock()).expect("the new silence is written");
    assert!(text.contains("node=w-1"), "{text}");
    assert_eq!(merge_silences(Some(&text), &alerts, &clock()), None);
    let other = engine();
    assert_eq!(merge_silences(Some(&text), &other, &clock()), None);
    assert_eq!(other.lock().unwrap().silences(clock().0).len(), 1, "taken");
}

#[test]
fn an_unreadable_shared_text_is_replaced_by_this_replicas_silences() {
    let alerts = engine();
    assert_eq!(
        merge_silences(Some("{"), &alerts, &clock()).as_deref(),
        Some(r#"{"silences":[]}"#)
    );
}

#[test]
fn a_state_over_the_configmap_limit_loses_its_oldest_groups_first() {
    let mut doc = StateDoc::default();
    let small = fit(&mut doc).expect("fits");
    assert!(small.len() < 200, "{small}");
    let mut huge = StateDoc {
        holder: "x".repeat(MAX_VALUE_BYTES + 1),
        ..StateDoc::default()
    };
    assert_eq!(fit(&mut huge), None, "what cannot be cut is not written");
}
