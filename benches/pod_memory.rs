//! What a slim Pod costs in memory: `size_of::<PodInfo>()` and the resident memory that parsing
//! the simulator's generated daemon pods (5,000 nodes × 20 DaemonSets) into slim pods adds, per
//! pod, as the watchers keep them. Also the parse time per pod and the throughput against
//! `serde_json::from_str::<Value>` on the same bytes.
//!
//! Run: `cargo bench --bench pod_memory`. Prints its figures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dsguard::cluster::{Object, PodInfo, Resource, parse_object};
use dsguard_sim::clock::SimClock;
use dsguard_sim::engine::Engine;
use dsguard_sim::faults::Faults;
use dsguard_sim::generate::{GenerateSpec, generate};
use dsguard_sim::kinds::Kind;
use dsguard_sim::store::Store;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; this one only runs on purpose.
    }
    let spec: GenerateSpec = "nodes=5000,daemonsets=20".parse().expect("a spec");
    let store = Arc::new(Store::new(SimClock::new(1.0), 10));
    let mut engine = Engine::new(store.clone(), Arc::new(Faults::default()), generate(&spec));
    engine.bootstrap().expect("bootstrap");
    let texts: Vec<String> = store
        .list(Kind::Pod, None)
        .1
        .iter()
        .map(|obj| String::from_utf8(obj.typed_json()).expect("UTF-8"))
        .collect();
    drop(engine);
    drop(store);
    let bytes: usize = texts.iter().map(String::len).sum();
    let n = texts.len();

    let mut pods: Vec<PodInfo> = Vec::with_capacity(n);
    let before = rss_kib();
    let t = Instant::now();
    for text in &texts {
        if let Ok(Object::Pod(pod)) = parse_object(Resource::Pods, text) {
            pods.push(pod);
        }
    }
    let parse = t.elapsed();
    let after = rss_kib();
    assert_eq!(pods.len(), n, "every generated pod parses");

    let t = Instant::now();
    for text in &texts {
        let value: serde_json::Value = serde_json::from_str(text).expect("JSON");
        std::hint::black_box(value);
    }
    let value = t.elapsed();

    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let mbps = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    println!(
        "slim pods of the simulator's 5,000-node, 20-DaemonSet cluster: {n} pods, {bytes} bytes of JSON"
    );
    println!(
        "  size_of::<PodInfo>():                          {:>8} B",
        std::mem::size_of::<PodInfo>()
    );
    println!(
        "  resident memory the parsed pods add, per pod:  {:>8.0} B  (heap; {} KiB in all)",
        (after.saturating_sub(before) * 1024) as f64 / n as f64,
        after.saturating_sub(before)
    );
    println!(
        "  parse into PodInfo:                            {:>8.2} µs/pod  {:>6.0} MB/s",
        per(parse),
        mbps(parse)
    );
    println!(
        "  serde_json::from_str::<Value>, same bytes:     {:>8.2} µs/pod  {:>6.0} MB/s",
        per(value),
        mbps(value)
    );
    drop(pods);
}
