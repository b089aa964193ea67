//! Settings that used to pass validation and fail later, or never: an unusable
//! `notify.state_dir` and zero intervals. `dsguard notify list` loads and validates the settings
//! and must stop with exit code 2, naming the key.

use std::process::Command;

fn refused_key(name: &str, yaml: &str) -> String {
    let dir = std::env::temp_dir().join(format!("dsguard-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join(format!("{name}.yaml"));
    std::fs::write(&config, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args(["notify", "list", "--config", config.to_str().unwrap()])
        .output()
        .expect("dsguard runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    stderr
}

#[test]
fn an_unusable_state_dir_is_refused_naming_the_key() {
    let file = std::env::temp_dir().join(format!("dsguard-refused-file-{}", std::process::id()));
    std::fs::write(&file, "").unwrap();
    let under_file = file.join("state");
    for (name, dir) in [
        ("under-a-file", under_file.to_str().unwrap()),
        ("in-proc", "/proc/dsguard-state"),
    ] {
        let stderr = refused_key(name, &format!("notify:\n  state_dir: {dir}\n"));
        assert!(
            stderr.contains("setting notify.state_dir:") && stderr.contains(dir),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_file(&file);
}

#[test]
fn zero_intervals_are_refused_naming_the_key() {
    for (name, yaml, key) in [
        (
            "group-interval",
            "alerting:\n  route: { group_interval: 0s }\n",
            "alerting.route.group_interval",
        ),
        (
            "repeat-interval",
            "alerting:\n  route: { routes: [ { repeat_interval: 0s } ] }\n",
            "alerting.route.routes[0].repeat_interval",
        ),
        (
            "retry",
            "notify:\n  retry: { initial_backoff: 0s }\n",
            "notify.retry.initial_backoff",
        ),
    ] {
        let stderr = refused_key(name, yaml);
        assert!(
            stderr.contains(&format!("setting {key}: must be more than zero")),
            "{stderr}"
        );
    }
}
