//! Terraform (`terraform/`): `terraform fmt -check` with the real binary, then every `.tf`
//! parsed by python-hcl2 (the ops venv) and checked for what `terraform validate` would catch
//! in the wiring, which this machine cannot run: validate needs `terraform init`, which
//! downloads the providers, and no provider registry is reachable here. Checked: every
//! variable has a type and a description, every output a description, every module call's
//! source exists and passes exactly the module's variables (all the required ones, no unknown
//! one), every `var.`, `local.` and `module.<name>.<output>` reference resolves, every
//! directory pins Terraform and its providers (the same constraint everywhere; a root pins those
//! it configures, `modules/platform` those of the modules it calls), and secrets are sensitive.
//! The layout: the modules, `modules/platform` wiring them into one environment, and two thin
//! roots that call it with their sizes and configure the providers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const ROOT: &str = "terraform";

#[test]
fn terraform_fmt_check_passes() {
    let Some(terraform) = ops::require("terraform") else {
        return;
    };
    let out = Command::new(terraform)
        .args(["fmt", "-check", "-recursive", "-diff", ROOT])
        .current_dir(ops::repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform fmt -check:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Strips the quotes python-hcl2 keeps around strings and block labels.
fn unq(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// One directory of `.tf` files: its parsed blocks and its raw text.
#[derive(Default)]
struct Dir {
    /// `(block type, parsed file)` per file: `variable`, `output`, `module`, ...
    files: Vec<Value>,
    text: String,
}

impl Dir {
    /// Every block of `kind` as `(label, body)` (one label: variables, outputs, modules).
    fn blocks(&self, kind: &str) -> Vec<(String, &Value)> {
        let mut out = Vec::new();
        for f in &self.files {
            for item in f[kind].as_array().into_iter().flatten() {
                for (label, body) in item.as_object().unwrap() {
                    out.push((unq(label).to_owned(), body));
                }
            }
        }
        out
    }

    fn names(&self, kind: &str) -> BTreeSet<String> {
        self.blocks(kind).into_iter().map(|(n, _)| n).collect()
    }

    fn locals(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for f in &self.files {
            for item in f["locals"].as_array().into_iter().flatten() {
                out.extend(
                    item.as_object()
                        .unwrap()
                        .keys()
                        .filter(|k| !k.starts_with("__"))
                        .cloned(),
                );
            }
        }
        out
    }

    /// `prefix.<identifier>` references in the text, comments left out.
    fn references(&self, prefix: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for line in self.text.lines() {
            let code = line.split('#').next().unwrap_or_default();
            let mut rest = code;
            while let Some(i) = rest.find(prefix) {
                let before = rest[..i].chars().last();
                let after = &rest[i + prefix.len()..];
                let ident: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                let boundary = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
                if boundary && !ident.is_empty() {
                    out.insert(ident.clone());
                }
                rest = &after[ident.len()..];
            }
        }
        out
    }
}

/// Every directory under `terraform/` with `.tf` files, parsed by python-hcl2, by its path
/// relative to `terraform/`.
fn parse() -> Option<BTreeMap<String, Dir>> {
    let python = ops::ops_python()?;
    let script = "import json, sys, pathlib, hcl2\n\
        root = pathlib.Path(sys.argv[1])\n\
        out = {}\n\
        for p in sorted(root.rglob('*.tf')):\n\
        \x20   if '.terraform' in p.parts: continue\n\
        \x20   with open(p) as f: out[str(p.relative_to(root))] = hcl2.load(f)\n\
        print(json.dumps(out))\n";
    let root = ops::repo_root().join(ROOT);
    let out = Command::new(python)
        .args(["-c", script])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-hcl2 could not parse terraform/: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut dirs: BTreeMap<String, Dir> = BTreeMap::new();
    for (file, value) in parsed {
        let dir = Path::new(&file)
            .parent()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let d = dirs.entry(dir).or_default();
        d.text
            .push_str(&std::fs::read_to_string(root.join(&file)).unwrap());
        d.text.push('\n');
        d.files.push(value);
    }
    Some(dirs)
}

#[test]
fn the_layout_is_modules_a_platform_and_two_environments() {
    let Some(dirs) = parse() else { return };
    let names: BTreeSet<&str> = dirs.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "environments/production",
        "environments/staging",
        "modules/eks",
        "modules/kafka",
        "modules/network",
        "modules/platform",
        "modules/postgres",
        "modules/qts",
        "modules/redis",
        "modules/secrets",
    ]
    .into_iter()
    .collect();
    assert_eq!(names, expected);
}

#[test]
fn every_variable_has_a_type_and_description_and_every_output_a_description() {
    let Some(dirs) = parse() else { return };
    let mut validations = 0;
    for (dir, d) in &dirs {
        for (name, body) in d.blocks("variable") {
            assert!(
                body["type"].is_string(),
                "{dir}: variable {name} has no type"
            );
            let description = body["description"].as_str().unwrap_or_default();
            assert!(
                unq(description).len() > 10,
                "{dir}: variable {name} has no description"
            );
            validations += body["validation"].as_array().map_or(0, Vec::len);
        }
        for (name, body) in d.blocks("output") {
            assert!(
                body["description"].is_string(),
                "{dir}: output {name} has no description"
            );
        }
        if dir.starts_with("modules/") {
            assert!(!d.blocks("output").is_empty(), "{dir} has outputs");
            assert!(
                d.blocks("variable")
                    .iter()
                    .any(|(_, b)| b["validation"].is_array()),
                "{dir}: some variable is validated"
            );
        }
    }
    assert!(validations >= 30, "only {validations} validation blocks");
}

#[test]
fn every_directory_pins_terraform_and_its_providers() {
    let Some(dirs) = parse() else { return };
    // Provider name -> version constraint, the same in every directory that pins it.
    let mut pins: BTreeMap<String, String> = BTreeMap::new();
    let mut declared_in: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (dir, d) in &dirs {
        let terraform: Vec<&Value> = d
            .files
            .iter()
            .filter_map(|f| f["terraform"].as_array())
            .flatten()
            .collect();
        assert_eq!(terraform.len(), 1, "{dir}: one terraform block");
        let t = terraform[0];
        assert!(t["required_version"].is_string(), "{dir}: required_version");
        let providers = t["required_providers"][0].as_object().unwrap();
        let mut declared = BTreeSet::new();
        for (name, p) in providers.iter().filter(|(k, _)| !k.starts_with("__")) {
            assert!(
                unq(p["source"].as_str().unwrap()).starts_with("hashicorp/"),
                "{dir}: {name}"
            );
            let version = unq(p["version"].as_str().unwrap_or_default());
            assert!(
                version.contains('<') || version.starts_with("~>"),
                "{dir}: provider {name} has an upper bound: {version}"
            );
            declared.insert(name.clone());
            let pin = pins
                .entry(name.clone())
                .or_insert_with(|| version.to_owned());
            assert_eq!(
                pin, version,
                "{dir}: provider {name} pinned differently elsewhere"
            );
        }
        // Every provider a resource or data source uses is declared (aws_..., helm_...).
        for kind in ["resource", "data"] {
            for f in &d.files {
                for item in f[kind].as_array().into_iter().flatten() {
                    for rtype in item.as_object().unwrap().keys() {
                        let provider = unq(rtype).split('_').next().unwrap();
                        assert!(
                            declared.contains(provider),
                            "{dir}: {rtype} needs provider {provider}"
                        );
                    }
                }
            }
        }
        // Every provider configured here is declared here; only the roots configure any (a
        // module with provider blocks cannot be removed, counted or iterated).
        let configured = d.names("provider");
        for name in &configured {
            assert!(
                declared.contains(name),
                "{dir}: provider {name} is not pinned"
            );
        }
        if dir.starts_with("environments/") {
            // The roots keep state in S3, encrypted.
            assert!(
                t["backend"][0]["\"s3\""]["encrypt"] == true,
                "{dir}: backend"
            );
        } else {
            assert!(
                configured.is_empty(),
                "{dir}: a module configures providers"
            );
            assert!(t["backend"].is_null(), "{dir}: a module has a backend");
        }
        declared_in.insert(dir.clone(), declared);
    }
    // A module that calls others pins every provider they need, so its requirements show the
    // whole tree; a root pins at least the providers it configures (checked above).
    for (dir, d) in dirs.iter().filter(|(dir, _)| dir.starts_with("modules/")) {
        for (name, body) in d.blocks("module") {
            let source = unq(body["source"].as_str().unwrap());
            let target = normalise(&Path::new(dir).join(source));
            for provider in &declared_in[&target] {
                assert!(
                    declared_in[dir].contains(provider),
                    "{dir}: module {name} needs provider {provider}, not pinned here"
                );
            }
        }
    }
    assert!(pins.len() >= 5, "pinned providers: {pins:?}");
}

#[test]
fn modules_are_wired_with_exactly_their_variables() {
    let Some(dirs) = parse() else { return };
    let root = ops::repo_root().join(ROOT);
    for (dir, d) in &dirs {
        let mut outputs_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, body) in d.blocks("module") {
            let source = unq(body["source"].as_str().unwrap()).to_owned();
            assert!(
                source.starts_with("../"),
                "{dir}: module {name} is local: {source}"
            );
            let target = Path::new(dir).join(&source);
            let target = normalise(&target);
            assert!(
                root.join(&target).is_dir(),
                "{dir}: module {name}: {source} does not exist"
            );
            let m = dirs
                .get(&target)
                .unwrap_or_else(|| panic!("{dir}: module {name}: no .tf in {target}"));
            let variables: BTreeMap<String, &Value> = m.blocks("variable").into_iter().collect();
            let given: BTreeSet<String> = body
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| {
                    !k.starts_with("__")
                        && !matches!(k.as_str(), "source" | "depends_on" | "providers")
                })
                .cloned()
                .collect();
            for arg in &given {
                assert!(
                    variables.contains_key(arg),
                    "{dir}: module {name} has no variable {arg}"
                );
            }
            for (var, v) in &variables {
                if v.get("default").is_none() {
                    assert!(given.contains(var), "{dir}: module {name} needs {var}");
                }
            }
            outputs_of.insert(name.clone(), m.names("output"));
        }
        // Every reference resolves.
        let variables = d.names("variable");
        for v in d.references("var.") {
            assert!(variables.contains(&v), "{dir}: var.{v} is not declared");
        }
        let locals = d.locals();
        for l in d.references("local.") {
            assert!(locals.contains(&l), "{dir}: local.{l} is not declared");
        }
        for m in d.references("module.") {
            let outputs = outputs_of
                .get(&m)
                .unwrap_or_else(|| panic!("{dir}: module.{m} is not called"));
            let prefix = format!("module.{m}.");
            for o in d.references(&prefix) {
                assert!(outputs.contains(&o), "{dir}: module.{m}.{o} is no output");
            }
        }
        // Every declared variable is used.
        for v in &variables {
            assert!(
                d.references("var.").contains(v),
                "{dir}: variable {v} is unused"
            );
        }
    }
}

/// `a/b/../../c` as `c`.
fn normalise(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c.as_os_str().to_str().unwrap() {
            ".." => {
                parts.pop();
            }
            "." => {}
            other => parts.push(other.to_owned()),
        }
    }
    parts.join("/")
}

#[test]
fn the_environments_install_the_chart_with_their_values_and_keep_secrets_sensitive() {
    let Some(dirs) = parse() else { return };
    let repo = ops::repo_root();
    // The platform wires every module once, names them after the environment and installs
    // the chart of this repository.
    let platform = &dirs["modules/platform"];
    let expected: BTreeSet<String> = [
        "network", "eks", "kafka", "postgres", "redis", "secrets", "qts",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(platform.names("module"), expected, "modules/platform");
    assert!(platform.text.contains("name = \"qts-${var.environment}\""));
    assert!(
        platform
            .text
            .contains("chart_path = \"${path.module}/../../../deploy/k8s/qts\""),
        "modules/platform: the chart of this repository"
    );
    assert!(repo.join("deploy/k8s/qts/Chart.yaml").is_file());
    for env in ["staging", "production"] {
        let d = &dirs[&format!("environments/{env}")];
        // A root holds no wiring of its own: one call of the platform, no resource.
        let modules: Vec<String> = d.names("module").into_iter().collect();
        assert_eq!(modules, ["platform"], "{env}");
        for kind in ["resource", "data"] {
            assert!(
                d.files.iter().all(|f| f[kind].is_null()),
                "environments/{env}: {kind} blocks belong in a module"
            );
        }
        let (_, call) = d.blocks("module").into_iter().next().unwrap();
        assert_eq!(unq(call["environment"].as_str().unwrap()), env, "{env}");
        assert!(
            d.text
                .contains(&format!("key          = \"qts/{env}/terraform.tfstate\"")),
            "{env}: its own state"
        );
        assert!(
            repo.join(format!("deploy/k8s/qts/values-{env}.yaml"))
                .is_file(),
            "the qts module reads values-{env}.yaml"
        );
    }
    // Production keeps its database and has a standby; staging may be torn down.
    let call = |env: &str| {
        let (_, body) = dirs[&format!("environments/{env}")]
            .blocks("module")
            .into_iter()
            .next()
            .unwrap();
        body.clone()
    };
    let (prod, staging) = (call("production"), call("staging"));
    assert_eq!(prod["postgres_deletion_protection"], true);
    assert_eq!(prod["postgres_multi_az"], true);
    assert_eq!(prod["single_nat_gateway"], false);
    assert_eq!(staging["postgres_deletion_protection"], false);
    assert_ne!(prod["vpc_cidr"], staging["vpc_cidr"], "distinct VPC ranges");
    // The module installs the chart from the chart's own generated service list.
    let qts = &dirs["modules/qts"];
    assert!(qts.text.contains("resource \"helm_release\" \"qts\""));
    assert!(qts.text.contains("files/services.json"));
    assert!(qts.text.contains("values-${var.environment}.yaml"));
    // Secrets are sensitive wherever they pass.
    for (dir, name) in [
        ("modules/postgres", "database_url"),
        ("modules/postgres", "admin_url"),
        ("modules/redis", "url"),
        ("modules/secrets", "env"),
    ] {
        let (_, body) = dirs[dir]
            .blocks("output")
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{dir}: output {name}"));
        assert_eq!(body["sensitive"], true, "{dir}: output {name}");
    }
    for name in [
        "database_url",
        "database_admin_url",
        "redis_url",
        "env_secrets",
    ] {
        let (_, body) = dirs["modules/qts"]
            .blocks("variable")
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap();
        assert_eq!(body["sensitive"], true, "modules/qts: variable {name}");
    }
}
