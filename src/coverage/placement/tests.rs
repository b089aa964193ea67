//! Table-driven placement cases. Each names the rule of the DaemonSet controller
//! (`NodeShouldRunDaemonPod` and the helpers it calls) that it checks.

use super::*;
use crate::cluster::build::{daemonset, field_term, node, requirement as req, term};
use crate::cluster::{DaemonSetInfo, TaintEffect::*};
use crate::cluster::{
    TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY,
    TAINT_OUT_OF_SERVICE, TAINT_PID_PRESSURE, TAINT_UNREACHABLE,
};

/// (should_run, should_continue_running, exclusion code).
type Want = (bool, bool, Option<&'static str>);

const RUN: Want = (true, true, None);
const CONTINUE_ONLY_TAINT: Want = (false, true, Some("taint"));
const EVICT_TAINT: Want = (false, false, Some("taint"));
const NOT_SELECTED: Want = (false, false, Some("node_selector"));
const NOT_AFFINE: Want = (false, false, Some("node_affinity"));
const OTHER_NODE: Want = (false, false, Some("node_name"));

struct Case {
    rule: &'static str,
    ds: DaemonSetInfo,
    node: NodeInfo,
    want: Want,
}

fn ds() -> DaemonSetInfo {
    daemonset("ns", "agent")
}

fn case(rule: &'static str, ds: DaemonSetInfo, node: NodeInfo, want: Want) -> Case {
    Case {
        rule,
        ds,
        node,
        want,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // Template nodeName.
        case(
            "no constraints: runs on every untainted node",
            ds(),
            node("n1"),
            RUN,
        ),
        case(
            "template nodeName equal to the node: runs",
            ds().on_node("n1"),
            node("n1"),
            RUN,
        ),
        case(
            "template nodeName of another node: neither run nor continue",
            ds().on_node("n2"),
            node("n1"),
            OTHER_NODE,
        ),
        // nodeSelector.
        case(
            "nodeSelector matching the node's labels: runs",
            ds().node_selector("zone", "a"),
            node("n1").labelled("zone", "a"),
            RUN,
        ),
        case(
            "nodeSelector with another value: neither",
            ds().node_selector("zone", "a"),
            node("n1").labelled("zone", "b"),
            NOT_SELECTED,
        ),
        case(
            "nodeSelector on an absent label: neither",
            ds().node_selector("zone", "a"),
            node("n1"),
            NOT_SELECTED,
        ),
        case(
            "nodeSelector: every entry must match",
            ds().node_selector("zone", "a").node_selector("disk", "ssd"),
            node("n1").labelled("zone", "a"),
            NOT_SELECTED,
        ),
        case(
            "nodeSelector with an empty value matches an empty label",
            ds().node_selector("edge", ""),
            node("n1").labelled("edge", ""),
            RUN,
        ),
        // Required node affinity: operators.
        case(
            "affinity In: label value in the set",
            ds().affinity(vec![term(&[req("zone", "In", &["a", "b"])])]),
            node("n1").labelled("zone", "b"),
            RUN,
        ),
        case(
            "affinity In: label value outside the set",
            ds().affinity(vec![term(&[req("zone", "In", &["a", "b"])])]),
            node("n1").labelled("zone", "c"),
            NOT_AFFINE,
        ),
        case(
            "affinity In: absent label",
            ds().affinity(vec![term(&[req("zone", "In", &["a"])])]),
            node("n1"),
            NOT_AFFINE,
        ),
        case(
            "affinity NotIn: absent label matches",
            ds().affinity(vec![term(&[req("zone", "NotIn", &["a", "b"])])]),
            node("n1"),
            RUN,
        ),
        case(
            "affinity NotIn: value in the set does not match",
            ds().affinity(vec![term(&[req("zone", "NotIn", &["a", "b"])])]),
            node("n1").labelled("zone", "a"),
            NOT_AFFINE,
        ),
        case(
            "affinity Exists: label present with any value",
            ds().affinity(vec![term(&[req("gpu", "Exists", &[])])]),
            node("n1").labelled("gpu", ""),
            RUN,
        ),
        case(
            "affinity Exists: label absent",
            ds().affinity(vec![term(&[req("gpu", "Exists", &[])])]),
            node("n1"),
            NOT_AFFINE,
        ),
        case(
            "affinity DoesNotExist: label absent",
            ds().affinity(vec![term(&[req("gpu", "DoesNotExist", &[])])]),
            node("n1"),
            RUN,
        ),
        case(
            "affinity DoesNotExist: label present",
            ds().affinity(vec![term(&[req("gpu", "DoesNotExist", &[])])]),
            node("n1").labelled("gpu", "x"),
            NOT_AFFINE,
        ),
        case(
            "affinity Gt: numeric label greater",
            ds().affinity(vec![term(&[req("cores", "Gt", &["4"])])]),
            node("n1").labelled("cores", "8"),
            RUN,
        ),
        case(
            "affinity Gt: numeric label equal is not greater",
            ds().affinity(vec![term(&[req("cores", "Gt", &["4"])])]),
            node("n1").labelled("cores", "4"),
            NOT_AFFINE,
        ),
        case(
            "affinity Lt: numeric label smaller",
            ds().affinity(vec![term(&[req("cores", "Lt", &["4"])])]),
            node("n1").labelled("cores", "-2"),
            RUN,
        ),
        case(
            "affinity Gt: non-numeric node label never matches",
            ds().affinity(vec![term(&[req("cores", "Gt", &["4"])])]),
            node("n1").labelled("cores", "many"),
            NOT_AFFINE,
        ),
        case(
            "affinity Gt: non-numeric value is a parse error, the term matches nothing",
            ds().affinity(vec![term(&[req("cores", "Gt", &["four"])])]),
            node("n1").labelled("cores", "8"),
            NOT_AFFINE,
        ),
        case(
            "affinity Lt: two values is a parse error",
            ds().affinity(vec![term(&[req("cores", "Lt", &["4", "5"])])]),
            node("n1").labelled("cores", "1"),
            NOT_AFFINE,
        ),
        case(
            "affinity In with no values is a parse error",
            ds().affinity(vec![term(&[req("zone", "In", &[])])]),
            node("n1").labelled("zone", "a"),
            NOT_AFFINE,
        ),
        case(
            "affinity Exists with values is a parse error",
            ds().affinity(vec![term(&[req("zone", "Exists", &["a"])])]),
            node("n1").labelled("zone", "a"),
            NOT_AFFINE,
        ),
        case(
            "affinity unknown operator is a parse error",
            ds().affinity(vec![term(&[req("zone", "Like", &["a"])])]),
            node("n1").labelled("zone", "a"),
            NOT_AFFINE,
        ),
        case(
            "affinity invalid label key is a parse error",
            ds().affinity(vec![term(&[req("bad key", "Exists", &[])])]),
            node("n1").labelled("bad key", "a"),
            NOT_AFFINE,
        ),
        // Required node affinity: terms.
        case(
            "affinity: terms are OR'ed",
            ds().affinity(vec![
                term(&[req("zone", "In", &["a"])]),
                term(&[req("role", "Exists", &[])]),
            ]),
            node("n1").labelled("role", "infra"),
            RUN,
        ),
        case(
            "affinity: requirements within a term are AND'ed",
            ds().affinity(vec![term(&[
                req("zone", "In", &["a"]),
                req("role", "Exists", &[]),
            ])]),
            node("n1").labelled("zone", "a"),
            NOT_AFFINE,
        ),
        case(
            "affinity: a term with a parse error does not spoil a valid one",
            ds().affinity(vec![
                term(&[req("zone", "In", &[])]),
                term(&[req("zone", "In", &["a"])]),
            ]),
            node("n1").labelled("zone", "a"),
            RUN,
        ),
        case(
            "affinity: an empty term matches no node",
            ds().affinity(vec![term(&[])]),
            node("n1"),
            NOT_AFFINE,
        ),
        case(
            "affinity: no terms at all matches no node",
            ds().affinity(vec![]),
            node("n1"),
            NOT_AFFINE,
        ),
        case(
            "affinity and nodeSelector must both match",
            ds().node_selector("zone", "a")
                .affinity(vec![term(&[req("role", "Exists", &[])])]),
            node("n1").labelled("role", "x"),
            NOT_SELECTED,
        ),
        // matchFields.
        case(
            "matchFields metadata.name In the node: runs",
            ds().affinity(vec![field_term(&[req("metadata.name", "In", &["n1"])])]),
            node("n1"),
            RUN,
        ),
        case(
            "matchFields metadata.name In another node",
            ds().affinity(vec![field_term(&[req("metadata.name", "In", &["n2"])])]),
            node("n1"),
            NOT_AFFINE,
        ),
        case(
            "matchFields metadata.name NotIn the node",
            ds().affinity(vec![field_term(&[req("metadata.name", "NotIn", &["n1"])])]),
            node("n1"),
            NOT_AFFINE,
        ),
        case(
            "matchFields metadata.name NotIn another node: runs",
            ds().affinity(vec![field_term(&[req("metadata.name", "NotIn", &["n2"])])]),
            node("n1"),
            RUN,
        ),
        case(
            "matchFields on a field other than metadata.name is a parse error",
            ds().affinity(vec![field_term(&[req("metadata.uid", "In", &["n1"])])]),
            node("n1"),
            NOT_AFFINE,
        ),
        case(
            "matchFields In with two values is a parse error",
            ds().affinity(vec![field_term(&[req(
                "metadata.name",
                "In",
                &["n1", "n2"],
            )])]),
            node("n1"),
            NOT_AFFINE,
        ),
        // Taints and tolerations.
        case(
            "untolerated NoSchedule taint: should not run, may continue",
            ds(),
            node("n1").tainted("gpu", NoSchedule),
            CONTINUE_ONLY_TAINT,
        ),
        case(
            "untolerated NoExecute taint: neither",
            ds(),
            node("n1").tainted("gpu", NoExecute),
            EVICT_TAINT,
        ),
        case(
            "PreferNoSchedule taints are ignored by the controller",
            ds(),
            node("n1").tainted("gpu", PreferNoSchedule),
            RUN,
        ),
        case(
            "Equal toleration with the same value tolerates",
            ds().tolerates("dedicated", "Equal", "infra", Some(NoExecute)),
            node("n1").tainted_with("dedicated", "infra", NoExecute),
            RUN,
        ),
        case(
            "Equal toleration with another value does not",
            ds().tolerates("dedicated", "Equal", "web", Some(NoExecute)),
            node("n1").tainted_with("dedicated", "infra", NoExecute),
            EVICT_TAINT,
        ),
        case(
            "empty operator means Equal",
            ds().tolerates("dedicated", "", "infra", None),
            node("n1").tainted_with("dedicated", "infra", NoSchedule),
            RUN,
        ),
        case(
            "Exists toleration ignores the value",
            ds().tolerates("dedicated", "Exists", "", Some(NoSchedule)),
            node("n1").tainted_with("dedicated", "anything", NoSchedule),
            RUN,
        ),
        case(
            "toleration for another effect does not tolerate",
            ds().tolerates("gpu", "Exists", "", Some(NoSchedule)),
            node("n1").tainted("gpu", NoExecute),
            EVICT_TAINT,
        ),
        case(
            "toleration with empty effect tolerates every effect",
            ds().tolerates("gpu", "Exists", "", None),
            node("n1")
                .tainted("gpu", NoExecute)
                .tainted("gpu", NoSchedule),
            RUN,
        ),
        case(
            "empty key with operator Exists tolerates every taint",
            ds().tolerates_everything(),
            node("n1").tainted("a", NoExecute).tainted("b", NoSchedule),
            RUN,
        ),
        case(
            "empty key with operator Exists and an effect tolerates only that effect",
            ds().tolerates("", "Exists", "", Some(NoSchedule)),
            node("n1").tainted("a", NoSchedule).tainted("b", NoExecute),
            EVICT_TAINT,
        ),
        case(
            "unknown toleration operator tolerates nothing",
            ds().tolerates("gpu", "Matches", "", None),
            node("n1").tainted("gpu", NoSchedule),
            CONTINUE_ONLY_TAINT,
        ),
        case(
            "one untolerated NoExecute among tolerated taints: neither",
            ds().tolerates("a", "Exists", "", None),
            node("n1").tainted("a", NoExecute).tainted("b", NoExecute),
            EVICT_TAINT,
        ),
        // Tolerations the controller adds to daemon pods.
        case(
            "unreachable node (NoSchedule + NoExecute): should not run, may continue",
            ds(),
            node("n1").unreachable(),
            CONTINUE_ONLY_TAINT,
        ),
        case(
            "not-ready node (NoSchedule + NoExecute): should not run, may continue",
            ds(),
            node("n1").not_ready(),
            CONTINUE_ONLY_TAINT,
        ),
        case(
            "unreachable node with a pod tolerating everything: runs",
            ds().tolerates_everything(),
            node("n1").unreachable(),
            RUN,
        ),
        case(
            "not-ready NoExecute alone is tolerated by default",
            ds(),
            node("n1").tainted(TAINT_NOT_READY, NoExecute),
            RUN,
        ),
        case(
            "unreachable NoExecute alone is tolerated by default",
            ds(),
            node("n1").tainted(TAINT_UNREACHABLE, NoExecute),
            RUN,
        ),
        case(
            "cordoned node: unschedulable NoSchedule is tolerated by default",
            ds(),
            node("n1").cordoned(),
            RUN,
        ),
        case(
            "disk, memory and pid pressure NoSchedule are tolerated by default",
            ds(),
            node("n1")
                .tainted(TAINT_DISK_PRESSURE, NoSchedule)
                .tainted(TAINT_MEMORY_PRESSURE, NoSchedule)
                .tainted(TAINT_PID_PRESSURE, NoSchedule),
            RUN,
        ),
        case(
            "memory pressure with effect NoExecute is not a default toleration",
            ds(),
            node("n1").tainted(TAINT_MEMORY_PRESSURE, NoExecute),
            EVICT_TAINT,
        ),
        case(
            "network-unavailable is not tolerated without hostNetwork",
            ds(),
            node("n1").tainted(TAINT_NETWORK_UNAVAILABLE, NoSchedule),
            CONTINUE_ONLY_TAINT,
        ),
        case(
            "network-unavailable is tolerated with hostNetwork",
            ds().host_network(),
            node("n1").tainted(TAINT_NETWORK_UNAVAILABLE, NoSchedule),
            RUN,
        ),
        case(
            "out-of-service NoExecute evicts even daemon pods",
            ds(),
            node("n1").tainted_with(TAINT_OUT_OF_SERVICE, "nodeshutdown", NoExecute),
            EVICT_TAINT,
        ),
        // Order of the rules.
        case(
            "nodeSelector is checked before taints",
            ds().node_selector("zone", "a"),
            node("n1").tainted("gpu", NoExecute),
            NOT_SELECTED,
        ),
    ]
}

mod table;
