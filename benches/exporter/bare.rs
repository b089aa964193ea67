//! The yardstick: a bare client that pages the same three lists dsguard lists (500 a page, the
//! daemon-pod label selector) through the same kube client and parses each page with
//! `serde_json` into slim structs of its own (the fields a DaemonSet coverage check reads),
//! then drops them. It shares no code with dsguard's parsing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default)]
    metadata: PageMeta,
    items: Vec<T>,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    name: String,
    namespace: Option<String>,
    uid: Option<String>,
    labels: BTreeMap<String, String>,
    creation_timestamp: Option<String>,
    deletion_timestamp: Option<String>,
    owner_references: Vec<Owner>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Owner {
    kind: String,
    name: String,
    uid: String,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Condition {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    last_transition_time: Option<String>,
    reason: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Pod {
    metadata: Meta,
    spec: PodSpec,
    status: PodStatus,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PodSpec {
    node_name: Option<String>,
    affinity: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PodStatus {
    phase: Option<String>,
    conditions: Vec<Condition>,
    container_statuses: Vec<ContainerStatus>,
    init_container_statuses: Vec<ContainerStatus>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContainerStatus {
    name: String,
    ready: bool,
    state: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Node {
    metadata: Meta,
    spec: NodeSpec,
    status: NodeStatus,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NodeSpec {
    taints: Vec<Taint>,
    unschedulable: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Taint {
    key: String,
    value: Option<String>,
    effect: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NodeStatus {
    conditions: Vec<Condition>,
    allocatable: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DaemonSet {
    metadata: Meta,
    spec: serde_json::Value,
    status: serde_json::Value,
}

/// What one bare listing measured.
pub struct Listing {
    /// Wall time of the three paged lists, fetched and parsed.
    pub time: Duration,
    /// Objects parsed (nodes + DaemonSets + daemon pods).
    pub objects: usize,
    /// Daemon pods parsed.
    pub pods: usize,
    /// Bytes of every page of the three lists.
    pub bytes: usize,
    /// The pod pages' bodies, for the parse-only figures.
    pub pages: Vec<Vec<u8>>,
}

/// Pages the three lists and parses them into the slim structs above.
pub async fn list(client: &kube::Client) -> Listing {
    let started = Instant::now();
    let mut pages = Vec::new();
    let nodes = list_kind::<Node>(client, "/api/v1/nodes", "", &mut pages).await;
    let daemonsets =
        list_kind::<DaemonSet>(client, "/apis/apps/v1/daemonsets", "", &mut pages).await;
    // Only the pod pages are kept for the parse-only figures: they are nearly all the bytes.
    let other_bytes: usize = pages.iter().map(Vec::len).sum();
    pages.clear();
    let pods = list_kind::<Pod>(
        client,
        "/api/v1/pods",
        "&labelSelector=pod-template-generation",
        &mut pages,
    )
    .await;
    Listing {
        time: started.elapsed(),
        bytes: other_bytes + pages.iter().map(Vec::len).sum::<usize>(),
        objects: nodes + daemonsets + pods,
        pods,
        pages,
    }
}

async fn list_kind<T: DeserializeOwned>(
    client: &kube::Client,
    path: &str,
    query: &str,
    pages: &mut Vec<Vec<u8>>,
) -> usize {
    let mut count = 0;
    let mut next: Option<String> = None;
    loop {
        let token = next
            .as_deref()
            .map(|t| format!("&continue={t}"))
            .unwrap_or_default();
        let request = http::Request::get(format!("{path}?limit=500{query}{token}"))
            .body(Vec::new())
            .unwrap();
        let body = client.request_text(request).await.expect("list a page");
        let page: Page<T> = serde_json::from_str(&body).expect("a list page");
        count += page.items.len();
        next = page.metadata.next.filter(|t| !t.is_empty());
        pages.push(body.into_bytes());
        if next.is_none() {
            return count;
        }
    }
}

/// Parse-only throughput over the pod pages' bytes, in MB/s: into `serde_json::Value`, and into
/// the slim pod struct above.
pub fn parse_throughput(pages: &[Vec<u8>]) -> (f64, f64) {
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let mb = bytes as f64 / 1e6;
    let started = Instant::now();
    for page in pages {
        let value: serde_json::Value = serde_json::from_slice(page).expect("json");
        drop(value);
    }
    let value = mb / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for page in pages {
        let page: Page<Pod> = serde_json::from_slice(page).expect("json");
        drop(page);
    }
    let slim = mb / started.elapsed().as_secs_f64();
    (value, slim)
}
