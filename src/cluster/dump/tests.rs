use super::*;

fn read(text: &str) -> Result<Inventory, InputError> {
    let mut inventory = Inventory::default();
    inventory.add_document("dump.json", text)?;
    Ok(inventory)
}

#[test]
fn malformed_json_names_the_file_and_the_position() {
    let err = read("{\"kind\": \"List\", \"items\": [}")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("dump.json: not valid JSON: "), "{err}");
    assert!(err.contains("line 1 column"), "{err}");
}

#[test]
fn unknown_kinds_are_skipped_and_counted() {
    let inventory = read(
        r#"{"kind": "List", "items": [
            {"kind": "ConfigMap", "metadata": {"name": "a"}},
            {"kind": "ConfigMap", "metadata": {"name": "b"}},
            {"kind": "Service", "metadata": {"name": "c"}},
            {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "n1"}}]}"#,
    )
    .unwrap();
    assert_eq!(inventory.nodes.len(), 1);
    assert_eq!(inventory.skipped.get("ConfigMap"), Some(&2));
    assert_eq!(inventory.skipped.get("Service"), Some(&1));
}

#[test]
fn an_object_with_a_wrong_field_type_names_the_object_and_the_field() {
    let err = read(
        r#"{"kind": "List", "items": [
            {"kind": "Pod", "metadata": {"name": "agent-x", "namespace": "kube-system"},
             "spec": {"containers": [], "nodeName": 7}}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "dump.json: items[0] (Pod kube-system/agent-x): field spec.nodeName: invalid type: integer `7`, expected a string"
    );
}

#[test]
fn an_object_without_a_name_is_a_projection_error() {
    let err = read(r#"{"kind": "NodeList", "items": [{"metadata": {}}]}"#)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "dump.json: items[0] (Node <unnamed>): Node <unnamed> has no metadata.name"
    );
}

#[test]
fn a_document_that_is_not_a_kubernetes_object_is_rejected() {
    let err = read("[1, 2]").unwrap_err().to_string();
    assert!(err.contains("no \"kind\""), "{err}");
    let err = read(r#"{"kind": "List"}"#).unwrap_err().to_string();
    assert_eq!(err, "dump.json: a List without an \"items\" array");
}

#[test]
fn an_input_over_the_limit_is_refused_naming_it_and_the_limit() {
    let path = std::env::temp_dir().join(format!("dsguard-dump-{}.json", std::process::id()));
    std::fs::write(
        &path,
        format!("{{\"kind\": \"List\", \"items\": []}}{}", " ".repeat(2048)),
    )
    .unwrap();
    let mut inventory = Inventory::default();
    let err = inventory.read(&path, 1024).unwrap_err().to_string();
    assert!(err.starts_with(&path.display().to_string()), "{err}");
    assert!(
        err.contains("limit of 1024 bytes (1 KiB)") && err.contains("--max-input-size"),
        "{err}"
    );
    assert!(inventory.read(&path, 4096).is_ok());
    let _ = std::fs::remove_file(&path);
    assert_eq!(human_bytes(&DEFAULT_MAX_INPUT_BYTES), "512 MiB");
}

#[test]
fn a_single_object_is_accepted() {
    let inventory = read(r#"{"kind": "Node", "metadata": {"name": "n1"}}"#).unwrap();
    assert_eq!(inventory.nodes[0].name, "n1");
}
