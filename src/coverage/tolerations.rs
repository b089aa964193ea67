//! Taints and tolerations with the semantics of `v1.Toleration.ToleratesTaint`, and the
//! tolerations the DaemonSet controller adds to every daemon pod
//! (`util.AddOrUpdateDaemonPodTolerations`).

use crate::cluster::{
    TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY,
    TAINT_PID_PRESSURE, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE,
};
use crate::cluster::{Taint, TaintEffect, Toleration};

/// Whether one toleration tolerates one taint: the effect must match unless the toleration's is
/// empty, the key must match unless the toleration's is empty, and then `Exists` tolerates any
/// value, `Equal` (or an empty operator) only the same value, any other operator nothing.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if toleration
        .effect
        .as_ref()
        .is_some_and(|e| *e != taint.effect)
    {
        return false;
    }
    if !toleration.key.is_empty() && toleration.key != taint.key {
        return false;
    }
    match toleration.operator.as_str() {
        "" | "Equal" => toleration.value == taint.value,
        "Exists" => true,
        _ => false,
    }
}

/// Whether any of the tolerations tolerates the taint.
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// The template's tolerations plus those the controller adds to every daemon pod: `not-ready`
/// and `unreachable` with effect `NoExecute` (no `tolerationSeconds`, so never evicted), the
/// pressure and `unschedulable` taints with effect `NoSchedule`, and `network-unavailable` only
/// for pods on the host network. An identical toleration is not added twice.
pub fn with_daemon_tolerations(template: &[Toleration], host_network: bool) -> Vec<Toleration> {
    let mut all = template.to_vec();
    let exists = |key: &str, effect: TaintEffect| Toleration {
        key: key.to_owned(),
        operator: "Exists".to_owned(),
        value: String::new(),
        effect: Some(effect),
    };
    let mut defaults = vec![
        exists(TAINT_NOT_READY, TaintEffect::NoExecute),
        exists(TAINT_UNREACHABLE, TaintEffect::NoExecute),
        exists(TAINT_DISK_PRESSURE, TaintEffect::NoSchedule),
        exists(TAINT_MEMORY_PRESSURE, TaintEffect::NoSchedule),
        exists(TAINT_PID_PRESSURE, TaintEffect::NoSchedule),
        exists(TAINT_UNSCHEDULABLE, TaintEffect::NoSchedule),
    ];
    if host_network {
        defaults.push(exists(TAINT_NETWORK_UNAVAILABLE, TaintEffect::NoSchedule));
    }
    for toleration in defaults {
        if !all.contains(&toleration) {
            all.push(toleration);
        }
    }
    all
}
