//! `dsguard reconcile` on the simulator: the plan of a `kubectl`-style dump offline (with a bad
//! opt-out annotation reported and obeyed), and the live plan and `--apply`.

use std::time::Duration;

use dsguard::cluster::Inventory;
use dsguard::cluster::{PodWatch, list_inventory};
use dsguard::reconcile::{ActionKind, Outcome, apply, plan_of};
use dsguard_sim::testing::{options, scenario_file, start};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

async fn dump(client: &kube::Client) -> Value {
    let all = ListParams::default();
    let nodes = Api::<Node>::all(client.clone()).list(&all).await.unwrap();
    let daemonsets = Api::<DaemonSet>::all(client.clone())
        .list(&all)
        .await
        .unwrap();
    let pods = Api::<Pod>::all(client.clone()).list(&all).await.unwrap();
    let mut items: Vec<Value> = Vec::new();
    for node in nodes.items {
        items.push(json!({"apiVersion": "v1", "kind": "Node"}));
        merge(
            items.last_mut().unwrap(),
            serde_json::to_value(node).unwrap(),
        );
    }
    for ds in daemonsets.items {
        items.push(json!({"apiVersion": "apps/v1", "kind": "DaemonSet"}));
        merge(items.last_mut().unwrap(), serde_json::to_value(ds).unwrap());
    }
    for pod in pods.items {
        items.push(json!({"apiVersion": "v1", "kind": "Pod"}));
        merge(
            items.last_mut().unwrap(),
            serde_json::to_value(pod).unwrap(),
        );
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

fn merge(target: &mut Value, object: Value) {
    for (k, v) in object.as_object().unwrap() {
        target[k] = v.clone();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_of_a_dump_and_of_the_live_cluster_then_apply() {
    let sim = start(scenario_file("reconcile-stuck.yaml"), options(20.0)).await;
    let client = kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap();
    while sim.elapsed() < Duration::from_secs(95) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let now = sim.store.clock().now();

    // Offline, from a dump: the force delete is planned and executable.
    let mut dump = dump(&client).await;
    let mut inventory = Inventory::default();
    inventory
        .add_document("dump.json", &dump.to_string())
        .unwrap();
    let plan = plan_of(&inventory, now);
    let stuck: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::DeleteStuckPod)
        .collect();
    assert_eq!(stuck.len(), 1, "{}", plan.to_text());
    assert!(stuck[0].executable);
    let text = plan.to_text();
    assert!(text.contains("delete_stuck_pod pod kube-system/"), "{text}");
    assert!(text.contains("--grace-period=0 --force"), "{text}");

    // A bad opt-out value on the DaemonSet: reported, and the action is not executable.
    for item in dump["items"].as_array_mut().unwrap() {
        if item["kind"] == "DaemonSet" {
            item["metadata"]["annotations"] = json!({"dsguard.io/reconcile": "nope"});
        }
    }
    let mut inventory = Inventory::default();
    inventory
        .add_document("dump.json", &dump.to_string())
        .unwrap();
    let plan = plan_of(&inventory, now);
    assert_eq!(plan.executable().count(), 0, "{}", plan.to_text());
    assert_eq!(plan.annotation_errors.len(), 1);
    assert!(plan.annotation_errors[0].contains("\"nope\""));
    assert!(
        plan.to_text()
            .contains("warning: daemonset kube-system/agent")
    );

    // Live: list once, plan, apply.
    let inventory = list_inventory(&client, PodWatch::Daemon).await.unwrap();
    let plan = plan_of(&inventory, sim.store.clock().now());
    assert_eq!(plan.executable().count(), 1, "{}", plan.to_text());
    let results = apply(&client, &plan, 10, sim.store.clock().now()).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].1, Outcome::Executed, "{results:?}");
    let pod = results[0].0.pod.clone().unwrap();
    let pods = Api::<Pod>::namespaced(client.clone(), &pod.namespace);
    assert!(pods.get_opt(&pod.name).await.unwrap().is_none());

    // Applying the same plan again finds nothing to do: the live pod is gone.
    let again = apply(&client, &plan, 10, sim.store.clock().now()).await;
    assert_eq!(again[0].1, Outcome::Stale, "{again:?}");
    sim.stop().await;
}
