//! One list of the live cluster, as `dsguard check` and `dsguard reconcile` take it: Nodes,
//! DaemonSets and daemon pods (the same server-side selector as `dsguard run`), page by page,
//! parsed straight into the slim model. A malformed object is counted and skipped, never fatal.

use kube::api::{Api, ListParams};

use super::item::{DaemonSets, Item, Kind, Nodes, Pods};
use super::{Inventory, LabelSets, Object, POD_TEMPLATE_GENERATION_LABEL, PodWatch};

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
/// Each page is parsed straight into slim objects and its bytes dropped before the next is asked
/// for, so the full objects of a large cluster are never all in memory at once.
pub async fn list_inventory(client: &kube::Client, pods: PodWatch) -> Result<Inventory, ListError> {
    let mut inventory = Inventory::default();
    let Inventory {
        nodes,
        daemonsets,
        pods: pod_infos,
        skipped,
    } = &mut inventory;
    let mut skip = |kind: &str| *skipped.entry(format!("malformed {kind}")).or_default() += 1;
    list_pages::<Nodes>(
        client,
        "nodes",
        ListParams::default(),
        |object| match object {
            Ok(Object::Node(node)) => nodes.push(node),
            _ => skip("Node"),
        },
    )
    .await?;
    list_pages::<DaemonSets>(
        client,
        "daemonsets",
        ListParams::default(),
        |object| match object {
            Ok(Object::DaemonSet(ds)) => daemonsets.push(ds),
            _ => skip("DaemonSet"),
        },
    )
    .await?;
    let selector = match pods {
        PodWatch::Daemon => ListParams::default().labels(POD_TEMPLATE_GENERATION_LABEL),
        PodWatch::All => ListParams::default(),
    };
    let mut labels = LabelSets::default();
    list_pages::<Pods>(client, "pods", selector, |object| match object {
        Ok(Object::Pod(mut pod)) => {
            pod.labels = labels.share(pod.labels);
            pod_infos.push(pod);
        }
        _ => skip("Pod"),
    })
    .await?;
    Ok(inventory)
}

/// Lists every page of a kind, handing each object to `each` as it arrives. The next page is
/// already being fetched and parsed (on another worker of a multi-threaded runtime) while `each`
/// works on the current one.
async fn list_pages<K: Kind>(
    client: &kube::Client,
    kind: &'static str,
    params: ListParams,
    mut each: impl FnMut(Result<Object, &'static str>),
) -> Result<(), ListError> {
    let api = Api::<Item<K>>::all(client.clone());
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
        for item in page.items {
            each(item.object);
        }
    }
    Ok(())
}
