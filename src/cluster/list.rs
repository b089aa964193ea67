//! One list of the live cluster, as `dsguard check` and `dsguard reconcile` take it: Nodes,
//! DaemonSets and daemon pods (the same server-side selector as `dsguard run`), page by page,
//! projected to the slim model. A malformed object is counted and skipped, never fatal.

use std::fmt::Debug;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

use super::{
    DaemonSetInfo, Inventory, NodeInfo, POD_TEMPLATE_GENERATION_LABEL, PodInfo, PodWatch,
    ProjectionError,
};

/// Objects per page: the page size kubectl uses (`--chunk-size`), small enough that no single
/// answer of a 5,000-node cluster's API server is large, big enough that pages are few.
pub const LIST_PAGE: u32 = 500;

/// A list the API refused.
#[derive(Debug, thiserror::Error)]
#[error("cannot list {kind}")]
pub struct ListError {
    /// `nodes`, `daemonsets` or `pods`.
    pub kind: &'static str,
    /// The API's answer.
    #[source]
    pub source: kube::Error,
}

/// Lists the cluster once. Malformed objects are counted in `skipped` under `malformed <Kind>`.
pub async fn list_inventory(client: &kube::Client, pods: PodWatch) -> Result<Inventory, ListError> {
    let mut inventory = Inventory::default();
    let nodes = list_all::<Node>(client, "nodes", ListParams::default()).await?;
    project(
        &mut inventory.nodes,
        &mut inventory.skipped,
        "Node",
        &nodes,
        NodeInfo::from_api,
    );
    let daemonsets = list_all::<DaemonSet>(client, "daemonsets", ListParams::default()).await?;
    project(
        &mut inventory.daemonsets,
        &mut inventory.skipped,
        "DaemonSet",
        &daemonsets,
        DaemonSetInfo::from_api,
    );
    let selector = match pods {
        PodWatch::Daemon => ListParams::default().labels(POD_TEMPLATE_GENERATION_LABEL),
        PodWatch::All => ListParams::default(),
    };
    let pods = list_all::<Pod>(client, "pods", selector).await?;
    project(
        &mut inventory.pods,
        &mut inventory.skipped,
        "Pod",
        &pods,
        PodInfo::from_api,
    );
    Ok(inventory)
}

async fn list_all<K>(
    client: &kube::Client,
    kind: &'static str,
    params: ListParams,
) -> Result<Vec<K>, ListError>
where
    K: kube::Resource<DynamicType = ()> + DeserializeOwned + Clone + Debug,
{
    let api = Api::<K>::all(client.clone());
    let mut params = params.limit(LIST_PAGE);
    let mut items = Vec::new();
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|source| ListError { kind, source })?;
        items.extend(page.items);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok(items),
        }
    }
}

fn project<A, S>(
    into: &mut Vec<S>,
    skipped: &mut std::collections::BTreeMap<String, usize>,
    kind: &str,
    objects: &[A],
    from_api: fn(&A) -> Result<S, ProjectionError>,
) {
    for object in objects {
        match from_api(object) {
            Ok(slim) => into.push(slim),
            Err(_) => *skipped.entry(format!("malformed {kind}")).or_default() += 1,
        }
    }
}
