//! Watch streams (`?watch=true`): one JSON event per line over a chunked HTTP 200 response, as
//! in `shared/fixtures/real-k8s/api/watch-nodes-bookmarks.jsonl`.
//!
//! A watch without a resource version (or with `0`) first gets a synthetic `ADDED` for every
//! object; one with a version replays the store's history after it, then live changes. A version
//! older than the retained history gets HTTP 200 and a single `ERROR` event carrying a `Status`
//! with code 410, reason `Expired` (`watch-rv-too-old.txt`). With `allowWatchBookmarks`,
//! `BOOKMARK` events carrying only `metadata.resourceVersion` arrive periodically. Objects that
//! stop (start) matching the selectors are sent as `DELETED` (`ADDED`), like the real server.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use super::list::Filter;
use super::{AppState, Target, table};
use crate::clock::SimClock;
use crate::kinds::Kind;
use crate::status::ApiError;
use crate::store::{Change, EventType, Obj, WatchStart};

/// Serves a watch request.
pub async fn watch(
    state: &AppState,
    target: &Target,
    params: &HashMap<String, String>,
    as_table: bool,
) -> Response {
    match start(state, target, params, as_table) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn is_true(params: &HashMap<String, String>, name: &str) -> bool {
    params.get(name).is_some_and(|v| v == "true" || v == "1")
}

fn start(
    state: &AppState,
    target: &Target,
    params: &HashMap<String, String>,
    as_table: bool,
) -> Result<Response, ApiError> {
    let kind = target.kind;
    let filter = Filter::from_request(kind, target, params)?;
    state
        .faults
        .counts
        .watches
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let timeout = watch_timeout(state, params)?;
    let bookmarks = is_true(params, "allowWatchBookmarks");
    let rv = params
        .get("resourceVersion")
        .map(String::as_str)
        .unwrap_or("");
    let mut watch = WatchLoop {
        pending: VecDeque::new(),
        kind,
        filter,
        as_table,
        clock: state.store.clock().clone(),
        last_rv: 0,
        deadline: Instant::now() + timeout,
        bookmark_every: bookmarks.then_some(state.settings.bookmark_interval),
        next_bookmark: Instant::now() + state.settings.bookmark_interval,
        live: None,
        shutdown: state.shutdown.subscribe(),
    };
    if state.faults.take_forced_expiry() {
        let current = state.store.current_rv();
        return Ok(expired(current.saturating_sub(1), current));
    }
    let started = if rv.is_empty() || rv == "0" {
        let initial_end = is_true(params, "sendInitialEvents") && bookmarks;
        watch.start_with_every_object(state, target, initial_end)?
    } else {
        let from: u64 = rv.parse().map_err(|_| {
            ApiError::BadRequest(format!("resourceVersion: Invalid value: \"{rv}\""))
        })?;
        match state.store.watch(kind, from) {
            Ok(started) => {
                watch.last_rv = from;
                started
            }
            Err(ApiError::Expired(_)) => return Ok(expired(from, state.store.current_rv())),
            Err(other) => return Err(other),
        }
    };
    for change in &started.backlog {
        watch.take(change);
    }
    watch.live = Some(started.live);
    tracing::debug!(kind = kind.info().plural, rv, ?timeout, "watch started");
    let stream = futures::stream::unfold(watch, |mut watch| async move {
        let line = watch.next_line().await?;
        Some((Ok::<Bytes, std::io::Error>(Bytes::from(line)), watch))
    });
    Ok((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// `timeoutSeconds`, or the default, cut short by a watch-dropping fault.
fn watch_timeout(state: &AppState, params: &HashMap<String, String>) -> Result<Duration, ApiError> {
    let timeout = match params.get("timeoutSeconds").filter(|t| !t.is_empty()) {
        Some(text) => Duration::from_secs(text.parse().map_err(|_| {
            ApiError::BadRequest(format!("timeoutSeconds: Invalid value: \"{text}\""))
        })?),
        None => state.settings.default_watch_timeout,
    };
    Ok(state
        .faults
        .watch_lifetime()
        .map_or(timeout, |cut| cut.min(timeout)))
}

/// The real server's answer to a watch from a compacted version: 200, one ERROR event.
fn expired(requested: u64, current: u64) -> Response {
    let status = crate::store::too_old(requested, current).to_status();
    let mut line =
        serde_json::to_vec(&json!({"type": "ERROR", "object": status})).unwrap_or_default();
    line.push(b'\n');
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        line,
    )
        .into_response()
}

/// What a watch has yet to send; events are encoded when sent, so an initial burst of 60,000
/// objects costs 60,000 pointers, not their JSON.
enum Queued {
    /// A line ready to send.
    Line(Vec<u8>),
    /// An event of this type about this object.
    Event(&'static str, Arc<Obj>),
}

struct WatchLoop {
    pending: VecDeque<Queued>,
    kind: Kind,
    filter: Filter,
    as_table: bool,
    clock: SimClock,
    last_rv: u64,
    deadline: Instant,
    bookmark_every: Option<Duration>,
    next_bookmark: Instant,
    live: Option<broadcast::Receiver<Arc<Change>>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

impl WatchLoop {
    /// A watch without a version: a synthetic ADDED for every object, then what follows; with
    /// `sendInitialEvents`, a bookmark marks the end of the initial events.
    fn start_with_every_object(
        &mut self,
        state: &AppState,
        target: &Target,
        initial_end: bool,
    ) -> Result<WatchStart, ApiError> {
        let (list_rv, objects) = state.store.list(self.kind, target.namespace.as_deref());
        let started = state.store.watch(self.kind, list_rv)?;
        for obj in objects.into_iter().filter(|obj| self.filter.matches(obj)) {
            self.pending.push_back(Queued::Event("ADDED", obj));
        }
        self.last_rv = list_rv;
        if initial_end {
            let line = self.bookmark_line(true);
            self.pending.push_back(Queued::Line(line));
        }
        Ok(started)
    }

    async fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.pending.pop_front() {
                Some(Queued::Line(line)) => return Some(line),
                Some(Queued::Event(event_type, obj)) => {
                    return Some(self.event_line(event_type, &obj));
                }
                None => {}
            }
            if *self.shutdown.borrow() {
                return None;
            }
            let live = self.live.as_mut()?;
            tokio::select! {
                received = live.recv() => match received {
                    Ok(change) => self.take(&change),
                    // A watcher that fell too far behind is closed; the client resumes.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep_until(self.deadline) => return None,
                _ = tokio::time::sleep_until(self.next_bookmark), if self.bookmark_every.is_some() => {
                    self.next_bookmark += self.bookmark_every.unwrap_or(Duration::from_secs(60));
                    let line = self.bookmark_line(false);
                    self.pending.push_back(Queued::Line(line));
                }
                _ = self.shutdown.changed() => return None,
            }
        }
    }

    /// Queues the event a change means for this watch, if any.
    fn take(&mut self, change: &Change) {
        self.last_rv = self.last_rv.max(change.obj.rv);
        if change.obj.kind != self.kind {
            return;
        }
        let now = self.filter.matches(&change.obj);
        let before = change
            .prev
            .as_ref()
            .map(|prev| self.filter.matches(prev))
            .unwrap_or(now);
        let event_type = match (change.event_type, before, now) {
            (EventType::Added, _, true) => "ADDED",
            (EventType::Modified, true, true) => "MODIFIED",
            (EventType::Modified, false, true) => "ADDED",
            (EventType::Modified, true, false) => "DELETED",
            (EventType::Deleted, true, _) => "DELETED",
            _ => return,
        };
        self.pending
            .push_back(Queued::Event(event_type, change.obj.clone()));
    }

    fn event_line(&self, event_type: &str, obj: &Obj) -> Vec<u8> {
        let mut line = format!("{{\"type\":\"{event_type}\",\"object\":").into_bytes();
        if self.as_table {
            let metadata = json!({"resourceVersion": obj.rv.to_string()});
            let table = table::table(self.kind, [obj], metadata, &self.clock);
            line.extend_from_slice(&serde_json::to_vec(&table).unwrap_or_default());
        } else {
            line.extend_from_slice(&obj.typed_json());
        }
        line.extend_from_slice(b"}\n");
        line
    }

    fn bookmark_line(&self, initial_events_end: bool) -> Vec<u8> {
        let info = self.kind.info();
        let mut metadata =
            json!({"resourceVersion": self.last_rv.to_string(), "creationTimestamp": Value::Null});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let event = json!({
            "type": "BOOKMARK",
            "object": {"kind": info.kind, "apiVersion": info.api_version, "metadata": metadata},
        });
        let mut line = serde_json::to_vec(&event).unwrap_or_default();
        line.push(b'\n');
        line
    }
}
