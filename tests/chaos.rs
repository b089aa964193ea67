//! Chaos: `dsguard run` is `kill -9`ed more than twenty times while a simulated cluster plays five
//! node failures, at random moments and right after it decides a notification, and restarted on
//! the same state directory each time. Every page and every resolve reaches the webhook, a
//! repeat only ever carries the key it was first sent with, and nothing else pages.
//! `cargo bench --bench chaos` is the long version (100 kills, API faults).

mod common;

use common::chaos::{Plan, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_and_right_after_decisions_loses_no_page_and_repeats_none_under_a_new_key()
{
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let plan = Plan {
        name: "chaos",
        kills: 24,
        failures: 5,
        faults: Default::default(),
        seed,
    };
    let tally = run(&plan).await;
    println!("seed {seed}: {}", tally.summary());
    assert!(tally.kills >= 20, "{}", tally.summary());
    assert!(
        tally.missing.is_empty(),
        "lost: {:?}; {}",
        tally.missing,
        tally.summary()
    );
    assert_eq!(
        tally.different_key_duplicates,
        0,
        "a notification went out twice under different keys; {}",
        tally.summary()
    );
    assert!(
        tally.false_alerts.is_empty(),
        "false alerts: {:?}; {}",
        tally.false_alerts,
        tally.summary()
    );
}
