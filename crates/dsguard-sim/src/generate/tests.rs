use super::*;

#[test]
fn a_generated_cluster_has_the_asked_size_and_validates() {
    let spec: GenerateSpec = "nodes=5000,daemonsets=20,fail=3".parse().expect("parses");
    let scenario = generate(&spec);
    assert_eq!(scenario.initial_nodes().len(), 5000);
    assert_eq!(scenario.daemonsets.len(), 20);
    assert_eq!(scenario.timeline.len(), 6);
    scenario.validate().expect("valid");
}

#[test]
fn bad_generate_specs_say_what_is_wrong() {
    assert!("nodes=abc".parse::<GenerateSpec>().is_err());
    assert!(
        "pods=3"
            .parse::<GenerateSpec>()
            .unwrap_err()
            .reason
            .contains("unknown key")
    );
    assert!("nodes=0".parse::<GenerateSpec>().is_err());
}
