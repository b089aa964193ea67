use super::*;

#[test]
fn the_kubeconfig_points_at_the_server() {
    let text = kubeconfig("http://127.0.0.1:4567");
    assert!(text.contains("server: http://127.0.0.1:4567"));
    assert!(text.contains("current-context: dsguard-sim"));
}
