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

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::clock::SimClock;
use super::kinds::{ALL, Kind};
use super::status::ApiError;

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds. Ordered like etcd keys.
pub type Key = (String, String);

/// How many changes a watcher may fall behind before its watch is closed (it then resumes from
/// its last resource version, as a client of a real server does when the server drops it).
const BROADCAST_CAPACITY: usize = 16_384;

mod obj;

pub use obj::{Obj, selectable_fields};
use obj::{build_obj, check_namespace, new_name, random_uid, stamp_new};
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
        let name = new_name(kind, &body, &mut state.rng)?;
        let namespace = if info.namespaced {
            namespace.to_string()
        } else {
            String::new()
        };
        check_namespace(&state, kind, &namespace)?;
        let key = (namespace.clone(), name.clone());
        if state.objects[&kind].contains_key(&key) {
            return Err(ApiError::AlreadyExists {
                plural: info.plural.into(),
                group: info.group.into(),
                name,
            });
        }
        let uid = random_uid(&mut state.rng);
        stamp_new(kind, &mut body, &key, &uid, created);
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
                group: kind.info().group.into(),
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
#[cfg(test)]
mod tests;
