//! The timeline actions of a scenario, applied by the engine when their time comes.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::clock::rfc3339;

use super::Engine;
use crate::kinds::Kind;
use crate::objects;
use crate::scenario::{AddNode, Step, UpdateDaemonSet};
use crate::status::ApiError;

fn node_key(name: &str) -> (String, String) {
    (String::new(), name.to_string())
}

/// A change to a Node object.
type NodeChange<'a> = Box<dyn Fn(&mut Value) + 'a>;

/// Sets labels; a null value removes the label.
fn set_labels(node: &mut Value, labels: &std::collections::BTreeMap<String, Option<String>>) {
    for (key, value) in labels {
        node["metadata"]["labels"][key] = value.as_ref().map_or(Value::Null, |v| json!(v));
    }
    if let Some(labels) = node["metadata"]["labels"].as_object_mut() {
        labels.retain(|_, v| !v.is_null());
    }
}

fn split_id(id: &str) -> (String, String) {
    let (ns, name) = id.split_once('/').unwrap_or(("default", id));
    (ns.to_string(), name.to_string())
}

impl Engine {
    /// Applies every step whose time has come.
    pub(super) fn play_steps(&mut self, elapsed: Duration, now: Timestamp) {
        while let Some(step) = self.scenario.timeline.get(self.next_step).cloned() {
            if step.at.0 > elapsed {
                return;
            }
            self.next_step += 1;
            let action = step.actions().first().map_or("none", |(name, _)| *name);
            tracing::info!(at = %step.at, action, "scenario step");
            if let Err(error) = self.step(&step, now) {
                tracing::warn!(%error, at = %step.at, action, "scenario step failed");
            }
        }
    }

    fn step(&mut self, step: &Step, now: Timestamp) -> Result<(), ApiError> {
        if let Some(name) = &step.fail_node {
            if let Some(kubelet) = self.kubelets.get_mut(name) {
                // Its last sign of life is the moment it fails: the grace period counts from here.
                kubelet.up = false;
                kubelet.last_renew = now;
            }
        } else if let Some(name) = &step.recover_node {
            if let Some(kubelet) = self.kubelets.get_mut(name) {
                kubelet.up = true;
                kubelet.last_renew = now;
                kubelet.last_post = now;
            }
        } else if let Some(name) = &step.delete_node {
            self.kubelets.remove(name);
            self.store.remove(Kind::Node, &node_key(name))?;
        } else if let Some(add) = &step.add_node {
            self.add_node(add, now)?;
        } else if let Some(delete) = &step.delete_pod {
            self.delete_pod(
                &delete.daemonset,
                &delete.node,
                delete.grace.map(|g| g.0),
                now,
            )?;
        } else if let Some(update) = &step.update_daemonset {
            self.update_daemonset(update)?;
        } else if let Some(config) = &step.api_fault {
            self.faults.set(config.clone());
        } else {
            self.edit_node_object(step, now)?;
        }
        Ok(())
    }

    /// Steps that change a Node object: taint, untaint, label, cordon, uncordon.
    fn edit_node_object(&mut self, step: &Step, now: Timestamp) -> Result<(), ApiError> {
        let (name, change): (&str, NodeChange) = if let Some(t) = &step.taint {
            let effect = t.effect.map_or("NoSchedule", |e| e.as_str());
            let mut taint = json!({"key": t.key, "effect": effect, "timeAdded": rfc3339(now)});
            if let Some(value) = &t.value {
                taint["value"] = json!(value);
            }
            (
                &t.node,
                Box::new(move |node| objects::add_taint(node, taint.clone())),
            )
        } else if let Some(t) = &step.untaint {
            (
                &t.node,
                Box::new(|node| objects::remove_taint(node, &t.key, t.effect)),
            )
        } else if let Some(l) = &step.label_node {
            (&l.node, Box::new(|node| set_labels(node, &l.labels)))
        } else if let Some(name) = &step.cordon {
            (
                name,
                Box::new(|node| objects::set_unschedulable(node, true)),
            )
        } else if let Some(name) = &step.uncordon {
            (
                name,
                Box::new(|node| objects::set_unschedulable(node, false)),
            )
        } else {
            return Ok(());
        };
        self.store.modify(Kind::Node, &node_key(name), |node| {
            change(node);
            Ok(())
        })?;
        Ok(())
    }

    fn add_node(&mut self, add: &AddNode, now: Timestamp) -> Result<(), ApiError> {
        let pool = add
            .pool
            .as_ref()
            .and_then(|p| self.scenario.nodes.iter().find(|n| &n.name == p))
            .cloned();
        let mut labels = pool.as_ref().map(|p| p.labels.clone()).unwrap_or_default();
        labels.extend(add.labels.clone());
        let mut taints = pool.as_ref().map(|p| p.taints.clone()).unwrap_or_default();
        taints.extend(add.taints.clone());
        let cpu = add
            .cpu
            .clone()
            .or_else(|| pool.as_ref().map(|p| p.cpu.clone()))
            .unwrap_or_else(|| "4".into());
        let memory = pool
            .as_ref()
            .map_or_else(|| "8Gi".to_string(), |p| p.memory.clone());
        self.create_node(&add.name, &labels, &taints, &cpu, &memory, now)
    }

    fn delete_pod(
        &mut self,
        ds_id: &str,
        node: &str,
        grace: Option<Duration>,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let ds_key = split_id(ds_id);
        let uid = self.view.daemonsets.get(&ds_key).map(|ds| ds.uid.clone());
        let pod = self
            .view
            .pods
            .values()
            .find(|p| p.owner_uid == uid && p.node.as_deref() == Some(node) && p.deleting.is_none())
            .map(|p| (p.key.clone(), p.bound))
            .ok_or_else(|| ApiError::NotFound {
                plural: "pods".into(),
                name: format!("{ds_id} on {node}"),
            })?;
        let grace = grace.map_or(30, |g| g.as_secs() as i64);
        if !pod.1 || grace == 0 {
            self.store.remove(Kind::Pod, &pod.0)?;
            return Ok(());
        }
        self.store.modify(Kind::Pod, &pod.0, |value| {
            crate::server::mark_deleted(value, grace, now);
            Ok(())
        })?;
        Ok(())
    }

    fn update_daemonset(&mut self, update: &UpdateDaemonSet) -> Result<(), ApiError> {
        self.store
            .modify(Kind::DaemonSet, &split_id(&update.daemonset), |ds| {
                let container = &ds["spec"]["template"]["spec"]["containers"][0];
                if !(container.is_object() && ds["spec"]["template"]["spec"].is_object()) {
                    return Err(ApiError::Invalid(
                        "the DaemonSet has no pod template with a container to update".into(),
                    ));
                }
                if !ds["metadata"]["annotations"].is_object() {
                    ds["metadata"]["annotations"] = json!({});
                }
                let generation = objects::template_generation(ds) + 1;
                ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] =
                    json!(generation.to_string());
                let spec = &mut ds["spec"]["template"]["spec"];
                if let Some(image) = &update.image {
                    spec["containers"][0]["image"] = json!(image);
                }
                if let Some(cpu) = &update.cpu {
                    let container = &mut spec["containers"][0];
                    if !container["resources"].is_object() {
                        container["resources"] = json!({});
                    }
                    if !container["resources"]["requests"].is_object() {
                        container["resources"]["requests"] = json!({});
                    }
                    container["resources"]["requests"]["cpu"] = json!(cpu);
                }
                if let Some(selector) = &update.node_selector {
                    spec["nodeSelector"] = json!(selector);
                }
                if let Some(tolerations) = &update.tolerations {
                    spec["tolerations"] =
                        tolerations.iter().map(objects::toleration_json).collect();
                }
                Ok(())
            })?;
        Ok(())
    }
}
