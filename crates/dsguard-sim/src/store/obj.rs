//! Stored objects: the serialized JSON plus what selectors need, built on every write; and the
//! metadata the server sets on a new object (name from `generateName`, uid, creation time).

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Value, json};

use super::{Key, State, meta_mut};
use crate::clock::rfc3339;
use crate::kinds::Kind;
use crate::status::ApiError;

/// One stored object.
#[derive(Debug)]
pub struct Obj {
    /// Its kind.
    pub kind: Kind,
    /// Namespace and name.
    pub key: Key,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.resourceVersion`.
    pub rv: u64,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Values of the kind-specific fields a field selector may name (e.g. `spec.nodeName`).
    pub fields: Vec<(&'static str, String)>,
    /// The JSON object without `kind` and `apiVersion`.
    pub body: Bytes,
}

impl Obj {
    /// The object as a JSON value, with `kind` and `apiVersion`.
    pub fn value(&self) -> Value {
        let mut value: Value = serde_json::from_slice(&self.body).unwrap_or_else(|_| json!({}));
        let info = self.kind.info();
        value["kind"] = json!(info.kind);
        value["apiVersion"] = json!(info.api_version);
        value
    }

    /// The JSON bytes with `kind` and `apiVersion` spliced in front (as watch events and single
    /// gets carry them).
    pub fn typed_json(&self) -> Vec<u8> {
        let info = self.kind.info();
        let head = format!(
            "{{\"kind\":\"{}\",\"apiVersion\":\"{}\"",
            info.kind, info.api_version
        );
        let mut out = Vec::with_capacity(head.len() + self.body.len() + 1);
        out.extend_from_slice(head.as_bytes());
        if self.body.len() > 2 {
            out.push(b',');
        }
        out.extend_from_slice(&self.body[1..]);
        out
    }

    /// A copy with an empty body, for the `prev` of a change.
    pub fn without_body(&self) -> Obj {
        Obj {
            kind: self.kind,
            key: self.key.clone(),
            uid: self.uid.clone(),
            rv: self.rv,
            labels: self.labels.clone(),
            fields: self.fields.clone(),
            body: Bytes::new(),
        }
    }

    /// The value of a selectable field, `None` when the kind does not support it.
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "metadata.name" => Some(&self.key.1),
            "metadata.namespace" => Some(&self.key.0),
            _ => self
                .fields
                .iter()
                .find(|(field, _)| *field == name)
                .map(|(_, value)| value.as_str()),
        }
    }
}

/// The name of a new object: its own, or its `generateName` plus five random characters.
pub(super) fn new_name(kind: Kind, body: &Value, rng: &mut u64) -> Result<String, ApiError> {
    let meta = &body["metadata"];
    if let Some(name) = meta["name"].as_str().filter(|n| !n.is_empty()) {
        return Ok(name.to_string());
    }
    match meta["generateName"].as_str().filter(|p| !p.is_empty()) {
        Some(prefix) => Ok(format!("{prefix}{}", random_suffix(rng))),
        None => Err(ApiError::Invalid(format!(
            "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
            kind.info().kind
        ))),
    }
}

/// A namespaced object needs a namespace that exists.
pub(super) fn check_namespace(state: &State, kind: Kind, namespace: &str) -> Result<(), ApiError> {
    if !kind.info().namespaced {
        return Ok(());
    }
    if namespace.is_empty() {
        return Err(ApiError::BadRequest(
            "the namespace of the object is empty".into(),
        ));
    }
    if !state.objects[&Kind::Namespace].contains_key(&(String::new(), namespace.to_string())) {
        return Err(ApiError::NotFound {
            plural: "namespaces".into(),
            name: namespace.to_string(),
        });
    }
    Ok(())
}

/// Writes the server-set metadata of a new object.
pub(super) fn stamp_new(
    kind: Kind,
    body: &mut Value,
    key: &Key,
    uid: &str,
    created: jiff::Timestamp,
) {
    let meta = meta_mut(body);
    meta.insert("name".into(), json!(key.1));
    if kind.info().namespaced {
        meta.insert("namespace".into(), json!(key.0));
    } else {
        meta.remove("namespace");
    }
    meta.insert("uid".into(), json!(uid));
    meta.insert("creationTimestamp".into(), json!(rfc3339(created)));
    if kind == Kind::DaemonSet {
        meta.insert("generation".into(), json!(1));
    }
    meta.remove("deletionTimestamp");
}

pub(super) fn build_obj(kind: Kind, key: Key, rv: u64, body: &Value) -> Obj {
    let labels = body["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let fields = selectable_fields(kind)
        .iter()
        .map(|(name, pointer)| {
            let value = match body.pointer(pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                _ => String::new(),
            };
            (*name, value)
        })
        .collect();
    Obj {
        kind,
        uid: body["metadata"]["uid"].as_str().unwrap_or("").to_string(),
        key,
        rv,
        labels,
        fields,
        // Exactly sized: a serializer's growth slack would otherwise stay with every object.
        body: Bytes::from(
            serde_json::to_vec(body)
                .unwrap_or_default()
                .into_boxed_slice(),
        ),
    }
}

/// The fields, beyond `metadata.name` and `metadata.namespace`, a field selector may use on a
/// kind (a subset of the real server's lists), with their JSON pointers.
pub fn selectable_fields(kind: Kind) -> &'static [(&'static str, &'static str)] {
    match kind {
        Kind::Pod => &[
            ("spec.nodeName", "/spec/nodeName"),
            ("status.phase", "/status/phase"),
            ("spec.schedulerName", "/spec/schedulerName"),
        ],
        Kind::Node => &[("spec.unschedulable", "/spec/unschedulable")],
        Kind::Namespace => &[("status.phase", "/status/phase")],
        Kind::Event => &[
            ("involvedObject.kind", "/involvedObject/kind"),
            ("involvedObject.name", "/involvedObject/name"),
            ("involvedObject.namespace", "/involvedObject/namespace"),
            ("reason", "/reason"),
            ("type", "/type"),
        ],
        Kind::DaemonSet | Kind::ControllerRevision | Kind::Lease | Kind::ConfigMap => &[],
    }
}

fn next_random(state: &mut u64) -> u64 {
    // SplitMix64: deterministic, so a scenario always produces the same names.
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The five characters the real apiserver appends to a `generateName` (its alphabet has no
/// vowels and no easily confused characters).
fn random_suffix(state: &mut u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut bits = next_random(state);
    (0..5)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char;
            bits /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

pub(super) fn random_uid(state: &mut u64) -> String {
    let a = next_random(state);
    let b = next_random(state);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}
