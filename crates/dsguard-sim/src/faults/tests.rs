use super::*;

#[test]
fn next_n_faults_are_consumed_one_at_a_time() {
    let faults = Faults::new(FaultConfig {
        expire_next_watches: 2,
        ..FaultConfig::default()
    });
    assert!(faults.take_forced_expiry());
    assert!(faults.take_forced_expiry());
    assert!(!faults.take_forced_expiry());
}

#[test]
fn an_error_rate_fails_about_that_share_of_requests() {
    let faults = Faults::default();
    let failed = (0..10_000).filter(|_| faults.chance(0.25)).count();
    assert!((2_000..3_000).contains(&failed), "{failed}");
    assert!(!(0..1000).any(|_| faults.chance(0.0)));
}
