//! The rules, one function each, over one DaemonSet's column of cells and its template facts.

use jiff::SignedDuration;

use super::{AuditOptions, Finding, Rule, Severity};
use crate::base::Timestamp;
use crate::cluster::{
    DaemonSetInfo, NodeInfo, ObjectKey, TAINT_AUTOSCALER_DELETE, Taint, TaintEffect, UpdateStrategy,
};
use crate::coverage::{Cell, CellState, Coverage, Reason};

/// Priority classes that preempt ordinary pods (Kubernetes' own, 2,000,001,000 and
/// 2,000,000,000); the value of any other class is not in the model.
const PREEMPTING: [&str; 2] = ["system-node-critical", "system-cluster-critical"];

/// Node names shown in an evidence line; the finding's `nodes` lists them all.
const SHOWN: usize = 5;

/// One DaemonSet's cells: (node name, the node if it exists, the cell).
type Column<'a> = Vec<(&'a str, Option<&'a NodeInfo>, Cell)>;

/// A rule: the findings it makes of one DaemonSet.
type RuleFn<'r> = &'r dyn Fn(&Subject<'_>) -> Vec<Finding>;

struct Subject<'a> {
    info: &'a DaemonSetInfo,
    column: Column<'a>,
}

impl Subject<'_> {
    fn finding(&self, rule: Rule, severity: Severity, evidence: String, fix: &str) -> Finding {
        Finding {
            namespace: self.info.key.namespace.clone(),
            daemonset: self.info.key.name.clone(),
            rule,
            severity,
            evidence,
            fix: fix.to_owned(),
            nodes: Vec::new(),
        }
    }
}

/// Every finding for one DaemonSet.
pub(super) fn for_daemonset(
    coverage: &Coverage,
    key: &ObjectKey,
    options: &AuditOptions,
    now: Timestamp,
) -> Vec<Finding> {
    let Some(info) = coverage.daemonset_info(key) else {
        return Vec::new();
    };
    let mut column: Column<'_> = coverage.column(key).collect();
    column.sort_by_key(|(name, _, _)| *name);
    let subject = Subject { info, column };
    let rules: [RuleFn<'_>; 9] = [
        &priority_unfit,
        &rollout,
        &tolerates_everything,
        &missing_toleration,
        &selector_matches_no_node,
        &|s| not_running_where_it_should(s, now),
        &template_hygiene,
        &|s| termination_grace(s, options),
        &no_pre_stop,
    ];
    rules.iter().flat_map(|rule| rule(&subject)).collect()
}

fn with_nodes(mut finding: Finding, mut nodes: Vec<String>) -> Finding {
    nodes.sort();
    nodes.dedup();
    finding.nodes = nodes;
    finding
}

/// `a, b, c` or `a, b, c, d, e and 7 more`.
fn names(nodes: &[String]) -> String {
    let shown = nodes
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match nodes.len().saturating_sub(SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

fn is_lifecycle_taint(taint: &Taint) -> bool {
    taint.key.starts_with("node.kubernetes.io/")
        || taint.key.starts_with("node.cloudprovider.kubernetes.io/")
        || taint.key == TAINT_AUTOSCALER_DELETE
}

fn is_usable(node: Option<&NodeInfo>) -> bool {
    node.is_some_and(|n| {
        !n.is_down() && !n.is_cordoned() && !n.is_autoscaler_deleting() && !n.is_in_maintenance()
    })
}

fn priority_unfit(s: &Subject<'_>) -> Vec<Finding> {
    let t = &s.info.template;
    if t.priority_class
        .as_deref()
        .is_some_and(|p| PREEMPTING.contains(&p))
    {
        return Vec::new();
    }
    let mut nodes = Vec::new();
    let mut examples = Vec::new();
    for (name, node, cell) in &s.column {
        let scheduler = (cell.state == CellState::Pending && cell.reason == Reason::Unschedulable)
            .then(|| cell.detail.clone().unwrap_or_default())
            .filter(|d| d.contains("Insufficient"));
        let small = node.filter(|_| cell.counts.desired).and_then(|n| {
            let cpu = n
                .allocatable
                .cpu_millis
                .filter(|a| *a < t.cpu_request_millis);
            let memory = n
                .allocatable
                .memory_bytes
                .filter(|a| *a < t.memory_request_bytes);
            match (cpu, memory) {
                (Some(a), _) => Some(format!("allocatable cpu {a}m")),
                (_, Some(a)) => Some(format!("allocatable memory {a} bytes")),
                _ => None,
            }
        });
        if let Some(why) = scheduler.or(small) {
            if examples.len() < 2 {
                examples.push(format!("{name}: {why}"));
            }
            nodes.push((*name).to_owned());
        }
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    let (severity, class) = match &t.priority_class {
        None => (Severity::Critical, "no priorityClassName".to_owned()),
        Some(p) => (
            Severity::Warning,
            format!("priorityClassName {p} (its value is not checked)"),
        ),
    };
    let evidence = format!(
        "requests cpu {}m, memory {} bytes; does not fit {} ({}); {class}",
        t.cpu_request_millis,
        t.memory_request_bytes,
        names(&nodes),
        examples.join("; ")
    );
    let fix = "Give it a PriorityClass that preempts ordinary pods (system-node-critical for \
               node agents, or your own with a high value), so the scheduler evicts \
               lower-priority pods to make room on a full or replacement node; or lower its \
               requests below the nodes' allocatable.";
    vec![with_nodes(
        s.finding(Rule::PriorityUnfit, severity, evidence, fix),
        nodes,
    )]
}

fn rollout(s: &Subject<'_>) -> Vec<Finding> {
    let desired = s.column.iter().filter(|(_, _, c)| c.counts.desired).count() as i64;
    let updated = s.column.iter().filter(|(_, _, c)| c.counts.updated).count() as i64;
    let old = |usable: bool| -> Vec<String> {
        s.column
            .iter()
            .filter(|(_, _, c)| c.counts.desired && !c.counts.updated)
            .filter(|(_, node, c)| {
                if usable {
                    is_usable(*node)
                } else {
                    c.counts.current && node.is_some_and(NodeInfo::is_down)
                }
            })
            .map(|(name, _, _)| (*name).to_owned())
            .collect()
    };
    let (usable_old, down_old) = (old(true), old(false));
    let mut findings = Vec::new();
    let (max_unavailable, max_surge) = match s.info.template.update {
        UpdateStrategy::OnDelete => {
            let mut evidence = "updateStrategy OnDelete".to_owned();
            if !usable_old.is_empty() {
                evidence.push_str(&format!(
                    "; {} pods run an older template: {}",
                    usable_old.len(),
                    names(&usable_old)
                ));
            }
            let fix = "Use RollingUpdate, or delete the old pods one node at a time: with OnDelete \
                       a changed template reaches a node only when its pod is deleted.";
            findings.push(with_nodes(
                s.finding(Rule::OnDelete, Severity::Warning, evidence, fix),
                usable_old,
            ));
            return findings;
        }
        UpdateStrategy::RollingUpdate {
            max_unavailable,
            max_surge,
        } => (max_unavailable, max_surge),
    };
    let surge = max_surge.of(desired);
    let budget = match (max_unavailable.of(desired), surge) {
        (0, 0) => 1,
        (budget, _) => budget,
    };
    if !usable_old.is_empty()
        && !down_old.is_empty()
        && surge == 0
        && down_old.len() as i64 >= budget
    {
        let evidence = format!(
            "updated {updated} of {desired}; old pods on down nodes {} count as unavailable and \
             use up maxUnavailable {max_unavailable} ({budget} pod(s)); {} pod(s) on usable \
             nodes wait for the new template",
            names(&down_old),
            usable_old.len()
        );
        let fix = "Delete the dead node's Node object (kubectl delete node NAME) or taint it \
                   node.kubernetes.io/out-of-service=nodeshutdown:NoExecute so that its pods go; \
                   the rollout then continues. Raise maxUnavailable (e.g. 10%) so that one dead \
                   node does not stall the next one.";
        findings.push(with_nodes(
            s.finding(
                Rule::RolloutBlockedByDeadNode,
                Severity::Critical,
                evidence,
                fix,
            ),
            down_old,
        ));
    } else if !usable_old.is_empty() {
        let evidence = format!(
            "updated {updated} of {desired}; {} pod(s) on usable nodes run an older template: {}",
            usable_old.len(),
            names(&usable_old)
        );
        let fix = "Follow `kubectl rollout status daemonset/NAME`; if it does not move, read the \
                   events of the old pods and of the new ones that replace them.";
        findings.push(with_nodes(
            s.finding(Rule::RolloutIncomplete, Severity::Warning, evidence, fix),
            usable_old,
        ));
    }
    if budget <= 1 && surge == 0 && desired > 1 {
        let evidence = format!(
            "maxUnavailable {max_unavailable} and maxSurge {max_surge} of {desired} pods: one \
             unavailable pod, such as a dead node's, uses the whole budget"
        );
        let fix = "Set maxUnavailable to a share that outlasts a dead node, e.g. 10% or 2 (or use \
                   maxSurge for agents that bind no host port).";
        findings.push(s.finding(Rule::OneNodeBudget, Severity::Warning, evidence, fix));
    }
    findings
}

fn tolerates_everything(s: &Subject<'_>) -> Vec<Finding> {
    let everything = s
        .info
        .placement
        .tolerations
        .iter()
        .any(|t| t.key.is_empty() && t.operator == "Exists" && t.effect.is_none());
    if !everything {
        return Vec::new();
    }
    let mut nodes = Vec::new();
    let mut shown = Vec::new();
    for (name, node, cell) in &s.column {
        let Some(node) = node.filter(|_| cell.counts.desired) else {
            continue;
        };
        let taints: Vec<String> = node
            .taints
            .iter()
            .filter(|t| !is_lifecycle_taint(t) && t.effect != TaintEffect::PreferNoSchedule)
            .map(|t| format!("{}={}:{}", t.key, t.value, t.effect.as_str()))
            .collect();
        if !taints.is_empty() {
            if shown.len() < SHOWN {
                shown.push(format!("{name} ({})", taints.join(", ")));
            }
            nodes.push((*name).to_owned());
        }
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    let evidence = format!(
        "a toleration with operator Exists and no key; it runs on tainted nodes: {}",
        shown.join(", ")
    );
    let fix = "Tolerate only the taints of the pools it must run on (key and effect). An empty \
               key also keeps it on nodes being drained for deletion and on control-plane nodes.";
    vec![with_nodes(
        s.finding(Rule::ToleratesEverything, Severity::Info, evidence, fix),
        nodes,
    )]
}

fn missing_toleration(s: &Subject<'_>) -> Vec<Finding> {
    let mut nodes = Vec::new();
    let mut shown = Vec::new();
    for (name, node, cell) in &s.column {
        if cell.state != CellState::Excluded || cell.reason != Reason::Taint {
            continue;
        }
        // Placement checks name, selector and affinity before taints: this node matched them.
        let Some(node) = node else { continue };
        let blocking: Vec<String> = node
            .taints
            .iter()
            .filter(|t| !is_lifecycle_taint(t))
            .filter(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
            .map(|t| format!("{}={}:{}", t.key, t.value, t.effect.as_str()))
            .collect();
        if !blocking.is_empty() {
            if shown.len() < SHOWN {
                shown.push(format!("{name} ({})", blocking.join(", ")));
            }
            nodes.push((*name).to_owned());
        }
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    let evidence = format!(
        "nodes that match its selector and affinity but carry a taint it does not tolerate: {}",
        shown.join(", ")
    );
    let fix = "If it must run there, add a toleration for that key and effect; if not, narrow \
               its nodeSelector so that the intent is written down.";
    vec![with_nodes(
        s.finding(Rule::MissingToleration, Severity::Info, evidence, fix),
        nodes,
    )]
}

fn selector_matches_no_node(s: &Subject<'_>) -> Vec<Finding> {
    let existing: Vec<&Cell> = s
        .column
        .iter()
        .filter(|(_, node, _)| node.is_some())
        .map(|(_, _, c)| c)
        .collect();
    let unmatched = |c: &&Cell| {
        c.state == CellState::Excluded
            && matches!(
                c.reason,
                Reason::NodeSelector | Reason::NodeAffinity | Reason::NodeName
            )
    };
    if existing.is_empty() || !existing.iter().all(unmatched) {
        return Vec::new();
    }
    let placement = &s.info.placement;
    let selector: Vec<String> = placement
        .node_selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let evidence = format!(
        "nodeSelector {{{}}}{}{} matches none of {} nodes",
        selector.join(", "),
        if placement.required_affinity.is_some() {
            " with a required node affinity"
        } else {
            ""
        },
        placement
            .node_name
            .as_deref()
            .map(|n| format!(", nodeName {n}"))
            .unwrap_or_default(),
        existing.len()
    );
    let fix = "Label the nodes it should run on, or correct the selector; until then it runs \
               nowhere and its status says desired 0, which no usual alert notices.";
    vec![s.finding(
        Rule::SelectorMatchesNoNode,
        Severity::Warning,
        evidence,
        fix,
    )]
}

fn not_running_where_it_should(s: &Subject<'_>, now: Timestamp) -> Vec<Finding> {
    let mut nodes = Vec::new();
    let mut shown = Vec::new();
    let mut actionable = false;
    for (name, node, cell) in &s.column {
        if !matches!(cell.state, CellState::Missing | CellState::Pending) || node.is_none() {
            continue;
        }
        actionable |= cell.is_actionable(now);
        if shown.len() < SHOWN {
            let detail = cell
                .detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            shown.push(format!(
                "{name} {} ({}{detail})",
                cell.state.as_str(),
                cell.reason
            ));
        }
        nodes.push((*name).to_owned());
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    let severity = if actionable {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let evidence = format!(
        "{} node(s) should run it and do not: {}",
        nodes.len(),
        shown.join("; ")
    );
    let fix = "Read the reason per node in `dsguard check --daemonset NAMESPACE/NAME`: a Pending \
               pod names the scheduler's or kubelet's cause; a missing one points at the \
               controller.";
    vec![with_nodes(
        s.finding(Rule::NotRunningWhereItShould, severity, evidence, fix),
        nodes,
    )]
}

fn template_hygiene(s: &Subject<'_>) -> Vec<Finding> {
    let t = &s.info.template;
    let mut findings = Vec::new();
    if !t.without_readiness_probe.is_empty() {
        let evidence = format!(
            "containers without a readinessProbe: {}",
            t.without_readiness_probe.join(", ")
        );
        let fix = "Add a readinessProbe that checks the agent works (its health endpoint, say): \
                   without one, ready and available mean only that the process started, and a \
                   broken agent counts as healthy.";
        findings.push(s.finding(Rule::NoReadinessProbe, Severity::Warning, evidence, fix));
    }
    if !t.without_requests.is_empty() {
        let evidence = format!(
            "containers without CPU or memory requests: {}",
            t.without_requests.join(", ")
        );
        let fix = "Request the CPU and memory it needs: BestEffort pods are evicted first under \
                   node pressure, and the scheduler places them on nodes that are already full.";
        findings.push(s.finding(Rule::NoResourceRequests, Severity::Warning, evidence, fix));
    }
    findings
}

fn no_pre_stop(s: &Subject<'_>) -> Vec<Finding> {
    if s.info.template.has_pre_stop {
        return Vec::new();
    }
    let evidence = format!(
        "no container has a preStop hook; terminationGracePeriodSeconds {}",
        s.info.template.termination_grace_seconds
    );
    let fix = "If the agent buffers data or registers itself somewhere, add a preStop hook that \
               flushes or deregisters: on a graceful node shutdown or a rollout, SIGTERM is all \
               it gets otherwise.";
    vec![s.finding(Rule::NoPreStop, Severity::Info, evidence, fix)]
}

fn termination_grace(s: &Subject<'_>, options: &AuditOptions) -> Vec<Finding> {
    let Some(shutdown) = options.node_shutdown_grace else {
        return Vec::new();
    };
    let grace = SignedDuration::from_secs(s.info.template.termination_grace_seconds);
    if grace <= shutdown {
        return Vec::new();
    }
    let evidence = format!(
        "terminationGracePeriodSeconds {} is longer than the kubelets' shutdownGracePeriod {}s",
        s.info.template.termination_grace_seconds,
        shutdown.as_secs()
    );
    let fix = "Shorten terminationGracePeriodSeconds below the node's shutdown grace (or raise \
               shutdownGracePeriodCriticalPods for it): on a node shutdown the pod is killed \
               when the node's grace ends, whatever its own says.";
    vec![s.finding(
        Rule::TerminationGraceOverShutdown,
        Severity::Warning,
        evidence,
        fix,
    )]
}
