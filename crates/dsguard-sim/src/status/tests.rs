use super::*;

fn fixture_body(text: &str) -> Value {
    let body = text.split("\n\n").nth(1).expect("fixture has a body");
    serde_json::from_str(body).expect("fixture body is json")
}

#[test]
fn not_found_status_matches_the_real_server_byte_for_byte() {
    let error = ApiError::NotFound {
        plural: "nodes".into(),
        name: "does-not-exist".into(),
    };
    let real = "HTTP 404\nContent-Type: application/json\n\n{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"nodes \\\"does-not-exist\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"does-not-exist\",\"kind\":\"nodes\"},\"code\":404}";
    assert_eq!(error.to_status(), fixture_body(real));
    assert_eq!(error.code(), 404);
}

#[test]
fn conflict_status_names_the_object_like_the_real_server() {
    let error = ApiError::Conflict {
        plural: "nodes".into(),
        group: String::new(),
        name: "w-1".into(),
    };
    let status = error.to_status();
    assert_eq!(
        status["message"],
        "Operation cannot be fulfilled on nodes \"w-1\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(status["code"], 409);
    assert_eq!(status["reason"], "Conflict");
}

#[test]
fn conflict_and_already_exists_on_a_grouped_resource_name_the_group_like_the_real_server() {
    let conflict = ApiError::Conflict {
        plural: "leases".into(),
        group: "coordination.k8s.io".into(),
        name: "dsguard".into(),
    }
    .to_status();
    assert_eq!(
        conflict["message"],
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"dsguard\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(
        conflict["details"],
        json!({"name": "dsguard", "group": "coordination.k8s.io", "kind": "leases"})
    );
    let exists = ApiError::AlreadyExists {
        plural: "configmaps".into(),
        group: String::new(),
        name: "dsguard-state".into(),
    }
    .to_status();
    assert_eq!(
        exists["message"],
        "configmaps \"dsguard-state\" already exists"
    );
    assert_eq!(exists["reason"], "AlreadyExists");
    assert_eq!(exists["code"], 409);
    assert_eq!(
        exists["details"],
        json!({"name": "dsguard-state", "kind": "configmaps"})
    );
}
