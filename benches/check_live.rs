//! `dsguard check` against a live 5,000-node, 20-DaemonSet cluster (the simulator's generated
//! one, in its own process) beside the bare list-and-parse of the same lists: the same three
//! paged lists (500 a page, the daemon-pod selector) parsed into k8s-openapi types and dropped.
//! The check's target is 1.5x the bare time.
//!
//! Run: `cargo bench --bench check_live`. Prints its figures.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use support::{Killed, median};

const SPEC: &str = "nodes=5000,daemonsets=20,fail=10";
const RUNS: usize = 5;

async fn bare_list<K>(client: &kube::Client, params: ListParams) -> usize
where
    K: kube::Resource<DynamicType = ()> + serde::de::DeserializeOwned + Clone + std::fmt::Debug,
{
    let api = Api::<K>::all(client.clone());
    let mut params = params.limit(500);
    let mut count = 0;
    loop {
        let page = api.list(&params).await.expect("list");
        count += page.items.len();
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return count,
        }
    }
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bin = env!("CARGO_BIN_EXE_dsguard");
    let dir = std::env::temp_dir().join(format!("dsguard-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    let _sim = Killed(
        Command::new(bin)
            .args([
                "sim",
                "--generate",
                SPEC,
                "--listen",
                "127.0.0.1:0",
                "--kubeconfig-out",
            ])
            .arg(&kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator"),
    );
    let started = Instant::now();
    while !std::fs::read_to_string(&kubeconfig).is_ok_and(|t| t.contains("server:")) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the simulator did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on(async {
        let config = kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
            &Default::default(),
        )
        .await
        .unwrap();
        kube::Client::try_from(config).unwrap()
    });

    let mut bare = Vec::new();
    let mut check = Vec::new();
    let mut objects = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        objects = runtime.block_on(async {
            bare_list::<Node>(&client, ListParams::default()).await
                + bare_list::<DaemonSet>(&client, ListParams::default()).await
                + bare_list::<Pod>(
                    &client,
                    ListParams::default().labels("pod-template-generation"),
                )
                .await
        });
        bare.push(t.elapsed());
        let t = Instant::now();
        let output = Command::new(bin)
            .args(["check", "-o", "json", "--kubeconfig"])
            .arg(&kubeconfig)
            .output()
            .expect("dsguard check runs");
        check.push(t.elapsed());
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "dsguard check failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (bare, check) = (median(bare), median(check));
    println!("dsguard check against the simulator's generated cluster ({SPEC}), {objects} objects");
    println!(
        "  bare list and parse (k8s-openapi types), median of {RUNS}: {:>8.0} ms",
        bare.as_secs_f64() * 1e3
    );
    println!(
        "  dsguard check -o json (whole process), median of {RUNS}:   {:>8.0} ms",
        check.as_secs_f64() * 1e3
    );
    println!(
        "  ratio: {:.2} (target <= 1.5)",
        check.as_secs_f64() / bare.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
