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
/// Each page is projected and dropped before the next is asked for, so the full objects of a
/// large cluster are never all in memory at once.
pub async fn list_inventory(client: &kube::Client, pods: PodWatch) -> Result<Inventory, ListError> {
    let mut inventory = Inventory::default();
    let Inventory {
        nodes,
        daemonsets,
        pods: pod_infos,
        skipped,
    } = &mut inventory;
    list_pages::<Node>(client, "nodes", ListParams::default(), |page| {
        project(nodes, skipped, "Node", &page, NodeInfo::from_api);
    })
    .await?;
    list_pages::<DaemonSet>(client, "daemonsets", ListParams::default(), |page| {
        project(
            daemonsets,
            skipped,
            "DaemonSet",
            &page,
            DaemonSetInfo::from_api,
        );
    })
    .await?;
    let selector = match pods {
        PodWatch::Daemon => ListParams::default().labels(POD_TEMPLATE_GENERATION_LABEL),
        PodWatch::All => ListParams::default(),
    };
    list_pages::<Pod>(client, "pods", selector, |page| {
        project(pod_infos, skipped, "Pod", &page, PodInfo::from_api);
    })
    .await?;
    Ok(inventory)
}

/// Lists every page of a kind, handing each to `each` as it arrives. The next page is already
/// being fetched and parsed (on another worker of a multi-threaded runtime) while `each` works
/// on the current one.
async fn list_pages<K>(
    client: &kube::Client,
    kind: &'static str,
    params: ListParams,
    mut each: impl FnMut(Vec<K>),
) -> Result<(), ListError>
where
    K: kube::Resource<DynamicType = ()> + DeserializeOwned + Clone + Debug + Send + 'static,
{
    let api = Api::<K>::all(client.clone());
    let fetch = |params: ListParams| {
        let api = api.clone();
        tokio::spawn(async move { api.list(&params).await })
    };
    let params = params.limit(LIST_PAGE);
    let mut next = Some(fetch(params.clone()));
    while let Some(fetching) = next.take() {
        let page = fetching
            .await
            .map_err(|e| ListError {
                kind,
                source: kube::Error::Service(Box::new(e)),
            })?
            .map_err(|source| ListError { kind, source })?;
        if let Some(token) = page.metadata.continue_.as_deref().filter(|t| !t.is_empty()) {
            next = Some(fetch(params.clone().continue_token(token)));
        }
        each(page.items);
    }
    Ok(())
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
