//! One key of one ConfigMap in dsguard's namespace, read and written with optimistic concurrency:
//! every write carries the `resourceVersion` it read (create when there was none), so of two
//! writers exactly one wins and the other gets [`StoreError::Conflict`]. The leader keeps the
//! state that must follow it there (`app/shared_state.rs`), every replica the silences. What the
//! text means is the caller's; this file only moves it, like `lease.rs` moves the Lease.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::PostParams;

/// The most a ConfigMap may hold (the API server refuses more: 1 MiB for the whole object).
/// Callers keep their text under [`MAX_VALUE_BYTES`], which leaves room for the metadata.
pub const MAX_CONFIGMAP_BYTES: usize = 1024 * 1024;

/// The most one value written here may hold: 64 KiB under [`MAX_CONFIGMAP_BYTES`] for the
/// metadata (name, labels, managed fields), which the API server counts too.
pub const MAX_VALUE_BYTES: usize = MAX_CONFIGMAP_BYTES - 64 * 1024;

/// How long one request may take. The leader waits for its state to be written before it hands a
/// notification over, so a stalled API server may hold evaluation back this long at most.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How many times [`ConfigMapStore::update`] re-reads after a 409 before it gives up: each
/// conflict means another replica wrote in between, and two writers seldom race more than once.
pub const CONFLICT_RETRIES: usize = 5;

/// Why a read or write failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed the ConfigMap since it was read (409).
    #[error("configmap changed since it was read (409 conflict)")]
    Conflict,
    /// The text is larger than [`MAX_VALUE_BYTES`].
    #[error("configmap value of {0} bytes is larger than the {MAX_VALUE_BYTES} allowed")]
    TooLarge(usize),
    /// The API answered with another error.
    #[error("configmap request failed: {0}")]
    Api(#[source] kube::Error),
    /// The request took longer than [`REQUEST_TIMEOUT`].
    #[error("configmap request timed out")]
    Timeout,
}

impl StoreError {
    /// A fixed label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Conflict => "conflict",
            Self::TooLarge(_) => "too_large",
            Self::Api(_) => "api",
            Self::Timeout => "timeout",
        }
    }
}

/// What a read found: the value (absent when the ConfigMap or its key is) and the
/// `resourceVersion` to write against (absent when the ConfigMap is).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versioned {
    /// The key's value.
    pub value: Option<String>,
    /// The ConfigMap's `resourceVersion`; `None` when it does not exist yet.
    pub resource_version: Option<String>,
}

/// One key of one ConfigMap.
#[derive(Clone)]
pub struct ConfigMapStore {
    api: Api<ConfigMap>,
    name: String,
    key: String,
}

impl ConfigMapStore {
    /// The key `key` of the ConfigMap `name` in `namespace`.
    pub fn new(client: kube::Client, namespace: &str, name: &str, key: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            key: key.to_owned(),
        }
    }

    /// The ConfigMap's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads the value and the version to write against.
    pub async fn read(&self) -> Result<Versioned, StoreError> {
        let found = timed(self.api.get_opt(&self.name)).await?;
        Ok(match found {
            None => Versioned::default(),
            Some(map) => Versioned {
                value: map.data.and_then(|mut d| d.remove(&self.key)),
                resource_version: map.metadata.resource_version,
            },
        })
    }

    /// Writes `value` if the ConfigMap is still at `read`'s version (creates it when `read`
    /// found none); returns the new version. Other keys of the ConfigMap are not kept: each
    /// ConfigMap here has one key.
    pub async fn write(&self, value: String, read: &Versioned) -> Result<Versioned, StoreError> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(StoreError::TooLarge(value.len()));
        }
        let map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                resource_version: read.resource_version.clone(),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_owned(),
                    "dsguard".to_owned(),
                )])),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([(self.key.clone(), value.clone())])),
            ..ConfigMap::default()
        };
        let params = PostParams::default();
        let written = match read.resource_version {
            None => timed(self.api.create(&params, &map)).await?,
            Some(_) => timed(self.api.replace(&self.name, &params, &map)).await?,
        };
        Ok(Versioned {
            value: Some(value),
            resource_version: written.metadata.resource_version,
        })
    }

    /// Read, change, write, until the write wins (at most [`CONFLICT_RETRIES`] conflicts):
    /// `change` gets the current value and returns the one to write, or `None` to leave it.
    /// Returns the value now stored.
    pub async fn update(
        &self,
        mut change: impl FnMut(Option<&str>) -> Option<String>,
    ) -> Result<Option<String>, StoreError> {
        let mut conflicts = 0;
        loop {
            let read = self.read().await?;
            let Some(value) = change(read.value.as_deref()) else {
                return Ok(read.value);
            };
            match self.write(value, &read).await {
                Ok(written) => return Ok(written.value),
                Err(StoreError::Conflict) if conflicts < CONFLICT_RETRIES => conflicts += 1,
                Err(error) => return Err(error),
            }
        }
    }
}

/// Runs one request within [`REQUEST_TIMEOUT`], turning 409 (both "changed" and "already
/// exists" on create) into [`StoreError::Conflict`].
async fn timed<T>(request: impl Future<Output = Result<T, kube::Error>>) -> Result<T, StoreError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Err(_) => Err(StoreError::Timeout),
        Ok(Err(kube::Error::Api(status))) if status.code == 409 => Err(StoreError::Conflict),
        Ok(Err(error)) => Err(StoreError::Api(error)),
        Ok(Ok(value)) => Ok(value),
    }
}
