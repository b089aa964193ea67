use super::*;

#[test]
fn scenario_time_runs_speed_times_faster_than_the_wall_clock() {
    let clock = SimClock::new(1000.0);
    std::thread::sleep(Duration::from_millis(20));
    let elapsed = clock.elapsed();
    assert!(elapsed >= Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(
        clock.wall_duration(Duration::from_secs(60)),
        Duration::from_millis(60)
    );
}

#[test]
fn timestamps_are_written_in_whole_seconds_with_a_z_suffix() {
    let clock = SimClock::new(1.0);
    let text = rfc3339(clock.timestamp_at(Duration::from_millis(61_500)));
    assert!(text.ends_with('Z') && !text.contains('.'), "{text}");
    let back: Timestamp = text.parse().expect("parses");
    assert_eq!(clock.scenario_time_of(back), Duration::from_secs(61));
}
