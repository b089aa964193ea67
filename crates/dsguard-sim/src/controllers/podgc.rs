//! Pod garbage collector: force-deletes pods bound to nodes that no longer exist once they have
//! been orphaned for the quarantine period (40 s by default), force-deletes terminating pods on
//! nodes tainted `out-of-service`, and deletes pods whose owning DaemonSet is gone (the garbage
//! collector's cascading delete).

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;

use super::{Action, Ctx};
use crate::store::Key;

/// Taint that lets pod GC force-delete terminating pods on a dead node.
const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

/// What pod GC does now; `orphaned_since` remembers when each orphan was first seen.
pub fn tick(ctx: &Ctx<'_>, orphaned_since: &mut HashMap<Key, Timestamp>) -> Vec<Action> {
    let mut actions = Vec::new();
    let owners: HashSet<&str> = ctx
        .view
        .daemonsets
        .values()
        .map(|ds| ds.uid.as_str())
        .collect();
    let delay = ctx.ago(ctx.settings.pod_gc_delay.0);
    orphaned_since.retain(|key, _| ctx.view.pods.contains_key(key));
    for pod in ctx.view.pods.values() {
        let node = pod.node.as_ref().and_then(|n| ctx.view.nodes.get(n));
        if pod.bound && node.is_none() {
            let since = *orphaned_since.entry(pod.key.clone()).or_insert(ctx.now);
            if since <= delay {
                tracing::info!(pod = %pod.key.1, "pod GC: node is gone, force-deleting");
                actions.push(Action::DeletePod {
                    key: pod.key.clone(),
                    grace: None,
                });
            }
            continue;
        }
        let out_of_service = node.is_some_and(|n| n.taints.iter().any(|t| t.key == OUT_OF_SERVICE));
        if pod.deleting.is_some() && out_of_service {
            actions.push(Action::DeletePod {
                key: pod.key.clone(),
                grace: None,
            });
            continue;
        }
        let owner_gone = pod
            .owner_uid
            .as_deref()
            .is_some_and(|uid| !owners.contains(uid));
        if owner_gone && pod.deleting.is_none() {
            let grace = if pod.bound { Some(30) } else { None };
            actions.push(Action::DeletePod {
                key: pod.key.clone(),
                grace,
            });
        }
    }
    actions
}
