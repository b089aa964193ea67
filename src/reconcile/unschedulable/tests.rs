use super::*;

#[test]
fn insufficient_resources_and_taints_are_read_from_the_message() {
    let message = "0/8 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, \
                       2 node(s) had untolerated taint {dedicated: infra}, 4 node(s) didn't \
                       match Pod's node affinity/selector. preemption: 0/8 nodes are \
                       available: 1 Insufficient cpu.";
    assert_eq!(
        causes(message),
        vec![
            Cause::Insufficient("cpu".to_owned()),
            Cause::Insufficient("memory".to_owned()),
            Cause::Affinity,
            Cause::UntoleratedTaint("dedicated: infra".to_owned()),
        ]
    );
}

#[test]
fn insufficient_cpu_advises_the_node_critical_priority_class() {
    let ds = ObjectKey::new("kube-system", "agent");
    let (words, command) = advice(&ds, None, "0/1 nodes are available: 1 Insufficient cpu.");
    assert!(words.contains("system-node-critical"), "{words}");
    assert!(command.contains("priorityClassName"), "{command}");
    assert!(command.starts_with("kubectl -n kube-system patch daemonset agent"));
}

#[test]
fn an_untolerated_taint_advises_a_toleration_for_its_key() {
    let ds = ObjectKey::new("ns", "agent");
    let message = "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}.";
    let (words, command) = advice(&ds, None, message);
    assert!(words.contains("toleration"), "{words}");
    assert!(command.contains(r#""key":"gpu""#), "{command}");
}

#[test]
fn an_unknown_message_falls_back_to_describing_the_pod() {
    let ds = ObjectKey::new("ns", "agent");
    let pod = ObjectKey::new("ns", "agent-x");
    let (words, command) = advice(&ds, Some(&pod), "something new");
    assert!(words.contains("something new"));
    assert_eq!(command, "kubectl -n ns describe pod agent-x");
}
