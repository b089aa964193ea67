use super::*;

fn at(seconds: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_secs(seconds)
}

#[test]
fn no_minute_ever_holds_more_than_the_limit() {
    let mut limiter = RateLimiter::new(3);
    let mut granted = Vec::new();
    for second in 0..300 {
        if limiter.try_acquire(at(second)) {
            granted.push(second);
        }
    }
    for (i, start) in granted.iter().enumerate() {
        let within = granted[i..].iter().filter(|t| **t < start + 60).count();
        assert!(within <= 3, "{granted:?}");
    }
    assert_eq!(
        granted.len(),
        15,
        "3 per minute over 5 minutes: {granted:?}"
    );
}

#[test]
fn permits_come_back_a_minute_after_use() {
    let mut limiter = RateLimiter::new(1);
    assert!(limiter.try_acquire(at(0)));
    assert!(!limiter.try_acquire(at(59)));
    assert_eq!(limiter.available(at(59)), 0);
    assert!(limiter.try_acquire(at(60)));
}
