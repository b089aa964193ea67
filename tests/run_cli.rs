//! `dsguard run` fails fast, before anything starts, on bad settings, naming the key.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .arg("run")
        .args(args)
        .envs(env.iter().copied())
        .env_remove("KUBECONFIG")
        .output()
        .expect("dsguard runs");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it failed fast"
    );
    out
}

fn file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("dsguard-run-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn fails_with(out: &Output, message: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(message), "want {message:?} in: {stderr}");
}

#[test]
fn unknown_key_in_the_environment_is_named() {
    fails_with(
        &run(&[], &[("DSGUARD__SERVER__PORT", "9")]),
        "dsguard run: setting server.port: unknown field `port`",
    );
}

#[test]
fn bad_duration_in_the_file_is_named() {
    let config = file("bad.yaml", "watch:\n  staleness: soon\n");
    fails_with(
        &run(&["--config", &config], &[]),
        "setting watch.staleness: \"soon\" is not a duration",
    );
}

#[test]
fn missing_kubeconfig_is_named() {
    fails_with(
        &run(&["--kubeconfig", "/nonexistent/kubeconfig"], &[]),
        "setting kube.kubeconfig: /nonexistent/kubeconfig is not a readable file",
    );
}

#[test]
fn unknown_context_is_named() {
    let kubeconfig = file(
        "kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         contexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\nusers:\n- name: u\n  user: {}\n",
    );
    fails_with(
        &run(
            &[
                "--kubeconfig",
                &kubeconfig,
                "--context",
                "nope",
                "--listen",
                "127.0.0.1:0",
            ],
            &[],
        ),
        "kube.context",
    );
}

#[test]
fn address_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let kubeconfig = file(
        "kubeconfig-ok",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         contexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\nusers:\n- name: u\n  user: {}\n",
    );
    fails_with(
        &run(&["--kubeconfig", &kubeconfig, "--listen", &addr], &[]),
        &format!("setting server.listen: cannot listen on {addr}"),
    );
}
