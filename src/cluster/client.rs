//! The Kubernetes client, built from the `kube` settings: a kubeconfig file and context if given,
//! otherwise the usual inference (`KUBECONFIG`, `~/.kube/config`, in-cluster).

use std::path::PathBuf;

use kube::config::{InferConfigError, KubeConfigOptions, Kubeconfig, KubeconfigError};

use super::settings::KubeSettings;

/// Why no client could be built; each names the setting to look at.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The kubeconfig file cannot be read or parsed.
    #[error("setting kube.kubeconfig: cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KubeconfigError,
    },
    /// The kubeconfig or its context cannot be used.
    #[error("setting {keys}")]
    Kubeconfig {
        /// The settings involved.
        keys: &'static str,
        /// Why.
        #[source]
        source: KubeconfigError,
    },
    /// No kubeconfig was found and this is not a pod in a cluster.
    #[error("no kubeconfig and not in a cluster")]
    Infer(#[source] InferConfigError),
    /// The configuration is complete but the client cannot be built from it.
    #[error("cannot build a Kubernetes client")]
    Build(#[source] kube::Error),
}

/// Builds a Kubernetes client from the settings.
pub async fn kube_client(settings: &KubeSettings) -> Result<kube::Client, ClientError> {
    let options = KubeConfigOptions {
        context: settings.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match (&settings.kubeconfig, &settings.context) {
        (Some(path), _) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|source| ClientError::Read {
                path: path.clone(),
                source,
            })?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|source| ClientError::Kubeconfig {
                    keys: "kube.kubeconfig / kube.context",
                    source,
                })?
        }
        (None, Some(_)) => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|source| ClientError::Kubeconfig {
                keys: "kube.context",
                source,
            })?,
        (None, None) => kube::Config::infer().await.map_err(ClientError::Infer)?,
    };
    kube::Client::try_from(config).map_err(ClientError::Build)
}
