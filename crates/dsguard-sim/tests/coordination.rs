//! Leases and ConfigMaps, the objects replicas coordinate through: create, get, list, update and
//! patch with `resourceVersion` checks, answered over HTTP like a real kube-apiserver v1.28
//! (`tests/fixtures/real-k8s/api/update-409-stale-rv.txt`), and through the real `kube` client.

use dsguard_sim::testing::*;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

const CLUSTER: &str = "
name: coordination
nodes:
  - { name: w, count: 1 }
daemonsets:
  - { name: log-agent, namespace: dsg }
";

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/dsg/leases";
const CONFIGMAPS: &str = "/api/v1/namespaces/dsg/configmaps";
const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

#[tokio::test]
async fn a_second_create_of_a_lease_is_refused_as_already_exists() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let lease = json!({"metadata": {"name": "dsguard"}, "spec": {"holderIdentity": "a"}});
    let body = lease.to_string();
    let first = request(sim.addr(), "POST", LEASES, &JSON, Some(&body)).await;
    assert_eq!(first.status, 201);
    let second = request(sim.addr(), "POST", LEASES, &JSON, Some(&body)).await;
    assert_eq!(second.status, 409);
    assert_eq!(
        second.json(),
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "leases.coordination.k8s.io \"dsguard\" already exists",
            "reason": "AlreadyExists",
            "details": {"name": "dsguard", "group": "coordination.k8s.io", "kind": "leases"},
            "code": 409,
        })
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_configmap_update_or_patch_with_a_stale_version_gets_the_real_conflict() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let map = json!({"metadata": {"name": "state"}, "data": {"log": "1"}});
    let created = request(addr, "POST", CONFIGMAPS, &JSON, Some(&map.to_string())).await;
    assert_eq!(created.status, 201);
    let created = created.json();
    assert_eq!(created["kind"], "ConfigMap");
    let mut fresh = created.clone();
    fresh["data"]["log"] = json!("2");
    let path = format!("{CONFIGMAPS}/state");
    let updated = request(addr, "PUT", &path, &JSON, Some(&fresh.to_string())).await;
    assert_eq!(updated.status, 200);
    let mut stale = created.clone();
    stale["data"]["log"] = json!("3");
    let conflict = request(addr, "PUT", &path, &JSON, Some(&stale.to_string())).await;
    let (code, real) = fixture_body("update-409-stale-rv.txt");
    assert_eq!(conflict.status, code);
    let mut expected = real;
    expected["message"] = json!(
        "Operation cannot be fulfilled on configmaps \"state\": the object has been modified; please apply your changes to the latest version and try again"
    );
    expected["details"] = json!({"name": "state", "kind": "configmaps"});
    assert_eq!(conflict.json(), expected);
    let merge = [("Content-Type", "application/merge-patch+json")];
    let stale_patch = json!({"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "data": {"log": "4"}});
    let refused = request(addr, "PATCH", &path, &merge, Some(&stale_patch.to_string())).await;
    assert_eq!(refused.status, 409);
    let patched = request(
        addr,
        "PATCH",
        &path,
        &merge,
        Some(r#"{"data":{"more":"x"}}"#),
    )
    .await;
    assert_eq!(patched.status, 200);
    let got = get(addr, &path).await.json();
    assert_eq!(got["data"], json!({"log": "2", "more": "x"}));
    let listed = get(addr, CONFIGMAPS).await.json();
    assert_eq!(listed["kind"], "ConfigMapList");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    sim.stop().await;
}

async fn client_for(url: &str) -> kube::Client {
    let path = std::env::temp_dir().join(format!("dsguard-sim-coord-{}.yaml", std::process::id()));
    dsguard_sim::kubeconfig::write(&path, url).expect("write kubeconfig");
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("kubeconfig is usable");
    let _ = std::fs::remove_file(&path);
    kube::Client::try_from(config).expect("client")
}

fn conflict_reason(error: kube::Error) -> (u16, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason),
        other => panic!("expected an API status, got {other}"),
    }
}

#[tokio::test]
async fn the_kube_client_creates_replaces_and_patches_leases_and_configmaps() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let client = client_for(&sim.url()).await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "dsg");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "dsguard"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15},
    }))
    .expect("lease");
    let created = leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let again = leases.create(&PostParams::default(), &lease).await;
    assert_eq!(
        conflict_reason(again.expect_err("taken")),
        (409, "AlreadyExists".into())
    );
    let mut mine = leases.get("dsguard").await.expect("get");
    mine.spec.as_mut().expect("spec").holder_identity = Some("b".into());
    let replaced = leases
        .replace("dsguard", &PostParams::default(), &mine)
        .await
        .expect("replace with the current version");
    let mut stale = created;
    stale.spec.as_mut().expect("spec").holder_identity = Some("c".into());
    let lost = leases
        .replace("dsguard", &PostParams::default(), &stale)
        .await;
    assert_eq!(
        conflict_reason(lost.expect_err("stale")),
        (409, "Conflict".into())
    );
    assert_eq!(
        replaced.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("b")
    );
    let maps: Api<ConfigMap> = Api::namespaced(client, "dsg");
    let map: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "state"}, "data": {"a": "1"}}))
            .expect("configmap");
    maps.create(&PostParams::default(), &map)
        .await
        .expect("create map");
    let patch = Patch::Merge(json!({"data": {"b": "2"}}));
    let patched = maps
        .patch("state", &PatchParams::default(), &patch)
        .await
        .expect("patch");
    assert_eq!(patched.data.map(|d| d.len()), Some(2));
    assert_eq!(
        maps.list(&Default::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
    sim.stop().await;
}
