use super::*;

#[test]
fn deployment_is_locked_down_with_probes_resources_and_a_state_volume() {
    for overlay in ["read-only", "enforce", "ha"] {
        let objects = render(&format!("deploy/overlays/{overlay}"));
        let deployment = one(&objects, "Deployment");
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"].as_str(), Some("dsguard"));
        assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
        assert_ne!(pod["securityContext"]["runAsUser"].as_u64(), Some(0));
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault")
        );
        let containers = pod["containers"].as_sequence().unwrap();
        assert_eq!(containers.len(), 1);
        let c = &containers[0];
        let sc = &c["securityContext"];
        assert_eq!(
            sc["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{overlay}"
        );
        assert_eq!(
            sc["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{overlay}"
        );
        assert_eq!(sc["runAsNonRoot"].as_bool(), Some(true), "{overlay}");
        assert_ne!(sc["privileged"].as_bool(), Some(true));
        assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"], "{overlay}");
        assert!(sc["capabilities"]["add"].is_null());
        assert_eq!(
            sc["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault")
        );
        for key in ["requests", "limits"] {
            assert!(
                c["resources"][key]["memory"].is_string(),
                "{overlay}: {key}"
            );
        }
        assert!(c["resources"]["requests"]["cpu"].is_string());
        assert_eq!(
            c["image"].as_str(),
            Some("ghcr.io/dsguard/dsguard:0.1.0"),
            "{overlay}"
        );
        assert_eq!(
            c["image"].as_str().unwrap().rsplit(':').next(),
            Some(env!("CARGO_PKG_VERSION")),
            "the image tag follows Cargo.toml's version"
        );
        // Probes on the port dsguard listens on.
        let port = &c["ports"][0];
        assert_eq!(port["containerPort"].as_u64(), Some(8080));
        assert_eq!(
            c["livenessProbe"]["httpGet"]["path"].as_str(),
            Some("/healthz")
        );
        assert_eq!(
            c["readinessProbe"]["httpGet"]["path"].as_str(),
            Some("/readyz")
        );
        for probe in ["livenessProbe", "readinessProbe"] {
            assert_eq!(c[probe]["httpGet"]["port"], port["name"], "{probe}");
        }
        // Settings file and state directory mounted, writable state on a volume.
        let args = strings(&c["args"]);
        assert_eq!(args, ["run", "--config", "/etc/dsguard/dsguard.yaml"]);
        let mounts = c["volumeMounts"].as_sequence().unwrap();
        let mount = |path: &str| {
            mounts
                .iter()
                .find(|m| m["mountPath"] == path)
                .unwrap_or_else(|| panic!("{overlay}: nothing mounted at {path}"))
        };
        assert_eq!(mount("/etc/dsguard")["readOnly"].as_bool(), Some(true));
        assert_ne!(mount("/var/lib/dsguard")["readOnly"].as_bool(), Some(true));
        let volume = |name: &Value| {
            pod["volumes"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|v| v["name"] == *name)
                .unwrap()
                .clone()
        };
        assert!(volume(&mount("/var/lib/dsguard")["name"])["emptyDir"].is_mapping());
        let settings = volume(&mount("/etc/dsguard")["name"]);
        let configmap_name = settings["configMap"]["name"].as_str().unwrap();
        let configmap = find(&objects, "ConfigMap")
            .into_iter()
            .find(|c| c["metadata"]["name"] == configmap_name)
            .unwrap_or_else(|| panic!("{overlay}: ConfigMap {configmap_name} not rendered"));
        // The settings load, and dsguard listens where the probes and the Service look.
        let text = configmap["data"]["dsguard.yaml"].as_str().unwrap();
        let dir = std::env::temp_dir().join(format!(
            "dsguard-ship-deploy-{}-{overlay}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dsguard.yaml");
        std::fs::write(&path, text).unwrap();
        // As dsguard reads them in the pod: the file, then the container's DSGUARD__* variables.
        let env: Vec<(String, String)> = c["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|e| {
                Some((
                    e["name"].as_str()?.to_owned(),
                    e["value"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let enforcing = env
            .iter()
            .any(|(k, v)| k == "DSGUARD__RECONCILE__MODE" && v == "enforce");
        assert_eq!(enforcing, overlay == "enforce", "{overlay}: reconcile.mode");
        let loaded = dsguard::settings::Settings::load_with_env(Some(&path), env)
            .unwrap_or_else(|e| panic!("{overlay}: the ConfigMap's settings do not load: {e}"));
        assert_eq!(loaded.server.listen.port(), 8080);
        assert_eq!(loaded.ha.enabled, overlay == "ha", "{overlay}: ha.enabled");
        let service = one(&objects, "Service");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], port["name"]);
        assert_eq!(
            service["spec"]["publishNotReadyAddresses"].as_bool(),
            Some(true)
        );
        let monitor = one(&objects, "ServiceMonitor");
        assert_eq!(monitor["spec"]["endpoints"][0]["port"], port["name"]);
        assert_eq!(
            monitor["spec"]["endpoints"][0]["honorLabels"].as_bool(),
            Some(true)
        );
        // The Service and ServiceMonitor select the Deployment's pods.
        let labels = &deployment["spec"]["template"]["metadata"]["labels"];
        for (key, value) in service["spec"]["selector"].as_mapping().unwrap() {
            assert_eq!(&labels[key.as_str().unwrap()], value);
        }
        for (key, value) in monitor["spec"]["selector"]["matchLabels"]
            .as_mapping()
            .unwrap()
        {
            assert_eq!(&service["metadata"]["labels"][key.as_str().unwrap()], value);
        }
        // Everything namespaced lives in dsguard's namespace.
        for o in &objects {
            let kind = o["kind"].as_str().unwrap();
            if !["Namespace", "ClusterRole", "ClusterRoleBinding"].contains(&kind) {
                assert_eq!(
                    o["metadata"]["namespace"].as_str(),
                    Some("dsguard"),
                    "{kind}"
                );
            }
        }
        // The shipped rules, as in alerts/.
        let rules: Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(root().join("alerts/dsguard.rules.yml")).unwrap(),
        )
        .unwrap();
        assert_eq!(one(&objects, "PrometheusRule")["spec"], rules);
        let policy = one(&objects, "NetworkPolicy");
        assert_eq!(
            strings(&policy["spec"]["policyTypes"]),
            ["Ingress", "Egress"]
        );
    }
}

#[test]
fn settings_file_loads_as_dsguard_reads_it() {
    let path = root().join("deploy/base/settings.yaml");
    let settings = dsguard::settings::Settings::load_with_env(Some(&path), Vec::new())
        .unwrap_or_else(|e| panic!("deploy/base/settings.yaml: {e}"));
    assert_eq!(settings.watch.staleness.std().as_secs(), 60);
    // And a misspelt key would be caught by this same path.
    let dir = std::env::temp_dir().join(format!("dsguard-ship-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "server:\n  listn: \"0.0.0.0:8080\"\n").unwrap();
    assert!(dsguard::settings::Settings::load_with_env(Some(&bad), Vec::new()).is_err());
}

#[test]
fn grafana_kustomization_renders_the_dashboards_and_provider() {
    let objects = render("deploy/grafana");
    let names: BTreeSet<&str> = objects
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["dsguard-dashboards", "dsguard-dashboards-provider"])
    );
}

#[test]
fn receivers_secret_example_is_a_secret_with_placeholders_only() {
    let text =
        std::fs::read_to_string(root().join("deploy/secret-receivers.example.yaml")).unwrap();
    let secret: Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(secret["kind"].as_str(), Some("Secret"));
    assert_eq!(
        secret["metadata"]["name"].as_str(),
        Some("dsguard-receivers")
    );
    let data = secret["stringData"].as_mapping().unwrap();
    assert!(data.len() >= 3);
    // The Deployment mounts it optionally, by this name.
    let deployment = std::fs::read_to_string(root().join("deploy/base/deployment.yaml")).unwrap();
    assert!(deployment.contains("secretName: dsguard-receivers, optional: true"));
}

#[test]
fn dockerfile_is_multi_stage_distroless_and_non_root() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    let last = froms.last().unwrap();
    assert!(
        last.contains("distroless") || last.contains("scratch"),
        "final stage: {last}"
    );
    // The final stage's instructions: copies the binary from the build stage, runs as non-root.
    let final_stage: Vec<&&str> = lines.iter().skip_while(|l| *l != *last).collect();
    assert!(final_stage.iter().any(|l| l.starts_with("COPY --from=")));
    let user = final_stage
        .iter()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("USER in the final stage");
    let uid = user[5..].split(':').next().unwrap();
    assert!(uid != "0" && uid != "root", "{user}");
    assert!(
        final_stage
            .iter()
            .any(|l| l.starts_with("ENTRYPOINT [\"/dsguard\"]"))
    );
    // Everything the build needs is copied (Cargo.toml names the benches and the simulator's
    // crate), and .dockerignore does not exclude it; the product is built without the simulator.
    assert!(text.contains("cargo build --release --locked --no-default-features"));
    // The image's binary is stripped, in the build stage only (not in Cargo.toml's release
    // profile, which `cargo bench` profiles use): the variable is set before the build runs.
    let strip = lines
        .iter()
        .position(|l| l.starts_with("ENV CARGO_PROFILE_RELEASE_STRIP=symbols"))
        .expect("ENV CARGO_PROFILE_RELEASE_STRIP=symbols in the build stage");
    let build = lines
        .iter()
        .position(|l| l.contains("cargo build --release"))
        .unwrap();
    assert!(strip < build, "the strip setting precedes the build");
    let cargo_toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        !cargo_toml.contains("strip ="),
        "Cargo.toml keeps release symbols"
    );
    assert!(
        !text.contains("COPY crates/dsguard-sim/src"),
        "the simulator stays out"
    );
    for path in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "benches",
        "crates/dsguard-sim/Cargo.toml",
    ] {
        assert!(
            text.contains(&format!("COPY {path}")) || text.contains(&format!(" {path} ")),
            "{path}"
        );
    }
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    for path in ["src", "crates", "benches", "Cargo.toml", "Cargo.lock"] {
        assert!(
            !ignore.lines().any(|l| l.trim() == path),
            ".dockerignore excludes {path}"
        );
    }
    // The rust image is at least the crate's rust-version.
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .unwrap()
        .trim_end_matches('"');
    assert!(text.contains(&format!("rust:{wanted}")), "rust:{wanted}");
}

/// The ingress rule as shipped: port 8080 from the `monitoring` namespace, nothing else.
fn ingress_from(namespace: &str) -> Value {
    serde_yaml_ng::from_str(&format!(
        "- from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {namespace}}}}}}}]\n  ports: [{{port: 8080, protocol: TCP}}]\n"
    ))
    .unwrap()
}

#[test]
fn network_policy_admits_only_the_monitoring_namespace_unless_patched() {
    for overlay in ["read-only", "enforce", "ha"] {
        let objects = render(&format!("deploy/overlays/{overlay}"));
        let policy = one(&objects, "NetworkPolicy");
        assert_eq!(
            policy["spec"]["ingress"],
            ingress_from("monitoring"),
            "{overlay}"
        );
        // The API token comes from an optional Secret (no token: the API is read-only).
        let pod = &one(&objects, "Deployment")["spec"]["template"]["spec"];
        let volume = pod["volumes"].as_sequence().unwrap().iter();
        let token = volume.clone().find(|v| v["name"] == "api-token").unwrap();
        assert_eq!(
            token["secret"]["secretName"].as_str(),
            Some("dsguard-api-token")
        );
        assert_eq!(token["secret"]["optional"].as_bool(), Some(true));
    }
    // The knob of deploy/README.md: an overlay patching the namespace.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ship-deploy-knob");
    std::fs::create_dir_all(&dir).unwrap();
    let depth = dir.canonicalize().unwrap().components().count() - 1;
    let base = format!(
        "{}{}",
        "../".repeat(depth),
        root()
            .join("deploy/overlays/read-only")
            .display()
            .to_string()
            .trim_start_matches('/')
    );
    std::fs::write(
        dir.join("kustomization.yaml"),
        format!(
            "resources: [{base}]\npatches:\n  - target: {{kind: NetworkPolicy, name: dsguard}}\n    patch: |-\n      - op: replace\n        path: /spec/ingress/0/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name\n        value: observability\n"
        ),
    )
    .unwrap();
    let objects = render(dir.to_str().unwrap());
    let policy = one(&objects, "NetworkPolicy");
    assert_eq!(policy["spec"]["ingress"], ingress_from("observability"));
}
