//! `dsguard sim` on the command line: bad scenario files and bad flags are refused with a
//! message that names the line and the field, and a good file passes `--check`.

use std::process::Command;

fn sim(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .arg("sim")
        .args(args)
        .output()
        .expect("dsguard runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("dsguard-sim-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write scenario");
    path
}

const BASE: &str =
    "name: t\nnodes:\n  - name: w\n    count: 2\ndaemonsets:\n  - name: agent\ntimeline:\n";

#[test]
fn a_misspelt_field_is_refused_with_its_line() {
    let path = write(
        "typo.yaml",
        &format!("{BASE}  - at: 10s\n    fail_nod: w-1\n"),
    );
    let (code, _, stderr) = sim(&["--check", "--scenario", path.to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("line 9") && stderr.contains("fail_nod"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn an_unknown_node_is_refused_with_its_line_and_field() {
    let path = write("ref.yaml", &format!("{BASE}  - at: 10s\n    cordon: w-7\n"));
    let (code, _, stderr) = sim(&["--check", "--scenario", path.to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("line 9")
            && stderr.contains("timeline[0].cordon")
            && stderr.contains("w-7"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_shipped_scenario_passes_the_check() {
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/dsguard-sim/scenarios/demo.yaml"
    );
    let (code, stdout, stderr) = sim(&["--check", "--scenario", demo]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("scenario `demo` is valid: 5 nodes, 3 DaemonSets"),
        "{stdout}"
    );
}

#[test]
fn bad_flags_are_refused() {
    let (code, _, stderr) = sim(&["--generate", "nodes=lots"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nodes=lots"), "{stderr}");
    let (code, _, stderr) = sim(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--scenario"), "{stderr}");
    let missing = sim(&["--scenario", "/nonexistent/scenario.yaml"]);
    assert_eq!(missing.0, 2);
    assert!(
        missing
            .2
            .contains("cannot read scenario file /nonexistent/scenario.yaml"),
        "{}",
        missing.2
    );
}
