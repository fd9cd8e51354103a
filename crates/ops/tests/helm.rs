//! The Helm chart `deploy/k8s/qts`, checked without a cluster: rendered with every values file
//! through the Helm SDK (`deploy/k8s/tests/render.py`, run once and shared by the tests), linted,
//! validated with `kubernetes-validate --strict` against two Kubernetes versions, and held to
//! the fleet's invariants (probes, limits, labels, ports, one of each object per service, network
//! policies made from the call graph). Also: the call graph misses no call the services make, and
//! the chart's generated files cannot drift from the registry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common_settings::registry::{self, SERVICES};
use ops::topology::{self, Protocol};
use serde_json::{Value, json};

/// The Kubernetes versions the manifests are validated against.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.34.0"];
/// The values files of the chart (values.yaml is rendered with no overrides).
const VALUES_FILES: [&str; 4] = [
    "values.yaml",
    "values-dev.yaml",
    "values-staging.yaml",
    "values-production.yaml",
];

fn chart() -> PathBuf {
    ops::repo_root().join(ops::helm::CHART_DIR)
}

/// Values the schema must refuse, and a part of the message that says why.
fn bad_values() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"defaults": {"replicas": "two"}}),
            "/defaults/replicas",
        ),
        (json!({"replicaCount": 3}), "'replicaCount' not allowed"),
        (
            json!({"services": {"oms": {"replicaz": 2}}}),
            "'replicaz' not allowed",
        ),
        (json!({"services": {"orders": {}}}), "'orders'"),
        (
            json!({"gateway": {"service": {"port": -1}}}),
            "/gateway/service/port",
        ),
        (
            json!({"networkPolicy": {"egress": {"kafka": {"cidrs": [], "peers": [], "ports": [0]}}}}),
            "/networkPolicy/egress/kafka/ports/0",
        ),
        (
            json!({"defaults": {"resources": {"limits": {"cpu": "1", "memory": "lots"}}}}),
            "/defaults/resources/limits/memory",
        ),
        // null removes the default: a Deployment without limits.
        (
            json!({"defaults": {"resources": {"limits": null}}}),
            "missing property 'limits'",
        ),
        (
            json!({"config": {"bus": {"kind": "embedded"}}}),
            "/config/bus/kind",
        ),
        (
            json!({"config": {"database": {"url": "postgres://qts:hunter2@db:5432/qts_{service}"}}}),
            "/config/database/url",
        ),
        (json!({"ssi": {"generation": "v4"}}), "/ssi/generation"),
        (
            json!({"image": {"pullPolicy": "Sometimes"}}),
            "/image/pullPolicy",
        ),
    ]
}

struct Rendered {
    /// render.py's answer.
    json: Value,
}

impl Rendered {
    fn render(&self, file: &str) -> &Value {
        &self.json["renders"][file]
    }

    /// The objects of one render: (template, object).
    fn objects(&self, file: &str) -> Vec<&Value> {
        self.render(file)["documents"]
            .as_array()
            .unwrap_or_else(|| panic!("{file} was not rendered"))
            .iter()
            .map(|d| &d["object"])
            .collect()
    }

    fn of_kind<'a>(&'a self, file: &str, kind: &str) -> BTreeMap<String, &'a Value> {
        self.objects(file)
            .into_iter()
            .filter(|o| o["kind"] == kind)
            .map(|o| (o["metadata"]["name"].as_str().unwrap().to_owned(), o))
            .collect()
    }
}

/// Renders every values file once (None: the ops venv is missing, the tests skip).
fn rendered() -> Option<&'static Rendered> {
    static RENDERED: OnceLock<Option<Rendered>> = OnceLock::new();
    RENDERED
        .get_or_init(|| {
            let python = ops::ops_python()?;
            let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("helm-render");
            let bad: Vec<Value> = bad_values().into_iter().map(|(v, _)| v).collect();
            let output = Command::new(python)
                .arg(ops::repo_root().join("deploy/k8s/tests/render.py"))
                .arg(chart())
                .arg(&out)
                .arg(serde_json::to_string(&bad).unwrap())
                .output()
                .expect("run render.py");
            assert!(
                output.status.success(),
                "render.py failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let json: Value = serde_json::from_slice(&output.stdout).expect("render.py's JSON");
            Some(Rendered { json })
        })
        .as_ref()
}

fn labels(o: &Value) -> &serde_json::Map<String, Value> {
    o["metadata"]["labels"]
        .as_object()
        .unwrap_or_else(|| panic!("{} has no labels", o["metadata"]["name"]))
}

const STANDARD_LABELS: [&str; 6] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
];

// ---------------------------------------------------------------------------------------------
// The call graph

/// Every `peer("<name>")` and `channel("<name>")` with a service's name (and the rule service for
/// `Rules::start_for`) in the `.rs` files under `dir`.
fn peer_calls(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // `rules::Rules::start_for` calls the rule service (`peers.rule`) for them.
                if text.contains("Rules::start_for(") {
                    found.insert("rule".to_owned());
                }
                for needle in ["peer(\"", "channel(\""] {
                    for (i, _) in text.match_indices(needle) {
                        let rest = &text[i + needle.len()..];
                        let name = &rest[..rest.find('"').unwrap_or(0)];
                        if registry::find(name).is_some() {
                            found.insert(name.to_owned());
                        }
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_topology_has_every_call_the_services_make_and_no_other() {
    let root = ops::repo_root();
    let edges = topology::edges();
    let has = |caller: &str, callee: &str| {
        edges
            .iter()
            .any(|e| e.caller == caller && e.callee == callee && e.protocol == Protocol::Grpc)
    };
    let mut missing = Vec::new();
    let mut scanned = BTreeSet::new();
    for s in &SERVICES {
        let src = root.join("crates/services").join(s.name).join("src");
        assert!(
            src.is_dir(),
            "{} has no crates/services/{}/src",
            s.name,
            s.name
        );
        for callee in peer_calls(&src) {
            if callee != s.name && !has(s.name, &callee) {
                missing.push(format!("{} -> {callee}", s.name));
            }
            scanned.insert((s.name, callee));
        }
    }
    // The shared runtime's calls (remote configuration, SSI tokens) are every service's.
    for callee in peer_calls(&root.join("crates/common/src")) {
        for s in &SERVICES {
            if s.name != callee && !has(s.name, &callee) {
                missing.push(format!("{} -> {callee} (crates/common)", s.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "crates/ops/src/topology.rs misses calls the code makes: {missing:#?}"
    );
    let stale: Vec<_> = topology::EDGES
        .iter()
        .filter(|e| !scanned.contains(&(e.caller, e.callee.to_owned())))
        .collect();
    assert!(
        stale.is_empty(),
        "topology::EDGES lists calls no service makes: {stale:#?}"
    );
    for s in &SERVICES {
        for name in topology::calls(s.name)
            .into_iter()
            .chain(topology::callers_of(s.name))
        {
            assert!(registry::find(name).is_some(), "{name} is not a service");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generated files

#[test]
fn the_chart_files_are_generated_from_the_registry_and_the_gateway_config() {
    let root = ops::repo_root();
    let files: BTreeMap<String, String> = ops::helm::files()
        .into_iter()
        .map(|f| (f.path, f.content))
        .collect();
    let generated: Vec<String> = ops::generated().into_iter().map(|f| f.path).collect();
    for path in files.keys() {
        assert!(
            generated.contains(path),
            "{path} is not in ops::generated()"
        );
    }

    // The gateway's config, byte for byte.
    let nginx = std::fs::read(root.join(ops::helm::NGINX_SOURCE)).unwrap();
    let copy = std::fs::read(chart().join("files/nginx.conf")).unwrap();
    assert!(!nginx.is_empty());
    assert!(
        nginx == copy,
        "deploy/k8s/qts/files/nginx.conf differs from deploy/nginx/nginx.conf: run `qts ops render`"
    );

    // services.json is the registry.
    let services: Value =
        serde_json::from_str(&files[&format!("{}/files/services.json", ops::helm::CHART_DIR)])
            .unwrap();
    let names: Vec<&str> = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, SERVICES.map(|s| s.name));
    for (entry, spec) in services["services"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&SERVICES)
    {
        assert_eq!(entry["ports"]["http"], spec.http_port);
        assert_eq!(entry["ports"]["grpc"], spec.grpc_port);
        assert_eq!(entry["ports"]["admin"], spec.admin_port);
        assert_eq!(entry["envPrefix"], spec.env_prefix());
    }

    // The Prometheus rule files: the copies are the sources, and nothing else is there.
    let rules = root.join(ops::helm::RULES_SOURCE);
    let copies_dir = chart().join("files/prometheus-rules");
    let copies: BTreeSet<String> = std::fs::read_dir(&copies_dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    let expected: BTreeSet<String> = files
        .keys()
        .filter_map(|p| {
            p.strip_prefix(&format!("{}/files/prometheus-rules/", ops::helm::CHART_DIR))
        })
        .map(str::to_owned)
        .collect();
    assert_eq!(
        copies, expected,
        "files/prometheus-rules holds files no rule file of deploy/prometheus/rules generates"
    );
    for name in &expected {
        assert_eq!(
            std::fs::read(rules.join(name)).unwrap(),
            std::fs::read(copies_dir.join(name)).unwrap(),
            "files/prometheus-rules/{name} differs from its source: run `qts ops render`"
        );
    }
}

#[test]
fn the_values_and_the_schema_name_exactly_the_registry_services() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(chart().join("values.schema.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = schema["properties"]["services"]["propertyNames"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        SERVICES.map(|s| s.name),
        "values.schema.json's services.propertyNames differs from the registry"
    );
    let Some(r) = rendered() else { return };
    let keys: BTreeSet<&str> = r.render("values.yaml")["values"]["services"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, SERVICES.map(|s| s.name).into_iter().collect());
}

// ---------------------------------------------------------------------------------------------
// Render, lint, validate

#[test]
fn the_chart_lints_and_renders_with_every_values_file() {
    let Some(r) = rendered() else { return };
    for file in VALUES_FILES {
        let lint = &r.render(file)["lint"];
        assert_eq!(lint["errors"], json!([]), "{file}: helm lint: {lint:#}");
        let serious: Vec<_> = lint["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["severity"].as_u64().unwrap_or(3) >= 2)
            .collect();
        assert!(serious.is_empty(), "{file}: helm lint: {serious:#?}");
        assert!(
            r.objects(file).len() > 4 * SERVICES.len(),
            "{file}: too few objects"
        );
    }
}

#[test]
fn kubernetes_validate_strict_accepts_every_render_on_two_versions() {
    let Some(r) = rendered() else { return };
    let Some(validate) = ops::require("kubernetes-validate") else {
        return;
    };
    let files: Vec<&str> = VALUES_FILES
        .iter()
        .map(|f| r.render(f)["file"].as_str().unwrap())
        .collect();
    for version in KUBERNETES_VERSIONS {
        let out = Command::new(&validate)
            .args(["--strict", "--quiet", "-k", version])
            .args(&files)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && !text.contains("ERROR"),
            "kubernetes-validate --strict -k {version}:\n{text}"
        );
        // Only the prometheus-operator kinds are unknown to it (checked below instead).
        for line in text.lines().filter(|l| l.contains("Couldn't find schema")) {
            assert!(
                line.contains("ServiceMonitor") || line.contains("PrometheusRule"),
                "{version}: {line}"
            );
        }
    }
}

#[test]
fn the_schema_refuses_bad_values_saying_where() {
    let Some(r) = rendered() else { return };
    let rejected = r.json["rejected"].as_array().unwrap();
    for ((values, says), answer) in bad_values().iter().zip(rejected) {
        let error = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("the schema accepted {values}"));
        assert!(
            error.contains(says),
            "refusing {values} the schema said {error:?}, not {says:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants

fn container(d: &Value) -> &Value {
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1, "{}", d["metadata"]["name"]);
    &containers[0]
}

fn named_port(c: &Value, name: &str) -> Option<u64> {
    c["ports"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
}

#[test]
fn every_deployment_is_probed_limited_labelled_hardened_and_on_the_registry_ports() {
    let Some(r) = rendered() else { return };
    for file in VALUES_FILES {
        let services = r.of_kind(file, "Service");
        for (name, d) in r.of_kind(file, "Deployment") {
            let at = format!("{file}: Deployment {name}");
            for label in STANDARD_LABELS {
                assert!(labels(d).contains_key(label), "{at}: no {label}");
                assert!(
                    d["spec"]["template"]["metadata"]["labels"][label].is_string(),
                    "{at}: pods lack {label}"
                );
            }
            let pod = &d["spec"]["template"]["spec"];
            let c = container(d);
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{at}");
            assert_eq!(
                pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
                "{at}"
            );
            assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "{at}");
            assert_eq!(
                c["securityContext"]["allowPrivilegeEscalation"], false,
                "{at}"
            );
            assert_eq!(
                c["securityContext"]["capabilities"]["drop"],
                json!(["ALL"]),
                "{at}"
            );
            for (kind, q) in [
                ("requests", "cpu"),
                ("requests", "memory"),
                ("limits", "cpu"),
                ("limits", "memory"),
            ] {
                assert!(
                    !c["resources"][kind][q].is_null(),
                    "{at}: no resources.{kind}.{q}"
                );
            }
            // A volume claim exists, and only one pod holds it at a time.
            for vol in pod["volumes"].as_array().unwrap() {
                if let Some(claim) = vol["persistentVolumeClaim"]["claimName"].as_str() {
                    assert!(
                        r.of_kind(file, "PersistentVolumeClaim").contains_key(claim),
                        "{at}: no PVC {claim}"
                    );
                    assert_eq!(
                        d["spec"]["strategy"]["type"], "Recreate",
                        "{at}: a ReadWriteOnce claim rolls with Recreate"
                    );
                }
            }
            let probe_port = if name == "gateway" { "http" } else { "admin" };
            for (probe, path) in [
                ("livenessProbe", "/live"),
                ("readinessProbe", "/ready"),
                ("startupProbe", "/live"),
            ] {
                let get = &c[probe]["httpGet"];
                assert_eq!(
                    get["port"], probe_port,
                    "{at}: {probe} not on the {probe_port} port"
                );
                if name != "gateway" {
                    assert_eq!(get["path"], path, "{at}: {probe}");
                }
            }
            // The Service's target ports are the container's ports.
            let svc = services
                .get(&name)
                .unwrap_or_else(|| panic!("{at}: no Service"));
            for p in svc["spec"]["ports"].as_array().unwrap() {
                let target = p["targetPort"].as_str().unwrap();
                assert!(
                    named_port(c, target).is_some(),
                    "{at}: Service targets {target}, which the container lacks"
                );
            }
            if let Some(spec) = registry::find(&name) {
                assert_eq!(
                    named_port(c, "http"),
                    Some(spec.http_port.into()),
                    "{at}: http"
                );
                assert_eq!(
                    named_port(c, "grpc"),
                    Some(spec.grpc_port.into()),
                    "{at}: grpc"
                );
                assert_eq!(
                    named_port(c, "admin"),
                    Some(spec.admin_port.into()),
                    "{at}: admin"
                );
                for p in svc["spec"]["ports"].as_array().unwrap() {
                    assert_eq!(
                        named_port(c, p["name"].as_str().unwrap()),
                        p["port"].as_u64(),
                        "{at}: Service port {p}"
                    );
                }
                // The listeners bind every address in a pod (the default is loopback).
                let env = r.of_kind(file, "ConfigMap")["qts-env"]["data"].clone();
                for listener in ["HTTP", "GRPC", "ADMIN"] {
                    assert_eq!(
                        env[format!("{}__{listener}__BIND", spec.env_prefix())],
                        "0.0.0.0",
                        "{at}"
                    );
                }
                assert_eq!(
                    env[format!("{}__BUS__KIND", spec.env_prefix())],
                    "kafka",
                    "{at}"
                );
            } else {
                assert_eq!(
                    name, "gateway",
                    "{file}: a Deployment {name} no service of the registry has"
                );
            }
        }
    }
}

#[test]
fn every_service_has_its_objects_and_accepts_only_its_callers() {
    let Some(r) = rendered() else { return };
    for file in VALUES_FILES {
        let values = &r.render(file)["values"];
        let gateway_grpc = values["gateway"]["grpc"]["enabled"] == true;
        let deployments = r.of_kind(file, "Deployment");
        let services = r.of_kind(file, "Service");
        let pdbs = r.of_kind(file, "PodDisruptionBudget");
        let policies = r.of_kind(file, "NetworkPolicy");
        let accounts = r.of_kind(file, "ServiceAccount");
        let pdb_on = values["defaults"]["pdb"]["enabled"] != false;
        for spec in &SERVICES {
            let at = format!("{file}: {}", spec.name);
            assert!(deployments.contains_key(spec.name), "{at}: no Deployment");
            assert!(services.contains_key(spec.name), "{at}: no Service");
            assert!(accounts.contains_key(spec.name), "{at}: no ServiceAccount");
            assert_eq!(
                pdbs.contains_key(spec.name),
                pdb_on,
                "{at}: PodDisruptionBudget"
            );
            let np = policies
                .get(spec.name)
                .unwrap_or_else(|| panic!("{at}: no NetworkPolicy"));
            // Who may connect to which port: the callers of the topology, the gateway on HTTP
            // (and gRPC when it serves gRPC), Prometheus and the listed services on admin.
            let mut from: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for rule in np["spec"]["ingress"].as_array().unwrap() {
                for port in rule["ports"].as_array().unwrap() {
                    let port = port["port"].as_str().unwrap().to_owned();
                    for peer in rule["from"].as_array().unwrap() {
                        let who = if peer["namespaceSelector"].is_object() {
                            "namespace:".to_owned()
                                + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str().unwrap_or("?")
                                + "/"
                                + peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str().unwrap_or("?")
                        } else {
                            assert_eq!(
                                peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"],
                                "qts",
                                "{at}"
                            );
                            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                                .as_str()
                                .unwrap()
                                .to_owned()
                        };
                        from.entry(port.clone()).or_default().insert(who);
                    }
                }
            }
            let set = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<BTreeSet<_>>();
            let mut grpc = set(topology::callers_over(spec.name, Protocol::Grpc));
            let mut http = set(topology::callers_over(spec.name, Protocol::Http));
            http.insert("gateway".into());
            if gateway_grpc {
                grpc.insert("gateway".into());
            }
            if spec.name == "notification" {
                http.insert("namespace:monitoring/alertmanager".into());
            }
            assert_eq!(
                from.remove("grpc").unwrap_or_default(),
                grpc,
                "{at}: gRPC callers"
            );
            assert_eq!(
                from.remove("http").unwrap_or_default(),
                http,
                "{at}: HTTP callers"
            );
            let admin = from.remove("admin").unwrap_or_default();
            assert!(
                admin.contains("namespace:monitoring/prometheus"),
                "{at}: Prometheus cannot scrape: {admin:?}"
            );
            assert!(from.is_empty(), "{at}: other ports open: {from:?}");
        }
        // Everything of the release is denied by default.
        let deny = &policies["qts-default-deny"]["spec"];
        assert_eq!(
            deny["podSelector"]["matchLabels"]["app.kubernetes.io/part-of"],
            "qts"
        );
        assert!(
            deny.get("ingress").is_none(),
            "{file}: the default deny allows something"
        );
        // The gateway: its config is the generated one, and it is the only Ingress backend.
        let nginx = &r.of_kind(file, "ConfigMap")["gateway-nginx"]["data"]["nginx.conf"];
        let source =
            std::fs::read_to_string(ops::repo_root().join(ops::helm::NGINX_SOURCE)).unwrap();
        assert_eq!(
            nginx.as_str().unwrap(),
            source.trim_end_matches('\n'),
            "{file}: gateway config"
        );
        for (name, ingress) in r.of_kind(file, "Ingress") {
            for rule in ingress["spec"]["rules"].as_array().unwrap() {
                for path in rule["http"]["paths"].as_array().unwrap() {
                    assert_eq!(
                        path["backend"]["service"]["name"], "gateway",
                        "{file}: Ingress {name}"
                    );
                }
            }
        }
        for (name, svc) in &services {
            if name != "gateway" {
                assert_eq!(
                    svc["spec"]["type"], "ClusterIP",
                    "{file}: Service {name} is exposed"
                );
            }
        }
    }
}

#[test]
fn staging_and_production_take_every_secret_from_existing_secrets() {
    let Some(r) = rendered() else { return };
    for file in ["values-staging.yaml", "values-production.yaml"] {
        let v = &r.render(file)["values"];
        assert!(
            v["secrets"].get("inline").is_none(),
            "{file}: inline secrets"
        );
        assert!(
            r.of_kind(file, "Secret").is_empty(),
            "{file}: the chart makes a Secret"
        );
        assert_eq!(
            v["config"]["database"].get("url"),
            None,
            "{file}: a database URL in values"
        );
        for key in [
            &v["config"]["database"]["existingSecret"],
            &v["config"]["cache"]["existingSecret"],
            &v["ssi"]["existingSecret"],
            &v["config"]["auth"]["clientSecrets"]["existingSecret"],
        ] {
            assert!(key.as_str().is_some_and(|s| !s.is_empty()), "{file}: {v:#}");
        }
        // Every credential reaches the pods as a secretKeyRef.
        let deployments = r.of_kind(file, "Deployment");
        let env = |name: &str| -> BTreeMap<String, Value> {
            container(deployments[name])["env"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap().to_owned(),
                        e["valueFrom"].clone(),
                    )
                })
                .collect()
        };
        let oms = env("oms");
        for key in [
            "OMS__DATABASE__URL",
            "OMS__CACHE__URL",
            "OMS__BROKER__TRADING__PRIVATE_KEY",
            "OMS__AUTH__CLIENT_SECRET",
        ] {
            assert!(
                oms[key]["secretKeyRef"]["name"].is_string(),
                "{file}: {key}"
            );
        }
        let config = env("config");
        assert_eq!(
            config["CONFIG__SSI__SEED__DATA_CONSUMER_SECRET"]["secretKeyRef"]["name"],
            v["ssi"]["existingSecret"]
        );
        let sso = env("sso");
        for s in SERVICES.iter().filter(|s| s.name != "sso") {
            let key = format!(
                "SSO__BOOTSTRAP__SERVICE_CLIENTS__{}",
                s.name.to_ascii_uppercase()
            );
            assert_eq!(sso[&key]["secretKeyRef"]["key"], s.name, "{file}: {key}");
        }
        let data = &r.of_kind(file, "ConfigMap")["qts-env"]["data"];
        for (k, val) in data.as_object().unwrap() {
            let val = val.as_str().unwrap();
            assert!(
                !(k.contains("SECRET")
                    || k.contains("PASSWORD")
                    || k.contains("PRIVATE_KEY")
                    || k.ends_with("__URL") && val.contains('@')),
                "{file}: {k} in the ConfigMap"
            );
        }
    }
}

#[test]
fn the_prometheus_operator_objects_scrape_the_admin_ports_and_carry_the_rules() {
    let Some(r) = rendered() else { return };
    let file = "values-production.yaml";
    let monitors = r.of_kind(file, "ServiceMonitor");
    let monitor = monitors
        .values()
        .next()
        .expect("production has a ServiceMonitor");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "admin");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    // The rules select job="qts", as deploy/prometheus/prometheus.yml names the fleet's job.
    assert!(
        monitor["spec"]["endpoints"][0]["relabelings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["targetLabel"] == "job" && r["replacement"] == "qts")
    );
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"],
        "service"
    );
    // The rules are the rule files' groups, in order.
    let dir = chart().join("files/prometheus-rules");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.ends_with(".yml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let rules = r.of_kind(file, "PrometheusRule");
    if names.is_empty() {
        assert!(rules.is_empty(), "a PrometheusRule with no rules");
        return;
    }
    let rule = rules
        .values()
        .next()
        .expect("production has a PrometheusRule");
    let groups: Vec<&str> = rule["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            assert!(
                !g["rules"].as_array().unwrap().is_empty(),
                "group {} is empty",
                g["name"]
            );
            g["name"].as_str().unwrap()
        })
        .collect();
    let mut expected = Vec::new();
    for n in &names {
        let text = std::fs::read_to_string(dir.join(n)).unwrap();
        // Each group's name line: `  - name: <group>` at the top level of `groups:`.
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("  - name: ") {
                expected.push(name.trim().trim_matches('"').to_owned());
            }
        }
    }
    assert_eq!(
        groups, expected,
        "the PrometheusRule's groups are not the rule files'"
    );
}
