//! Writes: create (`POST`), update (`PUT`, 409 on a stale `resourceVersion`), merge patch
//! (`PATCH`) and delete (`DELETE`, graceful for bound pods).
//!
//! A graceful pod delete only sets `deletionTimestamp` (now + grace) and
//! `deletionGracePeriodSeconds`; the emulated kubelet removes the pod once the grace has passed
//! and its node is up, so a pod on a dead node stays `Terminating`, as in a real cluster.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{AppState, Target};
use crate::clock::rfc3339;
use crate::kinds::Kind;
use crate::status::{ApiError, bytes_response};

/// Largest request body accepted; objects are small, and the real server's limit is 3 MiB.
const MAX_BODY: usize = 3 * 1024 * 1024;

async fn read_json(request: Request) -> Result<Value, ApiError> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|e| ApiError::BadRequest(format!("unable to read the request body: {e}")))?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

fn key_of(target: &Target) -> (String, String) {
    (
        target.namespace.clone().unwrap_or_default(),
        target.name.clone().unwrap_or_default(),
    )
}

fn check_namespace(target: &Target, body: &Value) -> Result<(), ApiError> {
    if let (Some(url_ns), Some(body_ns)) =
        (&target.namespace, body["metadata"]["namespace"].as_str())
        && !body_ns.is_empty()
        && body_ns != url_ns
    {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        ));
    }
    Ok(())
}

/// `POST` to a collection.
pub async fn create(
    state: &AppState,
    target: &Target,
    request: Request,
) -> Result<Response, ApiError> {
    if target.kind.info().namespaced && target.namespace.is_none() {
        return Err(ApiError::MethodNotAllowed);
    }
    let body = read_json(request).await?;
    check_shape(target.kind, &body)?;
    check_namespace(target, &body)?;
    let namespace = target.namespace.clone().unwrap_or_default();
    let obj = state.store.create(target.kind, &namespace, body)?;
    tracing::debug!(kind = target.kind.info().plural, name = %obj.key.1, "created");
    Ok(bytes_response(StatusCode::CREATED, obj.typed_json()))
}

/// Replaces `old` by `new` the way the given subresource allows: the main resource keeps the
/// stored status, `/status` keeps everything but the status.
fn merge_for_subresource(kind: Kind, subresource: Option<&str>, old: &Value, new: Value) -> Value {
    match subresource {
        Some("status") => {
            let mut merged = old.clone();
            merged["status"] = new.get("status").cloned().unwrap_or(Value::Null);
            merged
        }
        _ if kind.info().has_status && kind != Kind::Namespace => {
            let mut merged = new;
            if let Some(status) = old.get("status") {
                merged["status"] = status.clone();
            }
            merged
        }
        _ => new,
    }
}

fn check_rv(target: &Target, current: &Value, claimed: &Value) -> Result<(), ApiError> {
    let claimed = claimed.as_str().unwrap_or("");
    if !claimed.is_empty() && Some(claimed) != current["metadata"]["resourceVersion"].as_str() {
        return Err(ApiError::Conflict {
            plural: target.kind.info().plural.into(),
            group: target.kind.info().group.into(),
            name: target.name.clone().unwrap_or_default(),
        });
    }
    Ok(())
}

/// `PUT` of an object (or its `/status`).
pub async fn update(
    state: &AppState,
    target: &Target,
    request: Request,
) -> Result<Response, ApiError> {
    let body = read_json(request).await?;
    check_shape(target.kind, &body)?;
    check_namespace(target, &body)?;
    let name = target.name.clone().unwrap_or_default();
    if body["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(ApiError::BadRequest(
            "the name of the object does not match the name on the URL".into(),
        ));
    }
    let obj = state
        .store
        .modify(target.kind, &key_of(target), |current| {
            check_rv(target, current, &body["metadata"]["resourceVersion"])?;
            *current =
                merge_for_subresource(target.kind, target.subresource.as_deref(), current, body);
            Ok(())
        })?;
    Ok(bytes_response(StatusCode::OK, obj.typed_json()))
}

/// Refuses objects whose structure the emulated controllers could not edit: the object,
/// `metadata`, `spec` and `status` must be JSON objects, labels and annotations maps of strings.
fn check_shape(kind: Kind, body: &Value) -> Result<(), ApiError> {
    let invalid = |field: &str, what: &str| {
        Err(ApiError::Invalid(format!(
            "{} is invalid: {field}: Invalid value: {what}",
            kind.info().kind
        )))
    };
    if !body.is_object() {
        return invalid("", "the object must be a JSON object");
    }
    for field in ["metadata", "spec", "status"] {
        if !(body[field].is_null() || body[field].is_object()) {
            return invalid(field, "must be an object");
        }
    }
    for field in ["labels", "annotations"] {
        let map = &body["metadata"][field];
        let strings = map
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string));
        if !(map.is_null() || strings) {
            return invalid(&format!("metadata.{field}"), "must be a map of strings");
        }
    }
    Ok(())
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// `PATCH` of an object: JSON merge patch, and strategic merge patch approximated by it (lists
/// are replaced whole rather than merged by key).
pub async fn patch(
    state: &AppState,
    target: &Target,
    request: Request,
) -> Result<Response, ApiError> {
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !content_type.starts_with("application/merge-patch+json")
        && !content_type.starts_with("application/strategic-merge-patch+json")
    {
        return Err(ApiError::UnsupportedMediaType(
            "application/merge-patch+json, application/strategic-merge-patch+json".into(),
        ));
    }
    let body = read_json(request).await?;
    if !body.is_object() {
        return Err(ApiError::BadRequest(
            "the patch is not a JSON object".into(),
        ));
    }
    let obj = state
        .store
        .modify(target.kind, &key_of(target), |current| {
            check_rv(target, current, &body["metadata"]["resourceVersion"])?;
            let mut patched = current.clone();
            merge_patch(&mut patched, &body);
            check_shape(target.kind, &patched)?;
            *current = match target.subresource.as_deref() {
                Some("status") => {
                    merge_for_subresource(target.kind, Some("status"), current, patched)
                }
                _ => patched,
            };
            Ok(())
        })?;
    Ok(bytes_response(StatusCode::OK, obj.typed_json()))
}

/// `DELETE` of an object. Bound pods are deleted gracefully; everything else at once.
pub async fn delete(
    state: &AppState,
    target: &Target,
    params: &HashMap<String, String>,
    request: Request,
) -> Result<Response, ApiError> {
    let options = read_json(request).await?;
    let grace = match params.get("gracePeriodSeconds") {
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!("gracePeriodSeconds: Invalid value: \"{text}\""))
        })?),
        None => options["gracePeriodSeconds"].as_i64(),
    };
    let key = key_of(target);
    let current = state
        .store
        .get(target.kind, &key)
        .ok_or_else(|| ApiError::NotFound {
            plural: target.kind.info().plural.into(),
            name: key.1.clone(),
        })?;
    let preconditions = &options["preconditions"];
    if preconditions["uid"]
        .as_str()
        .is_some_and(|uid| uid != current.uid)
    {
        return Err(ApiError::Conflict {
            plural: target.kind.info().plural.into(),
            group: target.kind.info().group.into(),
            name: key.1,
        });
    }
    check_rv(target, &current.value(), &preconditions["resourceVersion"])?;
    let obj = delete_one(state, target.kind, &key, grace)?;
    Ok(bytes_response(StatusCode::OK, obj.typed_json()))
}

/// Deletes one object: a bound pod gracefully (its grace period, unless `grace` says
/// otherwise), anything else at once. Returns the object as it is after the call.
fn delete_one(
    state: &AppState,
    kind: Kind,
    key: &(String, String),
    grace: Option<i64>,
) -> Result<std::sync::Arc<crate::store::Obj>, ApiError> {
    let current = state
        .store
        .get(kind, key)
        .ok_or_else(|| ApiError::NotFound {
            plural: kind.info().plural.into(),
            name: key.1.clone(),
        })?;
    let value = current.value();
    let bound = value["spec"]["nodeName"]
        .as_str()
        .is_some_and(|n| !n.is_empty());
    let grace = grace
        .or_else(|| value["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30);
    if kind == Kind::Pod && bound && grace > 0 {
        let obj = state.store.modify(kind, key, |pod| {
            mark_deleted(pod, grace, state.store.clock().now());
            Ok(())
        })?;
        tracing::debug!(pod = %obj.key.1, grace, "pod marked for graceful deletion");
        return Ok(obj);
    }
    state.store.remove(kind, key)
}

/// `DELETE` of a collection (`deletecollection`): every object passing the selectors, each as
/// a single delete would; answered with the list of what was deleted.
pub async fn delete_collection(
    state: &AppState,
    target: &Target,
    params: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    if target.kind == Kind::Namespace {
        return Err(ApiError::MethodNotAllowed);
    }
    let grace = match params.get("gracePeriodSeconds") {
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!("gracePeriodSeconds: Invalid value: \"{text}\""))
        })?),
        None => None,
    };
    let filter = super::list::Filter::from_request(target.kind, target, params)?;
    let (_, objects) = state.store.list(target.kind, target.namespace.as_deref());
    let mut items = Vec::new();
    for obj in objects.iter().filter(|obj| filter.matches(obj)) {
        // An object deleted meanwhile by someone else is simply not in the answer.
        if let Ok(deleted) = delete_one(state, target.kind, &obj.key, grace) {
            let mut value = deleted.value();
            if let Some(map) = value.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            items.push(value);
        }
    }
    let info = target.kind.info();
    let list = json!({
        "kind": target.kind.list_kind(),
        "apiVersion": info.api_version,
        "metadata": {"resourceVersion": state.store.current_rv().to_string()},
        "items": items,
    });
    Ok(crate::status::json_response(StatusCode::OK, &list))
}

/// Sets `deletionTimestamp` = now + grace unless an earlier one is already set.
pub fn mark_deleted(pod: &mut Value, grace: i64, now: jiff::Timestamp) {
    let meta = &mut pod["metadata"];
    let wanted = now
        .checked_add(jiff::SignedDuration::from_secs(grace))
        .unwrap_or(now);
    let existing = meta["deletionTimestamp"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    if existing.is_some_and(|t| t <= wanted) {
        return;
    }
    meta["deletionTimestamp"] = json!(rfc3339(wanted));
    meta["deletionGracePeriodSeconds"] = json!(grace);
}

#[cfg(test)]
mod tests;
