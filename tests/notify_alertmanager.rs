//! The Alertmanager receiver against a real Alertmanager (Debian `prometheus-alertmanager`),
//! started by the test on a free port: after a firing notification its `/api/v2/alerts` lists
//! dsguard's alerts with their labels, they are re-posted while firing, and a resolve ends them.

mod notify_common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dsguard::base::SystemClock;
use dsguard::notification::Status;
use dsguard::notify::{Dispatcher, NotifyMetrics, Outcome};
use notify_common::{TempDir, free_addr, settings, stranded, wait_until};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

struct Alertmanager {
    child: Child,
    url: String,
    _dir: TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_alertmanager() -> Alertmanager {
    let dir = TempDir::new("alertmanager");
    let config = dir.0.join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n",
    )
    .unwrap();
    let addr = free_addr();
    let child = Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.0.join("data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-alertmanager runs (see .ci/install)");
    let am = Alertmanager {
        child,
        url: format!("http://{addr}"),
        _dir: dir,
    };
    // reqwest is built without a bundled crypto provider (dsguard installs ring itself).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let ready = format!("{}/-/ready", am.url);
    let start = std::time::Instant::now();
    loop {
        if let Ok(r) = client.get(&ready).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "alertmanager did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    am
}

async fn alerts(am: &Alertmanager) -> Vec<Value> {
    reqwest::get(format!("{}/api/v2/alerts", am.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls Alertmanager's list until `condition` holds.
async fn wait_for_alerts(
    am: &Alertmanager,
    what: &str,
    condition: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let list = alerts(am).await;
        if condition(&list) {
            return list;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting until {what}: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn alertmanager_lists_dsguards_alerts_while_firing_and_ends_them_on_resolve() {
    let am = start_alertmanager().await;
    let s = settings(
        json!({"receivers": [{"name": "am", "alertmanager": {"url": am.url, "resend_interval": "1s"}}]}),
    );
    let metrics = NotifyMetrics::default();
    let (handle, run) = Dispatcher::start(&s, metrics.clone(), Arc::new(SystemClock)).unwrap();
    let _run = tokio::spawn(run);
    let tx = handle.sender();
    tx.send(stranded(
        "am",
        "worker-2",
        &["fluentd", "node-exporter"],
        Status::Firing,
    ))
    .await
    .unwrap();
    let list = wait_for_alerts(&am, "both alerts are listed", |l| l.len() == 2).await;
    let mut daemonsets: Vec<_> = list
        .iter()
        .map(|a| a["labels"]["daemonset"].as_str().unwrap().to_owned())
        .collect();
    daemonsets.sort();
    assert_eq!(daemonsets, ["fluentd", "node-exporter"]);
    for alert in &list {
        assert_eq!(alert["labels"]["alertname"], "DaemonSetPodsStranded");
        assert_eq!(alert["labels"]["node"], "worker-2");
        assert_eq!(alert["labels"]["namespace"], "kube-system");
        assert_eq!(alert["labels"]["severity"], "critical");
        assert_eq!(alert["status"]["state"], "active");
        assert!(
            alert["annotations"]["runbook_url"]
                .as_str()
                .unwrap()
                .contains("DaemonSetPodsStranded")
        );
        assert_eq!(
            alert["generatorURL"],
            "http://dsguard:8080/api/v1/nodes/worker-2"
        );
    }
    assert_eq!(metrics.count("am", Outcome::Delivered), 1);
    wait_until("the firing alerts were re-posted", DEADLINE, || {
        metrics.resend_count("am") >= 2
    })
    .await;
    assert_eq!(alerts(&am).await.len(), 2, "still listed while re-posted");
    tx.send(stranded(
        "am",
        "worker-2",
        &["fluentd", "node-exporter"],
        Status::Resolved,
    ))
    .await
    .unwrap();
    wait_for_alerts(
        &am,
        "the resolved alerts are gone from the active list",
        |l| l.is_empty(),
    )
    .await;
    assert_eq!(metrics.count("am", Outcome::Delivered), 2);
}
