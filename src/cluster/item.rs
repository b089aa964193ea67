//! One object of a list page or watch event, as kube's client hands it to the watcher: parsed
//! from the API's bytes straight into the slim model, or marked malformed on its own.
//!
//! kube's `watcher` and `Api::list` run over any `Resource + DeserializeOwned` type. [`Item`] is
//! one: its `Deserialize` takes the object as a borrowed [`RawValue`] (the JSON text of just that
//! object, checked for syntax), then parses that text into the wire type of its kind
//! ([`super::wire`]) and projects it. A parse or projection error stays inside the item, so a
//! malformed object is counted and skipped without failing the page or the watch around it.
//! kube parses every answer from a complete string (`serde_json::from_str`), which is what lets
//! the raw object be borrowed rather than copied. The item also carries the
//! `metadata.resourceVersion` that kube's watcher reads through `Resource::meta()`.

use std::borrow::Cow;
use std::marker::PhantomData;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::wire::{DaemonSetWire, Meta, NodeWire, PodWire};
use super::{Object, ProjectionError, Resource};

/// A kind dsguard watches: the API's names for it and how its objects are read.
pub(crate) trait Kind: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The k8s-openapi type whose API names (group, version, plural, scope) it shares.
    type Api: k8s_openapi::Resource;
    /// The watched resource.
    const RESOURCE: Resource;
    /// Parses one object's JSON into the slim model; the metadata kube needs comes back either way.
    fn parse(json: &str) -> (ObjectMeta, Result<Object, &'static str>);
}

/// Nodes.
#[derive(Clone, Debug)]
pub(crate) struct Nodes;
/// DaemonSets.
#[derive(Clone, Debug)]
pub(crate) struct DaemonSets;
/// Pods.
#[derive(Clone, Debug)]
pub(crate) struct Pods;

/// Why an object was skipped, as a fixed label (one of `MALFORMED_REASONS`).
fn reason(error: &ProjectionError) -> &'static str {
    error.metric_label()
}

/// The metadata kube reads (the resource version; name and namespace only when the object
/// could not be projected, for the log and for deletions).
fn kube_meta(meta: Option<&mut Meta<'_>>, keep_names: bool) -> ObjectMeta {
    let Some(meta) = meta else {
        return ObjectMeta::default();
    };
    ObjectMeta {
        resource_version: meta.resource_version.take().map(|v| v.0.into_owned()),
        name: keep_names.then(|| meta.name.clone()).flatten(),
        namespace: keep_names.then(|| meta.namespace.clone()).flatten(),
        ..ObjectMeta::default()
    }
}

/// The metadata of an object whose body did not parse, if its metadata does.
fn fallback_meta(json: &str) -> ObjectMeta {
    #[derive(Deserialize)]
    struct Only<'a> {
        #[serde(default, borrow)]
        metadata: Option<Meta<'a>>,
    }
    match serde_json::from_str::<Only<'_>>(json) {
        Ok(mut only) => kube_meta(only.metadata.as_mut(), true),
        Err(_) => ObjectMeta::default(),
    }
}

macro_rules! kind {
    ($marker:ty, $api:ty, $resource:expr, $wire:ident, $variant:ident) => {
        impl Kind for $marker {
            type Api = $api;
            const RESOURCE: Resource = $resource;
            fn parse(json: &str) -> (ObjectMeta, Result<Object, &'static str>) {
                match serde_json::from_str::<$wire<'_>>(json) {
                    Err(_) => (fallback_meta(json), Err("schema")),
                    Ok(mut wire) => {
                        let mut meta = kube_meta(wire.metadata.as_mut(), false);
                        match wire.into_info() {
                            Ok(info) => (meta, Ok(Object::$variant(info))),
                            Err(error) => {
                                meta.name = error.object_name().map(str::to_owned);
                                (meta, Err(reason(&error)))
                            }
                        }
                    }
                }
            }
        }
    };
}

kind!(
    Nodes,
    k8s_openapi::api::core::v1::Node,
    Resource::Nodes,
    NodeWire,
    Node
);
kind!(
    DaemonSets,
    k8s_openapi::api::apps::v1::DaemonSet,
    Resource::DaemonSets,
    DaemonSetWire,
    DaemonSet
);
kind!(
    Pods,
    k8s_openapi::api::core::v1::Pod,
    Resource::Pods,
    PodWire,
    Pod
);

/// Parses one object of a resource from its JSON text into the slim model, as the watchers and
/// the live list do; a malformed object gives its reason (`schema`, `missing_field`).
pub fn parse_object(resource: Resource, json: &str) -> Result<Object, &'static str> {
    match resource {
        Resource::Nodes => Nodes::parse(json).1,
        Resource::DaemonSets => DaemonSets::parse(json).1,
        Resource::Pods => Pods::parse(json).1,
    }
}

/// One object of kind `K`: its slim projection, or why it has none.
#[derive(Clone, Debug)]
pub(crate) struct Item<K> {
    meta: ObjectMeta,
    /// The slim object, or the malformed reason (`schema`, `missing_field`).
    pub object: Result<Object, &'static str>,
    kind: PhantomData<K>,
}

impl<K: Kind> Item<K> {
    /// Parses one object's JSON.
    pub fn parse(json: &str) -> Self {
        let (meta, object) = K::parse(json);
        Self {
            meta,
            object,
            kind: PhantomData,
        }
    }

    /// The object's name, when it could be read.
    pub fn name(&self) -> Option<&str> {
        match &self.object {
            Ok(Object::Node(n)) => Some(&n.name),
            Ok(Object::DaemonSet(d)) => Some(&d.key.name),
            Ok(Object::Pod(p)) => Some(&p.key.name),
            Err(_) => self.meta.name.as_deref(),
        }
    }

    /// The object's namespace, when it could be read.
    pub fn namespace(&self) -> Option<&str> {
        match &self.object {
            Ok(Object::Node(_)) => None,
            Ok(Object::DaemonSet(d)) => Some(&d.key.namespace),
            Ok(Object::Pod(p)) => Some(&p.key.namespace),
            Err(_) => self.meta.namespace.as_deref(),
        }
    }
}

impl<'de, K: Kind> Deserialize<'de> for Item<K> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        Ok(Self::parse(raw.get()))
    }
}

impl<K: Kind> kube::Resource for Item<K> {
    type DynamicType = ();
    type Scope = <K::Api as k8s_openapi::Resource>::Scope;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(<K::Api as k8s_openapi::Resource>::KIND)
    }

    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(<K::Api as k8s_openapi::Resource>::GROUP)
    }

    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(<K::Api as k8s_openapi::Resource>::VERSION)
    }

    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(<K::Api as k8s_openapi::Resource>::URL_PATH_SEGMENT)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

#[cfg(test)]
mod tests;
