//! What a slim Pod costs: `size_of::<PodInfo>()`, the memory a parsed pod takes as the pod
//! watcher keeps it (labels shared), the parse time per pod, and the throughput against
//! `serde_json::from_str::<Value>` on the same bytes; on the simulator's generated daemon pods
//! (5,000 nodes × 20 DaemonSets: 63,000 pods).
//!
//! The pods' JSON is written to a file and parsed by a second run of this program that has done
//! nothing else, so the resident memory the pods add is new memory, not memory freed by the
//! simulator and reused (which the resident size would not show). The figure includes the
//! allocator's own overhead, as the running watcher pays it.
//!
//! Run: `cargo bench --bench pod_memory` (`POD_MEMORY_NODES=500` for a smaller cluster).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsguard::cluster::{LabelSets, Object, PodInfo, Resource, parse_object};
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
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; this one only runs on purpose.
    }
    if let Some(at) = args.iter().position(|a| a == "--parse") {
        return parse(&args[at + 1]);
    }
    let nodes: usize = std::env::var("POD_MEMORY_NODES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let spec: GenerateSpec = format!("nodes={nodes},daemonsets=20")
        .parse()
        .expect("a spec");
    let store = Arc::new(Store::new(SimClock::new(1.0), 10));
    let mut engine = Engine::new(store.clone(), Arc::new(Faults::default()), generate(&spec));
    engine.bootstrap().expect("bootstrap");
    let path = std::env::temp_dir().join(format!("dsguard-pods-{}.jsonl", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("a temp file"));
    for obj in store.list(Kind::Pod, None).1 {
        file.write_all(&obj.typed_json()).expect("write");
        file.write_all(b"\n").expect("write");
    }
    file.flush().expect("write");
    drop(file);
    println!("slim pods of the simulator's {nodes}-node, 20-DaemonSet cluster");
    let status = std::process::Command::new(std::env::current_exe().expect("this program"))
        .arg("--parse")
        .arg(&path)
        .status()
        .expect("the parsing run");
    let _ = std::fs::remove_file(&path);
    assert!(status.success(), "the parsing run failed");
}

/// The second run: parses every line of the file into a slim pod and prints the figures.
fn parse(path: &str) {
    let text = std::fs::read_to_string(path).expect("the pods' JSON");
    let lines: Vec<&str> = text.lines().collect();
    let (n, bytes) = (lines.len(), text.len());

    let before = rss_kib();
    let mut pods: Vec<PodInfo> = Vec::with_capacity(n);
    let mut labels = LabelSets::default();
    let t = Instant::now();
    for line in &lines {
        if let Ok(Object::Pod(mut pod)) = parse_object(Resource::Pods, line) {
            pod.labels = labels.share(pod.labels);
            pods.push(pod);
        }
    }
    let parse = t.elapsed();
    let after = rss_kib();
    assert_eq!(pods.len(), n, "every generated pod parses");

    let t = Instant::now();
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
        std::hint::black_box(value);
    }
    let value = t.elapsed();

    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let mbps = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    println!(
        "  {n} pods, {bytes} bytes of JSON, {} label maps",
        labels.len()
    );
    println!(
        "  size_of::<PodInfo>():                          {:>8} B",
        std::mem::size_of::<PodInfo>()
    );
    println!(
        "  memory a kept pod takes (inline and heap):     {:>8.0} B  ({} KiB resident for all)",
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
