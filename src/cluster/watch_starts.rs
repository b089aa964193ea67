//! Seeing a watch start. kube-runtime's watcher re-opens a dropped or failed watch without a
//! word to its caller: an accepted watch on which nothing changes yields no event, and the
//! bookmarks the server sends are swallowed. A quiet watch that failed once would then look
//! failing forever. So each watcher gets a client of its own, wrapping the shared one, that
//! reports every watch request the API server accepts (2xx) as a [`WatchEvent::WatchStarted`].
//!
//! The report goes on the same channel as the watcher's events and is sent before the watcher
//! sees the response, so it always follows the failure it heals.

use kube::client::Body;
use tokio::sync::mpsc;

use super::{Resource, WatchEvent};

/// A client that sends `WatchStarted(resource)` on `tx` whenever a watch request it makes is
/// accepted by the API server; every request still goes through `client`.
pub(super) fn reporting_watch_starts(
    client: kube::Client,
    resource: Resource,
    tx: mpsc::Sender<WatchEvent>,
) -> kube::Client {
    let default_namespace = client.default_namespace().to_owned();
    let service = tower::service_fn(move |request: http::Request<Body>| {
        let client = client.clone();
        let tx = tx.clone();
        async move {
            let watch = is_watch(request.uri());
            let response = client.send(request).await?;
            if watch && response.status().is_success() {
                // A closed channel means the model task is gone; the watcher notices it too.
                let _ = tx.send(WatchEvent::WatchStarted(resource)).await;
            }
            Ok::<_, kube::Error>(response)
        }
    });
    kube::Client::new(service, default_namespace)
}

/// Whether a request is a watch (`?watch=true`, or `1` as some clients write it).
fn is_watch(uri: &http::Uri) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"))
}

#[cfg(test)]
mod tests;
