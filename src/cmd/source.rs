//! Where a one-shot command reads the cluster from: `kubectl get … -o json` files (`--input`),
//! or one list of the live cluster (kubeconfig, `--context`, or in-cluster), shared by
//! `dsguard check` and `dsguard audit`.

use std::path::PathBuf;

use super::table::escape;
use crate::cluster::{Inventory, KubeSettings, PodWatch, kube_client, list_inventory};

/// The arguments that choose the source.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// A file with the output of `kubectl get nodes,daemonsets,pods -A -o json`; `-` reads
    /// standard input. Repeat for several files. Without it, the live cluster is listed.
    #[arg(long, short, value_name = "FILE")]
    pub input: Vec<PathBuf>,
    /// The kubeconfig to use (default: `KUBECONFIG`, `~/.kube/config`, then in-cluster).
    #[arg(long, value_name = "FILE", conflicts_with = "input")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of the current one.
    #[arg(long, value_name = "NAME", conflicts_with = "input")]
    pub context: Option<String>,
    /// The largest input read, per file: a number of bytes with an optional unit (KiB, MiB,
    /// GiB), e.g. `2GiB`.
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = parse_size)]
    pub max_input_size: u64,
    /// List every pod, not only those with the `pod-template-generation` label (setting
    /// `pods.watch: all` of `dsguard run`).
    #[arg(long, conflicts_with = "input")]
    pub all_pods: bool,
}

impl SourceArgs {
    /// Whether the live cluster is read.
    pub fn is_live(&self) -> bool {
        self.input.is_empty()
    }

    /// Reads the `--input` files.
    pub fn read_files(&self) -> Result<Inventory, String> {
        let mut inventory = Inventory::default();
        for input in &self.input {
            inventory
                .read(input, self.max_input_size)
                // Names from the dump may hold terminal escapes.
                .map_err(|e| escape(&e.to_string()))?;
        }
        Ok(inventory)
    }

    /// A client for the live cluster.
    pub async fn client(&self) -> Result<kube::Client, String> {
        let kube = KubeSettings {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        };
        kube.validate().map_err(|e| e.to_string())?;
        kube_client(&kube)
            .await
            .map_err(|e| format!("{:#}", anyhow::Error::from(e)))
    }

    /// One list of the live cluster.
    pub async fn list(&self, client: &kube::Client) -> Result<Inventory, String> {
        let pods = if self.all_pods {
            PodWatch::All
        } else {
            PodWatch::Daemon
        };
        list_inventory(client, pods)
            .await
            .map_err(|e| format!("{:#}", anyhow::Error::from(e)))
    }

    /// The inventory, from the files or one live list (with its own runtime: multi-threaded, so
    /// that receiving a page and parsing the previous one overlap).
    pub fn load(&self) -> Result<Inventory, String> {
        if !self.is_live() {
            return self.read_files();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        runtime.block_on(async { self.list(&self.client().await?).await })
    }
}

/// A size for `--max-input-size`: bytes, or a number with `KiB`, `MiB` or `GiB` (also `K`, `M`,
/// `G`, `KB`, `MB`, `GB`, all binary).
pub(super) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (examples: 1048576, 512MiB, 2GiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown unit {other:?} (use KiB, MiB or GiB)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}
