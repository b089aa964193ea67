//! The wire types: what dsguard reads of a Node, DaemonSet or Pod, deserialized straight from
//! the API's JSON, and their projections to the slim model.
//!
//! Each struct names only the fields a projection reads; serde skips the rest of the object
//! without building it. Strings the slim model does not keep are borrowed from the input
//! (`Cow<str>`: borrowed unless the JSON escapes them). The projections give exactly what
//! `NodeInfo::from_api`, `DaemonSetInfo::from_api` and `PodInfo::from_api` give for the same
//! object through k8s-openapi (the tests compare both on the real-cluster fixtures and the
//! simulator's objects): every field is optional as k8s-openapi reads it (a JSON `null` is
//! absent), required fields default when absent, and integers have k8s-openapi's widths.
//!
//! Data comes from [`super::item`] (one watch or list item at a time) and goes, as slim
//! objects, to the watchers and `dsguard check`'s live list.

mod daemonset;
mod node;
mod pod;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};

use super::{DSGUARD_ANNOTATION_PREFIX, Labels, ProjectionError, Timestamp};

pub(crate) use daemonset::DaemonSetWire;
pub(crate) use node::NodeWire;
pub(crate) use pod::PodWire;

/// The metadata fields any projection reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Meta<'a> {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default, borrow)]
    pub resource_version: Option<Text<'a>>,
    #[serde(default)]
    pub creation_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub deletion_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub deletion_grace_period_seconds: Option<i64>,
    #[serde(default)]
    pub generation: Option<i64>,
    #[serde(default)]
    pub labels: Option<Labels>,
    #[serde(default)]
    pub annotations: Option<Annotations>,
    #[serde(default, borrow)]
    pub owner_references: Option<Vec<OwnerReference<'a>>>,
}

impl Meta<'_> {
    /// The required, non-empty name, as `super::required_name` decides.
    pub fn required_name(&mut self, kind: &'static str) -> Result<String, ProjectionError> {
        match self.name.take() {
            Some(name) if !name.is_empty() => Ok(name),
            _ => Err(ProjectionError::MissingField {
                kind,
                name: "<unnamed>".to_owned(),
                field: "metadata.name",
            }),
        }
    }

    /// dsguard's own annotations (`dsguard.io/…`).
    pub fn dsguard_annotations(&mut self) -> Labels {
        self.annotations
            .as_mut()
            .map(|a| std::mem::take(&mut a.dsguard))
            .unwrap_or_default()
    }
}

/// An owner reference; only a controller DaemonSet is kept.
#[derive(Debug, Deserialize)]
pub(crate) struct OwnerReference<'a> {
    #[serde(default, borrow)]
    pub kind: Option<Text<'a>>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub controller: Option<bool>,
}

/// A condition of a Node or Pod status.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Condition<'a> {
    #[serde(default, rename = "type", borrow)]
    pub type_: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub status: Option<Text<'a>>,
    #[serde(default)]
    pub last_transition_time: Option<Timestamp>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The first condition of a type, as the projections look it up.
pub(crate) fn condition<'c, 'a>(
    conditions: &'c Option<Vec<Condition<'a>>>,
    type_: &str,
) -> Option<&'c Condition<'a>> {
    conditions
        .iter()
        .flatten()
        .find(|c| c.type_.as_deref().unwrap_or_default() == type_)
}

/// The annotations dsguard reads: its own (`dsguard.io/…`) and the DaemonSet template
/// generation. The others are read past without being kept.
#[derive(Debug, Default)]
pub(crate) struct Annotations {
    pub dsguard: Labels,
    pub template_generation: Option<String>,
}

impl<'de> Deserialize<'de> for Annotations {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnnotationsVisitor;
        impl<'de> Visitor<'de> for AnnotationsVisitor {
            type Value = Annotations;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Annotations, M::Error> {
                let mut out = Annotations::default();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    let Text(value) = map.next_value::<Text<'de>>()?;
                    if key.starts_with(DSGUARD_ANNOTATION_PREFIX) {
                        out.dsguard.insert(key.into_owned(), value.into_owned());
                    } else if key == super::TEMPLATE_GENERATION_ANNOTATION {
                        out.template_generation = Some(value.into_owned());
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(AnnotationsVisitor)
    }
}

/// The CPU and memory entries of a resource map (`allocatable`, `requests`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CpuMemory<'a> {
    #[serde(default, borrow)]
    pub cpu: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub memory: Option<Text<'a>>,
}

/// A requirement of a node selector term or label selector.
#[derive(Debug, Deserialize)]
pub(crate) struct Requirement {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

/// `nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Affinity {
    #[serde(default)]
    pub node_affinity: Option<NodeAffinity>,
}

/// See [`Affinity`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeAffinity {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
}

/// See [`Affinity`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeSelector {
    #[serde(default)]
    pub node_selector_terms: Option<Vec<Term>>,
}

/// One node selector term.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Term {
    #[serde(default)]
    pub match_expressions: Option<Vec<Requirement>>,
    #[serde(default)]
    pub match_fields: Option<Vec<Requirement>>,
}

impl Affinity {
    /// The required node selector, if the affinity has one.
    pub fn required(self) -> Option<NodeSelector> {
        self.node_affinity?
            .required_during_scheduling_ignored_during_execution
    }
}

/// An `IntOrString` as k8s-openapi reads it: a 32-bit integer or a string.
#[derive(Debug)]
pub(crate) enum IntOrString<'a> {
    Int(i32),
    String(Text<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for IntOrString<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntOrStringVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for IntOrStringVisitor<'a> {
            type Value = IntOrString<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("IntOrString")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                let v = i32::try_from(v).map_err(|_| {
                    E::invalid_value(serde::de::Unexpected::Signed(v), &"a 32-bit integer")
                })?;
                Ok(IntOrString::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                let v = i32::try_from(v).map_err(|_| {
                    E::invalid_value(serde::de::Unexpected::Unsigned(v), &"a 32-bit integer")
                })?;
                Ok(IntOrString::Int(v))
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(IntOrString::String(Text(Cow::Borrowed(v))))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(IntOrString::String(Text(Cow::Owned(v.to_owned()))))
            }
        }
        deserializer.deserialize_any(IntOrStringVisitor(std::marker::PhantomData))
    }
}

/// A string borrowed from the input when the JSON does not escape it (serde's own `Cow<str>`
/// always copies unless it is a field of its own with `#[serde(borrow)]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

/// Present or not, whatever its content (a probe, a hook).
pub(crate) type Presence = Option<IgnoredAny>;

/// A map of string to string that is kept whole (node selectors).
pub(crate) type StringMap = BTreeMap<String, String>;

#[cfg(test)]
mod tests;
