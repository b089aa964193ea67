//! Reading `kubectl get nodes,daemonsets,pods -A -o json` output: a `List` (or a typed list, or
//! a single object) whose items are projected to the slim model. Unknown kinds are counted and
//! skipped; an object that does not parse is an error naming the file, the item and the field.
//! An input is read up to a size limit ([`DEFAULT_MAX_INPUT_BYTES`] unless raised), so that
//! `/dev/zero` or a runaway pipe ends in an error instead of exhausting memory.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cluster::{DaemonSetInfo, NodeInfo, PodInfo, ProjectionError};

/// The default limit of one input: 512 MiB. `kubectl get nodes,daemonsets,pods -A -o json` of a
/// 5,000-node cluster (the Kubernetes scalability limit) with 30 daemon and other pods per node is
/// about 150,000 objects of 2–4 KiB, so 300–600 MiB; parsing needs several times the input in
/// memory, so larger inputs must be asked for with the flag that raises the limit.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 512 << 20;

/// What was read from the inputs.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Nodes.
    pub nodes: Vec<NodeInfo>,
    /// DaemonSets.
    pub daemonsets: Vec<DaemonSetInfo>,
    /// Pods (all of them; the model keeps the daemon pods).
    pub pods: Vec<PodInfo>,
    /// Objects of other kinds, skipped, by kind.
    pub skipped: BTreeMap<String, usize>,
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("{source_name}: cannot read: {error}")]
    Read {
        /// The file name, or `<stdin>`.
        source_name: String,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The input is larger than the limit.
    #[error("{source_name}: larger than the limit of {limit} bytes ({}); raise it with --max-input-size", human_bytes(.limit))]
    TooLarge {
        /// The file name, or `<stdin>`.
        source_name: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file is not JSON.
    #[error("{source_name}: not valid JSON: {error}")]
    Json {
        /// The file name.
        source_name: String,
        /// The parser's error, with line and column.
        #[source]
        error: serde_json::Error,
    },
    /// The document is not a Kubernetes object or list.
    #[error("{source_name}: {reason}")]
    Shape {
        /// The file name.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// An object does not match its kind's schema.
    #[error("{source_name}: {object}: field {field}: {error}")]
    Object {
        /// The file name.
        source_name: String,
        /// `items[3] (Pod kube-system/agent-x)`.
        object: String,
        /// The JSON path of the offending field.
        field: String,
        /// What is wrong with it.
        error: String,
    },
    /// An object lacks what the model needs.
    #[error("{source_name}: {object}: {error}")]
    Projection {
        /// The file name.
        source_name: String,
        /// `items[3] (Pod kube-system/agent-x)`.
        object: String,
        /// The projection error.
        #[source]
        error: ProjectionError,
    },
}

impl Inventory {
    /// Reads one input, a path or `-` for standard input, of at most `max_bytes`.
    pub fn read(&mut self, input: &Path, max_bytes: u64) -> Result<(), InputError> {
        let source_name = if input == Path::new("-") {
            "<stdin>".to_owned()
        } else {
            input.display().to_string()
        };
        let read_error = |error| InputError::Read {
            source_name: source_name.clone(),
            error,
        };
        let reader: Box<dyn Read> = if input == Path::new("-") {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(input).map_err(read_error)?)
        };
        let mut bytes = Vec::new();
        // One byte past the limit tells a file of exactly the limit from a larger one.
        reader
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > max_bytes {
            return Err(InputError::TooLarge {
                source_name: source_name.clone(),
                limit: max_bytes,
            });
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        self.add_document(&source_name, &text)
    }

    /// Adds the objects of one JSON document.
    pub fn add_document(&mut self, source_name: &str, text: &str) -> Result<(), InputError> {
        let document: Value = serde_json::from_str(text).map_err(|error| InputError::Json {
            source_name: source_name.to_owned(),
            error,
        })?;
        let shape = |reason: &str| InputError::Shape {
            source_name: source_name.to_owned(),
            reason: reason.to_owned(),
        };
        let kind = document
            .get("kind")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("no \"kind\": expected the output of `kubectl get nodes,daemonsets,pods -A -o json`"))?;
        if kind == "List" || kind.ends_with("List") {
            let items = document
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| shape(&format!("a {kind} without an \"items\" array")))?;
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            for (index, item) in items.iter().enumerate() {
                self.add_object(source_name, &format!("items[{index}]"), item, item_kind)?;
            }
            Ok(())
        } else {
            self.add_object(source_name, "object", &document, None)
        }
    }

    fn add_object(
        &mut self,
        source_name: &str,
        position: &str,
        item: &Value,
        list_kind: Option<&str>,
    ) -> Result<(), InputError> {
        let kind = item
            .get("kind")
            .and_then(Value::as_str)
            .or(list_kind)
            .unwrap_or("<no kind>");
        let describe = || {
            let meta = item.get("metadata");
            let name = meta
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("<unnamed>");
            match meta
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
            {
                Some(ns) => format!("{position} ({kind} {ns}/{name})"),
                None => format!("{position} ({kind} {name})"),
            }
        };
        let projection = |error| InputError::Projection {
            source_name: source_name.to_owned(),
            object: describe(),
            error,
        };
        match kind {
            "Node" => {
                let node: Node = parse(source_name, item, &describe)?;
                self.nodes
                    .push(NodeInfo::from_api(&node).map_err(projection)?);
            }
            "DaemonSet" => {
                let ds: DaemonSet = parse(source_name, item, &describe)?;
                self.daemonsets
                    .push(DaemonSetInfo::from_api(&ds).map_err(projection)?);
            }
            "Pod" => {
                let pod: Pod = parse(source_name, item, &describe)?;
                self.pods.push(PodInfo::from_api(&pod).map_err(projection)?);
            }
            other => *self.skipped.entry(other.to_owned()).or_default() += 1,
        }
        Ok(())
    }
}

/// Bytes in the largest binary unit that divides them evenly (`512 MiB`, `1000 bytes`).
fn human_bytes(bytes: &u64) -> String {
    let bytes = *bytes;
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

fn parse<T: DeserializeOwned>(
    source_name: &str,
    item: &Value,
    describe: &dyn Fn() -> String,
) -> Result<T, InputError> {
    serde_path_to_error::deserialize(item).map_err(|error| InputError::Object {
        source_name: source_name.to_owned(),
        object: describe(),
        field: error.path().to_string(),
        error: error.into_inner().to_string(),
    })
}

#[cfg(test)]
mod tests;
