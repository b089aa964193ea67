//! Checks of a parsed scenario that the YAML parser cannot make: references between its parts
//! (nodes, pools, DaemonSets), time order, one action per step. Errors name the field path;
//! `scenario.rs` adds the line.

use std::collections::BTreeSet;

use super::{Scenario, Step};
use crate::duration::Dur;

impl Scenario {
    /// Checks references and ranges; the error names the field path.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut nodes: BTreeSet<String> = BTreeSet::new();
        for (i, pool) in self.nodes.iter().enumerate() {
            for name in pool.node_names() {
                if !nodes.insert(name.clone()) {
                    return Err((
                        format!("nodes[{i}].name"),
                        format!("node `{name}` is defined twice"),
                    ));
                }
            }
        }
        let mut all_nodes = nodes.clone();
        for step in &self.timeline {
            if let Some(add) = &step.add_node {
                all_nodes.insert(add.name.clone());
            }
        }
        let mut daemonsets = BTreeSet::new();
        for (i, ds) in self.daemonsets.iter().enumerate() {
            if !daemonsets.insert(ds.id()) {
                return Err((
                    format!("daemonsets[{i}].name"),
                    format!("DaemonSet `{}` is defined twice", ds.id()),
                ));
            }
            for (j, failure) in ds.failures.iter().enumerate() {
                for node in &failure.nodes {
                    if !all_nodes.contains(node) {
                        return Err((
                            format!("daemonsets[{i}].failures[{j}].nodes"),
                            format!("no node named `{node}`"),
                        ));
                    }
                }
            }
        }
        let mut last = Dur::default();
        for (i, step) in self.timeline.iter().enumerate() {
            if step.at < last {
                return Err((
                    format!("timeline[{i}].at"),
                    format!(
                        "steps must be in time order: {} comes after {}",
                        step.at, last
                    ),
                ));
            }
            last = step.at;
            self.validate_step(i, step, &mut nodes, &daemonsets)?;
        }
        self.validate_expectations(&daemonsets, &all_nodes)
    }

    fn validate_expectations(
        &self,
        daemonsets: &BTreeSet<String>,
        all_nodes: &BTreeSet<String>,
    ) -> Result<(), (String, String)> {
        for (i, expectation) in self.expect.iter().enumerate() {
            for (j, cell) in expectation.cells.iter().enumerate() {
                if !daemonsets.contains(&cell.daemonset) {
                    return Err((
                        format!("expect[{i}].cells[{j}].daemonset"),
                        format!("no DaemonSet named `{}`", cell.daemonset),
                    ));
                }
                if !all_nodes.contains(&cell.node) {
                    return Err((
                        format!("expect[{i}].cells[{j}].node"),
                        format!("no node named `{}`", cell.node),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_step(
        &self,
        i: usize,
        step: &Step,
        nodes: &mut BTreeSet<String>,
        daemonsets: &BTreeSet<String>,
    ) -> Result<(), (String, String)> {
        let field = single_action(i, step)?;
        let path = |sub: &str| format!("timeline[{i}].{field}{sub}");
        if let Some((node, sub)) = node_named(step)
            && !nodes.contains(node)
        {
            return Err((
                path(sub),
                format!("no node named `{node}` exists at this point"),
            ));
        }
        if let Some(ds) = daemonset_named(step)
            && !daemonsets.contains(ds)
        {
            return Err((
                path(".daemonset"),
                format!("no DaemonSet named `{ds}` (write namespace/name)"),
            ));
        }
        if step.taint.as_ref().is_some_and(|t| t.effect.is_none()) {
            return Err((path(".effect"), "a taint needs an effect".into()));
        }
        if let Some(name) = &step.delete_node {
            nodes.remove(name);
        }
        if let Some(add) = &step.add_node {
            if let Some(pool) = add
                .pool
                .as_ref()
                .filter(|p| !self.nodes.iter().any(|n| &n.name == *p))
            {
                return Err((path(".pool"), format!("no node pool named `{pool}`")));
            }
            if !nodes.insert(add.name.clone()) {
                return Err((path(".name"), format!("node `{}` already exists", add.name)));
            }
        }
        Ok(())
    }
}

/// The one action of a step, or an error naming the step.
fn single_action(i: usize, step: &Step) -> Result<&'static str, (String, String)> {
    let actions = step.actions();
    match actions.as_slice() {
        [(field, _)] => Ok(field),
        _ => {
            let names: Vec<&str> = actions.iter().map(|(name, _)| *name).collect();
            Err((
                format!("timeline[{i}]"),
                format!(
                    "a step needs exactly one action besides `at`, found {}: {}",
                    names.len(),
                    names.join(", ")
                ),
            ))
        }
    }
}

/// The existing node a step acts on, with the sub-field that names it.
fn node_named(step: &Step) -> Option<(&str, &'static str)> {
    let direct = [
        &step.fail_node,
        &step.recover_node,
        &step.delete_node,
        &step.cordon,
        &step.uncordon,
    ];
    if let Some(node) = direct.into_iter().flatten().next() {
        return Some((node, ""));
    }
    let nested = [
        step.taint.as_ref().map(|t| &t.node),
        step.untaint.as_ref().map(|t| &t.node),
        step.label_node.as_ref().map(|l| &l.node),
        step.delete_pod.as_ref().map(|d| &d.node),
    ];
    nested
        .into_iter()
        .flatten()
        .next()
        .map(|node| (node.as_str(), ".node"))
}

/// The DaemonSet a step acts on.
fn daemonset_named(step: &Step) -> Option<&str> {
    step.delete_pod
        .as_ref()
        .map(|d| d.daemonset.as_str())
        .or(step.update_daemonset.as_ref().map(|u| u.daemonset.as_str()))
}
