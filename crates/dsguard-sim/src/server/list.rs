//! `GET` of collections and single objects: resourceVersion semantics, `limit` + `continue`
//! pagination, label and field selectors, and server-side printing as a `Table`.
//!
//! Lists are written by concatenating the stored JSON of the items, the way the real server
//! serializes them (items without `kind`/`apiVersion`, `metadata.resourceVersion` on the list,
//! `continue` and `remainingItemCount` when a page is cut; see
//! `shared/fixtures/real-k8s/api/list-pods-limit3.json`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{AppState, Target, table};
use crate::kinds::Kind;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::{ApiError, bytes_response, json_response};
use crate::store::{Obj, selectable_fields, too_old};

/// The selectors of a list or watch request.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Namespace from the URL.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
}

impl Filter {
    /// Parses the selectors of a request; unknown fields are a 400 as on the real server.
    pub fn from_request(
        kind: Kind,
        target: &Target,
        params: &HashMap<String, String>,
    ) -> Result<Filter, ApiError> {
        let labels = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))
            .map_err(|e| ApiError::BadRequest(e.0))?;
        let fields = FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))
            .map_err(|e| ApiError::BadRequest(e.0))?;
        for term in &fields.0 {
            let known = matches!(term.field.as_str(), "metadata.name" | "metadata.namespace")
                || selectable_fields(kind)
                    .iter()
                    .any(|(name, _)| *name == term.field);
            if !known {
                return Err(ApiError::BadRequest(format!(
                    "field label not supported: {}",
                    term.field
                )));
            }
        }
        Ok(Filter {
            namespace: target.namespace.clone(),
            labels,
            fields,
        })
    }

    /// Whether an object passes the namespace and both selectors.
    pub fn matches(&self, obj: &Obj) -> bool {
        self.namespace.as_ref().is_none_or(|ns| *ns == obj.key.0)
            && self.labels.matches(&obj.labels)
            && self.fields.matches(|name| obj.field(name))
    }

    fn has_selectors(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }
}

/// The etcd-style key a continue token points after: `namespace/name` or `name`.
fn key_string(obj: &Obj) -> String {
    if obj.kind.info().namespaced {
        format!("{}/{}", obj.key.0, obj.key.1)
    } else {
        obj.key.1.clone()
    }
}

/// The key a continue token's start names (`namespace/name` or `name`, then a NUL). Lists run
/// in (namespace, name) order; the token is the real server's format.
fn key_of_start(kind: Kind, start: &str) -> (String, String) {
    let start = start.trim_end_matches('\u{0}');
    match start.split_once('/') {
        Some((ns, name)) if kind.info().namespaced => (ns.to_string(), name.to_string()),
        _ => (String::new(), start.to_string()),
    }
}

/// Builds a continue token as the real server does: base64url of
/// `{"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}`.
pub fn encode_continue(rv: u64, last_key: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{last_key}\u{0}")});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// Reads a continue token back into its version and start key.
pub fn decode_continue(token: &str) -> Result<(u64, String), ApiError> {
    let invalid = |why: String| {
        ApiError::BadRequest(format!(
            "invalid continue token: continue key is not valid: {why}"
        ))
    };
    let raw = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(token))
        .map_err(|e| invalid(e.to_string()))?;
    let value: Value = serde_json::from_slice(&raw).map_err(|e| invalid(e.to_string()))?;
    if value["v"] != "meta.k8s.io/v1" {
        return Err(invalid(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into(),
        ));
    }
    let rv = value["rv"]
        .as_u64()
        .ok_or_else(|| invalid("missing resource version".into()))?;
    let start = value["start"].as_str().unwrap_or("").to_string();
    Ok((rv, start))
}

fn parse_limit(params: &HashMap<String, String>) -> Result<Option<usize>, ApiError> {
    match params.get("limit").map(String::as_str) {
        None | Some("") | Some("0") => Ok(None),
        Some(text) => text.parse::<usize>().map(Some).map_err(|_| {
            ApiError::BadRequest(format!(
                "limit: Invalid value: \"{text}\": must be a number"
            ))
        }),
    }
}

/// Checks `resourceVersion` / `resourceVersionMatch` of a list; only the current state is kept,
/// so an exact match on any other version is 410, like a compacted etcd.
fn check_list_version(params: &HashMap<String, String>, current: u64) -> Result<(), ApiError> {
    let rv = params
        .get("resourceVersion")
        .map(String::as_str)
        .unwrap_or("");
    let exact = params
        .get("resourceVersionMatch")
        .is_some_and(|m| m == "Exact");
    if rv.is_empty() || rv == "0" {
        return Ok(());
    }
    let wanted: u64 = rv.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "resourceVersion: Invalid value: \"{rv}\": must be a number"
        ))
    })?;
    if exact && wanted != current {
        return Err(too_old(wanted, current));
    }
    Ok(())
}

/// `GET` of a collection.
pub fn list(
    state: &AppState,
    target: &Target,
    params: &HashMap<String, String>,
    as_table: bool,
) -> Result<Response, ApiError> {
    let kind = target.kind;
    let filter = Filter::from_request(kind, target, params)?;
    let limit = parse_limit(params)?;
    let (token_rv, after) = match params.get("continue").filter(|t| !t.is_empty()) {
        Some(token) => {
            let (rv, start) = decode_continue(token)?;
            if rv < state.store.compacted_rv() {
                return Err(ApiError::Expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.".into()));
            }
            (Some(rv), Some(key_of_start(kind, &start)))
        }
        None => (None, None),
    };
    let page = state.store.page(
        kind,
        target.namespace.as_deref(),
        after.as_ref(),
        limit.unwrap_or(usize::MAX),
        |obj| filter.matches(obj),
        !filter.has_selectors(),
    );
    if token_rv.is_none() {
        check_list_version(params, page.rv)?;
    }
    let list_rv = token_rv.unwrap_or(page.rv);
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if page.remaining > 0
        && let Some(last) = page.items.last()
    {
        metadata["continue"] = json!(encode_continue(list_rv, &key_string(last)));
        if !filter.has_selectors() {
            metadata["remainingItemCount"] = json!(page.remaining);
        }
    }
    let items = page.items;
    if as_table {
        let body = table::table(
            kind,
            items.iter().map(Arc::as_ref),
            metadata,
            state.store.clock(),
        );
        return Ok(json_response(StatusCode::OK, &body));
    }
    Ok(list_response(kind, &metadata, items))
}

/// Bytes per chunk of a streamed list: big enough to keep the chunk overhead negligible, small
/// enough that a 150 MB list of 60,000 pods is never assembled in memory at once.
const LIST_CHUNK: usize = 256 * 1024;

/// Streams a list: the items' stored JSON, concatenated chunk by chunk.
fn list_response(kind: Kind, metadata: &Value, items: Vec<Arc<Obj>>) -> Response {
    let info = kind.info();
    let mut head = Some(
        format!(
            "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            kind.list_kind(),
            info.api_version,
            metadata
        )
        .into_bytes(),
    );
    let mut next = 0;
    let chunks = std::iter::from_fn(move || {
        if next > items.len() {
            return None;
        }
        let mut chunk = head.take().unwrap_or_default();
        while next < items.len() && chunk.len() < LIST_CHUNK {
            if next > 0 {
                chunk.push(b',');
            }
            chunk.extend_from_slice(&items[next].body);
            next += 1;
        }
        if next == items.len() {
            chunk.extend_from_slice(b"]}");
            next += 1;
        }
        Some(Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)))
    });
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}

/// `GET` of one object.
pub fn get(
    state: &AppState,
    target: &Target,
    name: &str,
    as_table: bool,
) -> Result<Response, ApiError> {
    let key = (
        target.namespace.clone().unwrap_or_default(),
        name.to_string(),
    );
    let obj = state
        .store
        .get(target.kind, &key)
        .ok_or_else(|| ApiError::NotFound {
            plural: target.kind.info().plural.into(),
            name: name.into(),
        })?;
    if as_table {
        let metadata = json!({"resourceVersion": obj.rv.to_string()});
        let body = table::table(target.kind, [obj.as_ref()], metadata, state.store.clock());
        return Ok(json_response(StatusCode::OK, &body));
    }
    Ok(bytes_response(StatusCode::OK, obj.typed_json()))
}

#[cfg(test)]
mod tests;
