//! The object store of the simulated API server: objects by kind, one resource-version counter,
//! and a bounded history of changes that watches replay from.
//!
//! Objects are kept as serialized JSON (without `kind` and `apiVersion`, as list items are
//! written) plus the few fields that selectors need, so a 100,000-pod cluster costs about the size
//! of its JSON and a list is a concatenation of byte strings. Every write takes the lock, bumps
//! the resource version, appends to the history and publishes the change on a broadcast channel
//! while still holding the lock, so watchers see changes in resource-version order without gaps.
//! The history keeps the last `history_limit` changes; a watch from an older version gets
//! "too old resource version" (410), as from a compacted etcd.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::clock::{SimClock, rfc3339};
use super::kinds::{ALL, Kind};
use super::status::ApiError;

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds. Ordered like etcd keys.
pub type Key = (String, String);

/// How many changes a watcher may fall behind before its watch is closed (it then resumes from
/// its last resource version, as a client of a real server does when the server drops it).
const BROADCAST_CAPACITY: usize = 16_384;

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

/// The type of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The watch event `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as the history and the broadcast channel carry it.
#[derive(Debug)]
pub struct Change {
    /// What happened.
    pub event_type: EventType,
    /// The object after the change (for a deletion: the last state, with the deletion's version).
    pub obj: Arc<Obj>,
    /// The object before the change, if any, without its body: watches with selectors need
    /// only its labels and fields, and the history would otherwise hold two versions per entry.
    pub prev: Option<Arc<Obj>>,
}

/// A page of a list.
#[derive(Debug)]
pub struct Page {
    /// The store's resource version when it was read.
    pub rv: u64,
    /// The objects of the page.
    pub items: Vec<Arc<Obj>>,
    /// How many more objects match after the page.
    pub remaining: usize,
}

/// Where a watch starts: the changes to replay, then the live channel.
#[derive(Debug)]
pub struct WatchStart {
    /// Changes of the kind newer than the requested version, oldest first.
    pub backlog: Vec<Arc<Change>>,
    /// Live changes of every kind (filter by kind on receipt).
    pub live: broadcast::Receiver<Arc<Change>>,
    /// The store's resource version when the watch started.
    pub rv: u64,
}

struct State {
    rv: u64,
    objects: HashMap<Kind, BTreeMap<Key, Arc<Obj>>>,
    history: VecDeque<Arc<Change>>,
    /// Every change with a version up to this one has left the history.
    compacted: u64,
    rng: u64,
}

/// The object store. Cheap to share behind an `Arc`.
pub struct Store {
    state: Mutex<State>,
    tx: broadcast::Sender<Arc<Change>>,
    clock: SimClock,
    history_limit: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("history_limit", &self.history_limit)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// An empty store whose history keeps the last `history_limit` changes.
    pub fn new(clock: SimClock, history_limit: usize) -> Store {
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        let objects = ALL
            .into_iter()
            .map(|kind| (kind, BTreeMap::new()))
            .collect();
        Store {
            state: Mutex::new(State {
                rv: 1,
                objects,
                history: VecDeque::new(),
                compacted: 1,
                rng: 0x9e37_79b9_7f4a_7c15,
            }),
            tx,
            clock,
            history_limit: history_limit.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The clock that stamps timestamps.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The current resource version.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// The oldest version a watch may start from.
    pub fn compacted_rv(&self) -> u64 {
        self.lock().compacted
    }

    /// Forgets the whole history, as an etcd compaction would (used by the 410 fault).
    pub fn compact(&self) {
        let mut state = self.lock();
        state.history.clear();
        state.compacted = state.rv;
    }

    /// One object.
    pub fn get(&self, kind: Kind, key: &Key) -> Option<Arc<Obj>> {
        self.lock()
            .objects
            .get(&kind)
            .and_then(|map| map.get(key).cloned())
    }

    /// All objects of a kind (in one namespace if given), in key order, with the version they
    /// were read at.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> (u64, Vec<Arc<Obj>>) {
        let state = self.lock();
        let map = &state.objects[&kind];
        let items = match namespace {
            Some(ns) => map
                .range((ns.to_string(), String::new())..)
                .take_while(|(key, _)| key.0 == ns)
                .map(|(_, obj)| obj.clone())
                .collect(),
            None => map.values().cloned().collect(),
        };
        (state.rv, items)
    }

    /// One page of a list, read under the lock without copying the rest: up to `limit` objects
    /// after `after` (exclusive) that pass `keep`, in key order, and how many more pass it
    /// (counted only when `count_rest`; otherwise 1 means "at least one").
    pub fn page(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        after: Option<&Key>,
        limit: usize,
        keep: impl Fn(&Obj) -> bool,
        count_rest: bool,
    ) -> Page {
        use std::ops::Bound;
        let state = self.lock();
        let start = match (after, namespace) {
            (Some(key), _) => Bound::Excluded(key.clone()),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let mut matching = state.objects[&kind]
            .range((start, Bound::Unbounded))
            .take_while(|(key, _)| namespace.is_none_or(|ns| key.0 == ns))
            .map(|(_, obj)| obj)
            .filter(|obj| keep(obj));
        let items: Vec<Arc<Obj>> = matching.by_ref().take(limit).cloned().collect();
        let remaining = if count_rest {
            matching.count()
        } else {
            usize::from(matching.next().is_some())
        };
        Page {
            rv: state.rv,
            items,
            remaining,
        }
    }

    /// How many objects of a kind there are.
    pub fn count(&self, kind: Kind) -> usize {
        self.lock().objects[&kind].len()
    }

    /// Starts a watch of `kind` from version `from` (exclusive). Fails with 410 if that version
    /// has been compacted away.
    pub fn watch(&self, kind: Kind, from: u64) -> Result<WatchStart, ApiError> {
        let state = self.lock();
        if from < state.compacted {
            return Err(too_old(from, state.rv));
        }
        let backlog = state
            .history
            .iter()
            .filter(|change| change.obj.kind == kind && change.obj.rv > from)
            .cloned()
            .collect();
        Ok(WatchStart {
            backlog,
            live: self.tx.subscribe(),
            rv: state.rv,
        })
    }

    /// A receiver of every future change (the engine keeps its view of the cluster with it).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        let _state = self.lock();
        self.tx.subscribe()
    }

    /// Creates an object. Fills in uid, resourceVersion, creationTimestamp, namespace and a
    /// generated name; fails if the name is taken.
    pub fn create(&self, kind: Kind, namespace: &str, body: Value) -> Result<Arc<Obj>, ApiError> {
        self.create_at(kind, namespace, body, self.clock.now())
    }

    /// Creates an object stamped as created at `created` (the engine's warm-up writes the past).
    pub fn create_at(
        &self,
        kind: Kind,
        namespace: &str,
        mut body: Value,
        created: jiff::Timestamp,
    ) -> Result<Arc<Obj>, ApiError> {
        let mut state = self.lock();
        let info = kind.info();
        if !body.is_object() {
            return Err(ApiError::BadRequest(
                "the request body is not a JSON object".into(),
            ));
        }
        let meta = meta_mut(&mut body);
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            let prefix = meta
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or("");
            if prefix.is_empty() {
                return Err(ApiError::Invalid(format!(
                    "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                    info.kind
                )));
            }
            name = format!("{prefix}{}", random_suffix(&mut state.rng));
        }
        let namespace = if info.namespaced {
            namespace.to_string()
        } else {
            String::new()
        };
        if info.namespaced && namespace.is_empty() {
            return Err(ApiError::BadRequest(
                "the namespace of the object is empty".into(),
            ));
        }
        if info.namespaced
            && !state.objects[&Kind::Namespace].contains_key(&(String::new(), namespace.clone()))
        {
            return Err(ApiError::NotFound {
                plural: "namespaces".into(),
                name: namespace,
            });
        }
        let key = (namespace.clone(), name.clone());
        if state.objects[&kind].contains_key(&key) {
            return Err(ApiError::AlreadyExists {
                plural: info.plural.into(),
                name,
            });
        }
        let uid = random_uid(&mut state.rng);
        let meta = meta_mut(&mut body);
        meta.insert("name".into(), json!(name));
        if info.namespaced {
            meta.insert("namespace".into(), json!(namespace));
        } else {
            meta.remove("namespace");
        }
        meta.insert("uid".into(), json!(uid));
        meta.insert("creationTimestamp".into(), json!(rfc3339(created)));
        if kind == Kind::DaemonSet {
            meta.insert("generation".into(), json!(1));
        }
        meta.remove("deletionTimestamp");
        Ok(self.commit(&mut state, kind, key, body, EventType::Added, None))
    }

    /// Replaces an object (PUT). A non-empty `metadata.resourceVersion` must match the stored
    /// one, or the update fails with 409 Conflict.
    pub fn update(&self, kind: Kind, key: &Key, mut body: Value) -> Result<Arc<Obj>, ApiError> {
        let mut state = self.lock();
        let old = state.objects[&kind]
            .get(key)
            .cloned()
            .ok_or_else(|| not_found(kind, key))?;
        if !body.is_object() {
            return Err(ApiError::BadRequest(
                "the request body is not a JSON object".into(),
            ));
        }
        let claimed = body["metadata"]["resourceVersion"].as_str().unwrap_or("");
        if !claimed.is_empty() && claimed != old.rv.to_string() {
            return Err(ApiError::Conflict {
                plural: kind.info().plural.into(),
                name: key.1.clone(),
            });
        }
        let old_value: Value = serde_json::from_slice(&old.body).unwrap_or_else(|_| json!({}));
        carry_server_fields(kind, &old_value, &mut body);
        if body == old_value {
            return Ok(old);
        }
        Ok(self.commit(
            &mut state,
            kind,
            key.clone(),
            body,
            EventType::Modified,
            Some(old),
        ))
    }

    /// Changes an object in place under the lock; nothing is written when `change` leaves it
    /// as it was. Used by patches and by the emulated controllers.
    pub fn modify(
        &self,
        kind: Kind,
        key: &Key,
        change: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Result<Arc<Obj>, ApiError> {
        let mut state = self.lock();
        let old = state.objects[&kind]
            .get(key)
            .cloned()
            .ok_or_else(|| not_found(kind, key))?;
        let mut body: Value = serde_json::from_slice(&old.body).unwrap_or_else(|_| json!({}));
        // Only what carry_server_fields reads is kept of the old object: no deep copy.
        let old_stub = json!({"metadata": body["metadata"].clone(), "spec": if kind == Kind::DaemonSet { body["spec"].clone() } else { Value::Null }});
        change(&mut body)?;
        if !body.is_object() {
            return Err(ApiError::BadRequest(
                "the patched object is not a JSON object".into(),
            ));
        }
        carry_server_fields(kind, &old_stub, &mut body);
        // Maps serialize in key order, so equal objects give equal bytes.
        if serde_json::to_vec(&body).is_ok_and(|bytes| bytes == old.body) {
            return Ok(old);
        }
        Ok(self.commit(
            &mut state,
            kind,
            key.clone(),
            body,
            EventType::Modified,
            Some(old),
        ))
    }

    /// Removes an object at once.
    pub fn remove(&self, kind: Kind, key: &Key) -> Result<Arc<Obj>, ApiError> {
        let mut state = self.lock();
        let old = state
            .objects
            .get_mut(&kind)
            .and_then(|map| map.remove(key))
            .ok_or_else(|| not_found(kind, key))?;
        state.rv += 1;
        let rv = state.rv;
        let mut value: Value = serde_json::from_slice(&old.body).unwrap_or_else(|_| json!({}));
        meta_mut(&mut value).insert("resourceVersion".into(), json!(rv.to_string()));
        let obj = Arc::new(build_obj(kind, key.clone(), rv, &value));
        self.publish(
            &mut state,
            Change {
                event_type: EventType::Deleted,
                obj: obj.clone(),
                prev: Some(Arc::new(old.without_body())),
            },
        );
        Ok(obj)
    }

    fn commit(
        &self,
        state: &mut State,
        kind: Kind,
        key: Key,
        mut body: Value,
        event_type: EventType,
        prev: Option<Arc<Obj>>,
    ) -> Arc<Obj> {
        state.rv += 1;
        let rv = state.rv;
        meta_mut(&mut body).insert("resourceVersion".into(), json!(rv.to_string()));
        let obj = Arc::new(build_obj(kind, key.clone(), rv, &body));
        if let Some(map) = state.objects.get_mut(&kind) {
            map.insert(key, obj.clone());
        }
        self.publish(
            state,
            Change {
                event_type,
                obj: obj.clone(),
                prev: prev.map(|old| Arc::new(old.without_body())),
            },
        );
        obj
    }

    fn publish(&self, state: &mut State, change: Change) {
        let change = Arc::new(change);
        state.history.push_back(change.clone());
        while state.history.len() > self.history_limit {
            if let Some(gone) = state.history.pop_front() {
                state.compacted = gone.obj.rv;
            }
        }
        // No receiver is not an error: nobody watches yet.
        let _ = self.tx.send(change);
    }
}

/// The 410 error of a watch or exact list from a compacted version, worded as the real server.
pub fn too_old(requested: u64, current: u64) -> ApiError {
    ApiError::Expired(format!("too old resource version: {requested} ({current})"))
}

fn not_found(kind: Kind, key: &Key) -> ApiError {
    ApiError::NotFound {
        plural: kind.info().plural.into(),
        name: key.1.clone(),
    }
}

fn meta_mut(body: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !body["metadata"].is_object() {
        body["metadata"] = json!({});
    }
    body["metadata"]
        .as_object_mut()
        .expect("metadata was just made an object")
}

/// Keeps the fields a client may not change: uid, creation time, name, namespace; bumps a
/// DaemonSet's generation when its spec changes.
fn carry_server_fields(kind: Kind, old: &Value, body: &mut Value) {
    let old_meta = &old["metadata"];
    let generation = old_meta["generation"].as_i64();
    let spec_changed = old.get("spec") != body.get("spec");
    let meta = meta_mut(body);
    for field in [
        "uid",
        "creationTimestamp",
        "name",
        "namespace",
        "resourceVersion",
    ] {
        match old_meta.get(field) {
            Some(value) => meta.insert(field.into(), value.clone()),
            None => meta.remove(field),
        };
    }
    if kind == Kind::DaemonSet {
        let generation = generation.unwrap_or(1) + i64::from(spec_changed);
        meta.insert("generation".into(), json!(generation));
    }
    if let Some(map) = body.as_object_mut() {
        map.remove("kind");
        map.remove("apiVersion");
    }
}

fn build_obj(kind: Kind, key: Key, rv: u64, body: &Value) -> Obj {
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
        Kind::DaemonSet | Kind::ControllerRevision | Kind::Lease => &[],
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

fn random_uid(state: &mut u64) -> String {
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

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
