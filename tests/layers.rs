//! The layers of `src/` hold: every module imports only modules of lower layers (the diagram in
//! `src/lib.rs`), and the simulator's crate depends on nothing of dsguard. Reading the `crate::`
//! paths of every source file is enough; a path that points up fails with the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, lowest layer first. Modules of one layer do not import each
/// other either (alert, reconcile and audit are peers: the alert rules take reconcile's advice
/// as a closure that `app` passes in).
const LAYERS: &[&[&str]] = &[
    &["base"],
    &["cluster"],
    &["coverage"],
    &["model"],
    &["notification"],
    &["notify"],
    &["alert", "reconcile", "audit"],
    &["metrics"],
    &["server"],
    &["settings"],
    &["app"],
    &["simulated"],
    &["cmd"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level modules a line of code names through `crate::` (also inside `use crate::{a, b}`).
fn imports(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of a group: split at commas outside nested braces.
            let mut depth = 0;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => found.push(std::mem::take(&mut name)),
                    _ => name.push(c),
                }
            }
            found.push(name);
        } else {
            found.push(rest.to_owned());
        }
    }
    found
        .iter()
        .map(|path| {
            path.trim()
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .filter(|m| !m.is_empty() && m != "self")
        .collect()
}

/// Every import of `text` (the file of top-level module `module`) that is not of a lower layer:
/// (line number, imported module).
fn violations(module: &str, text: &str) -> Vec<(usize, String)> {
    let own = rank(module).unwrap_or_else(|| panic!("module {module} is in no layer of LAYERS"));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for imported in imports(line) {
            if imported == module {
                continue;
            }
            match rank(&imported) {
                Some(r) if r < own => {}
                _ => out.push((i + 1, imported)),
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_modules_of_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut problems = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = Path::new(first).file_stem().unwrap().to_str().unwrap();
        if module == "lib" || module == "main" {
            continue;
        }
        *seen.entry(module.to_owned()).or_default() += 1;
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, imported) in violations(module, &text) {
            problems.push(format!(
                "src/{}:{line}: {module} imports {imported}, which is not below it",
                relative.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every layer's modules exist: a renamed module must be renamed here too.
    for module in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(seen.contains_key(*module), "no module {module} in src/");
    }
}

#[test]
fn an_import_that_points_up_or_sideways_is_found() {
    let text = "use crate::base::Clock;\nuse crate::{model::Model, server::router};\n\
                let x = crate::reconcile::plan(); // crate::app in a comment is fine\n";
    assert_eq!(
        violations("alert", text),
        vec![(2, "server".to_owned()), (3, "reconcile".to_owned())]
    );
    assert!(violations("cmd", text).is_empty());
    assert_eq!(
        imports("use crate::cluster::{Inventory, watch::{Object, Resource}};"),
        vec!["cluster"]
    );
}

#[test]
fn the_simulator_depends_on_nothing_of_dsguard() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/dsguard-sim");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for line in manifest.lines().filter(|l| !l.starts_with('#')) {
        let key = line.split('=').next().unwrap_or("").trim();
        assert!(
            !(key.starts_with("dsguard") && key != "dsguard-sim"),
            "the simulator's Cargo.toml names {key}"
        );
    }
    let mut files = Vec::new();
    sources(&root, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("dsguard::"),
            "{} uses dsguard's code",
            file.display()
        );
    }
}
