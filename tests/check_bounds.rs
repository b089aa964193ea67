//! `dsguard check` on hostile input: names too long for a terminal table or carrying escape
//! sequences, and inputs without end (`/dev/zero`, an endless pipe).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn dsguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args(args)
        .output()
        .expect("dsguard runs")
}

fn temp_file(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("dsguard-check-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The loose-ends dump (one node, one DaemonSet whose pod is pending there: one gap) with a node
/// name of 65,536 characters and terminal escapes in the node's and the DaemonSet's names.
fn hostile_dump() -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/loose-ends.json"),
    )
    .unwrap();
    let node = format!(
        "\"n\\u001b[2J\\u001b]0;owned\\u0007{}\"",
        "x".repeat(65_536)
    );
    text.replace("\"n1\"", &node)
        .replace("\"fresh\"", "\"fresh\\u001b[31mRED\\u202e\"")
}

#[test]
fn a_65536_character_name_with_escapes_neither_panics_nor_reaches_the_terminal_raw() {
    let path = temp_file("hostile.json", hostile_dump().as_bytes());
    let out = dsguard(&["check", "--input", &path, "--at", "2026-11-22T12:00:00Z"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {stderr}",
        out.status
    );
    assert!(stdout.contains("GAPS (1)"), "{stdout}");
    for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!stdout.contains(raw), "raw {raw:?} in the report");
    }
    assert!(
        stdout.contains("fresh\\u{1b}[31mRED"),
        "escaped, not dropped"
    );
    assert!(
        stdout.contains('…'),
        "the long name is cut with an ellipsis"
    );
    let longest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 2_000, "a line of {longest} characters");
}

#[test]
fn dev_zero_is_refused_with_the_file_and_the_limit() {
    let out = dsguard(&["check", "--input", "/dev/zero", "--max-input-size", "1MiB"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/dev/zero: larger than the limit of 1048576 bytes (1 MiB)")
            && stderr.contains("--max-input-size"),
        "{stderr}"
    );
}

#[test]
fn a_large_file_or_pipe_is_refused_and_the_flag_raises_the_limit() {
    let mut big = br#"{"kind": "List", "items": []}"#.to_vec();
    big.resize(3 << 20, b' ');
    let path = temp_file("big.json", &big);
    let out = dsguard(&["check", "--input", &path, "--max-input-size", "2MiB"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{path}: larger than the limit")),
        "{stderr}"
    );
    let out = dsguard(&["check", "--input", &path, "--max-input-size", "4MiB"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args(["check", "--input", "-", "--max-input-size", "1MiB"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The writer sees a broken pipe once dsguard stops reading: that is the point.
    let _ = child.stdin.take().unwrap().write_all(&big);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("<stdin>: larger than the limit of 1048576 bytes"),
        "{stderr}"
    );
}

#[test]
fn a_bad_size_is_refused_by_the_command_line() {
    let out = dsguard(&["check", "--input", "-", "--max-input-size", "lots"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a size"));
}
