use super::*;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds).expect("timestamp")
}

fn lease(holder: &str, renewed: i64) -> LeaseRecord {
    LeaseRecord {
        holder: Some(holder.to_owned()),
        renew_time: Some(at(renewed)),
        acquire_time: Some(at(renewed)),
        duration: SignedDuration::from_secs(15),
        transitions: 3,
    }
}

#[test]
fn a_missing_lease_is_created() {
    assert_eq!(next_step(None, "a", at(0)), Step::Create);
}

#[test]
fn a_free_lease_is_taken() {
    let mut free = lease("", 0);
    free.holder = None;
    assert_eq!(next_step(Some(&free), "a", at(1)), Step::Take);
    assert_eq!(next_step(Some(&lease("", 0)), "a", at(1)), Step::Take);
}

#[test]
fn an_expired_lease_is_taken_and_counts_a_transition() {
    let old = lease("b", 0);
    assert_eq!(next_step(Some(&old), "a", at(16)), Step::Take);
    let written = record_to_write(&Step::Take, Some(&old), "a", old.duration, at(16));
    assert_eq!(written.holder.as_deref(), Some("a"));
    assert_eq!(written.transitions, 4);
    assert_eq!(written.acquire_time, Some(at(16)));
    assert_eq!(written.renew_time, Some(at(16)));
}

#[test]
fn a_live_lease_of_another_is_not_taken() {
    let live = lease("b", 0);
    for now in [0, 5, 14, 15] {
        assert_eq!(
            next_step(Some(&live), "a", at(now)),
            Step::Follow { holder: "b".into() },
            "at {now}s"
        );
    }
}

#[test]
fn our_own_lease_is_renewed_keeping_its_acquire_time() {
    let ours = lease("a", 0);
    assert_eq!(next_step(Some(&ours), "a", at(3)), Step::Renew);
    let written = record_to_write(&Step::Renew, Some(&ours), "a", ours.duration, at(3));
    assert_eq!(written.acquire_time, Some(at(0)));
    assert_eq!(written.renew_time, Some(at(3)));
    assert_eq!(written.transitions, 3);
}

#[test]
fn a_leader_that_cannot_renew_steps_down_at_the_renew_deadline() {
    let mut election = Election::new("a".into(), SignedDuration::from_secs(10));
    assert_eq!(election.observe(at(0)), Change::None);
    election.renewed(at(0));
    assert_eq!(election.observe(at(0)), Change::Elected);
    // Renewals fail from here on: it acts until the deadline, not one moment longer.
    assert_eq!(election.observe(at(9)), Change::None);
    assert!(election.leadership().leading);
    assert_eq!(
        election.time_left(at(9)),
        Some(std::time::Duration::from_secs(1))
    );
    assert_eq!(election.observe(at(10)), Change::SteppedDown);
    assert!(!election.leadership().leading);
    assert_eq!(election.time_left(at(10)), None);
}

#[test]
fn the_old_leader_stops_before_anyone_may_take_its_lease() {
    let settings = HaSettings::default();
    let mut election = Election::new("a".into(), settings.renew_deadline.0);
    election.renewed(at(0));
    let written = record_to_write(&Step::Create, None, "a", settings.lease_duration.0, at(0));
    for now in 0..40 {
        let b_may_take = next_step(Some(&written), "b", at(now)) == Step::Take;
        assert!(
            !(b_may_take && election.leading(at(now))),
            "both would act at {now}s"
        );
    }
}

#[test]
fn a_renewal_after_following_does_not_revive_an_old_term() {
    let mut election = Election::new("a".into(), SignedDuration::from_secs(10));
    election.renewed(at(0));
    election.observe(at(0));
    election.follows("b".into());
    assert_eq!(election.observe(at(1)), Change::SteppedDown);
    assert_eq!(election.leadership().holder.as_deref(), Some("b"));
}

#[test]
fn timings_must_each_be_shorter_than_the_next() {
    let mut settings = HaSettings {
        namespace: Some("dsg".into()),
        enabled: true,
        ..HaSettings::default()
    };
    assert!(settings.validate().is_ok());
    settings.renew_deadline = settings.lease_duration;
    let error = settings
        .validate()
        .expect_err("deadline too long")
        .to_string();
    assert!(error.contains("ha.renew_deadline"), "{error}");
    settings.renew_deadline = Duration(SignedDuration::from_secs(10));
    settings.retry_period = Duration(SignedDuration::from_secs(10));
    let error = settings.validate().expect_err("retry too long").to_string();
    assert!(error.contains("ha.retry_period"), "{error}");
}
