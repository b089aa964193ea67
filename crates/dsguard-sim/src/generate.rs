//! Large generated scenarios for benchmarks: `dsguard sim --generate nodes=5000,daemonsets=20`.
//!
//! The cluster has three worker zones, an infra pool tainted `dedicated=infra:NoExecute` and a
//! GPU pool tainted `nvidia.com/gpu:NoSchedule`; the DaemonSets cycle through the placements
//! real clusters use (everywhere, workers only, one zone, GPU nodes, host network on workers).
//! With `fail=K`, K workers fail at 60 s and recover at 180 s.

use std::collections::BTreeMap;

use super::duration::Dur;
use super::scenario::{
    DaemonSetSpec, Effect, NodePool, Scenario, Settings, Step, TaintSpec, TolerationOperator,
    TolerationSpec,
};

/// A `--generate` specification that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --generate `{spec}`: {reason}")]
pub struct GenerateError {
    /// The specification given.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
}

/// The parameters of a generated cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSpec {
    /// Number of nodes.
    pub nodes: usize,
    /// Number of DaemonSets.
    pub daemonsets: usize,
    /// Number of workers that fail at 60 s.
    pub fail: usize,
}

impl std::str::FromStr for GenerateSpec {
    type Err = GenerateError;

    fn from_str(text: &str) -> Result<GenerateSpec, GenerateError> {
        let fail = |reason: String| GenerateError {
            spec: text.to_string(),
            reason,
        };
        let mut spec = GenerateSpec {
            nodes: 100,
            daemonsets: 5,
            fail: 0,
        };
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| fail(format!("`{part}` is not key=value")))?;
            let value: usize = value
                .trim()
                .parse()
                .map_err(|_| fail(format!("`{value}` is not a number")))?;
            match key.trim() {
                "nodes" => spec.nodes = value,
                "daemonsets" => spec.daemonsets = value,
                "fail" => spec.fail = value,
                other => {
                    return Err(fail(format!(
                        "unknown key `{other}` (nodes, daemonsets, fail)"
                    )));
                }
            }
        }
        if spec.nodes == 0 {
            return Err(fail("nodes must be at least 1".into()));
        }
        Ok(spec)
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pools(nodes: usize) -> Vec<NodePool> {
    let infra = (nodes / 20).max(usize::from(nodes >= 10));
    let gpu = (nodes / 20).max(usize::from(nodes >= 10));
    let workers = nodes - infra - gpu;
    let pool = |name: &str, count: usize, l: &[(&str, &str)], taints: Vec<TaintSpec>| NodePool {
        name: name.into(),
        count,
        start: 1,
        labels: labels(l),
        taints,
        cpu: "8".into(),
        memory: "32Gi".into(),
    };
    let mut pools: Vec<NodePool> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, zone)| {
            let count = workers / 3 + usize::from(i < workers % 3);
            pool(
                &format!("worker-{zone}"),
                count,
                &[("node-type", "worker"), ("zone", zone)],
                vec![],
            )
        })
        .collect();
    let taint = |key: &str, value: Option<&str>, effect| TaintSpec {
        key: key.into(),
        value: value.map(String::from),
        effect,
    };
    pools.push(pool(
        "infra",
        infra,
        &[("node-type", "infra")],
        vec![taint("dedicated", Some("infra"), Effect::NoExecute)],
    ));
    pools.push(pool(
        "gpu",
        gpu,
        &[("node-type", "gpu"), ("gpu", "true")],
        vec![taint("nvidia.com/gpu", None, Effect::NoSchedule)],
    ));
    pools.retain(|p| p.count > 0);
    pools
}

fn daemonset(i: usize) -> DaemonSetSpec {
    let everything = TolerationSpec {
        key: None,
        operator: Some(TolerationOperator::Exists),
        value: None,
        effect: None,
    };
    let mut ds = DaemonSetSpec {
        name: format!("agent-{i:02}"),
        namespace: if i.is_multiple_of(2) {
            "kube-system".into()
        } else {
            "monitoring".into()
        },
        labels: BTreeMap::new(),
        node_selector: BTreeMap::new(),
        node_affinity: None,
        tolerations: vec![],
        host_network: false,
        cpu: "10m".into(),
        image: format!("registry.example/agent-{i:02}:1.0"),
        min_ready_seconds: 0,
        max_unavailable: 1,
        failures: vec![],
    };
    match i % 5 {
        0 => ds.tolerations = vec![everything],
        1 => ds.node_selector = labels(&[("node-type", "worker")]),
        2 => ds.node_selector = labels(&[("zone", ["a", "b", "c"][i / 5 % 3])]),
        3 => {
            ds.node_selector = labels(&[("gpu", "true")]);
            ds.tolerations = vec![TolerationSpec {
                key: Some("nvidia.com/gpu".into()),
                operator: Some(TolerationOperator::Exists),
                value: None,
                effect: Some(Effect::NoSchedule),
            }];
        }
        _ => {
            ds.host_network = true;
            ds.node_affinity = Some(serde_json::json!([
                {"matchExpressions": [{"key": "node-type", "operator": "In", "values": ["worker", "infra"]}]}
            ]));
        }
    }
    ds
}

/// Builds the scenario for a specification.
pub fn generate(spec: &GenerateSpec) -> Scenario {
    let pools = pools(spec.nodes);
    let workers: Vec<String> = pools
        .iter()
        .filter(|p| p.name.starts_with("worker"))
        .flat_map(NodePool::node_names)
        .collect();
    let secs = |s: u64| Dur(std::time::Duration::from_secs(s));
    let mut timeline = Vec::new();
    for node in workers.iter().take(spec.fail) {
        timeline.push(Step {
            at: secs(60),
            fail_node: Some(node.clone()),
            ..Step::default()
        });
    }
    for node in workers.iter().take(spec.fail) {
        timeline.push(Step {
            at: secs(180),
            recover_node: Some(node.clone()),
            ..Step::default()
        });
    }
    Scenario {
        name: format!(
            "generated-{}-nodes-{}-daemonsets",
            spec.nodes, spec.daemonsets
        ),
        description: "generated for benchmarks".into(),
        settings: Settings {
            node_status_interval: secs(60),
            ..Settings::default()
        },
        nodes: pools,
        daemonsets: (0..spec.daemonsets).map(daemonset).collect(),
        timeline,
        expect: vec![],
    }
}

#[cfg(test)]
mod tests;
