//! The kubeconfig that points `kubectl` and the `kube` crate at a running simulator.

use std::path::Path;

/// Kubeconfig YAML for a server at `url` (plain HTTP, no credentials: the simulator listens on
/// loopback only and checks none).
pub fn kubeconfig(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dsguard-sim\n  cluster:\n    server: {url}\ncontexts:\n- name: dsguard-sim\n  context:\n    cluster: dsguard-sim\n    user: dsguard-sim\n    namespace: default\ncurrent-context: dsguard-sim\nusers:\n- name: dsguard-sim\n  user: {{}}\npreferences: {{}}\n"
    )
}

/// Writes the kubeconfig to `path`.
pub fn write(path: &Path, url: &str) -> std::io::Result<()> {
    std::fs::write(path, kubeconfig(url))
}

#[cfg(test)]
mod tests;
