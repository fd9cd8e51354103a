//! Each of the 17 service binaries, as a pod runs it: its own process and settings (ports from
//! the environment), ready on its admin port, serving its API, and a clean exit on SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::registry::SERVICES;

use crate::helpers::free_ports;

/// The directory cargo puts the workspace's binaries in (the parent of this test's `deps/`).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .to_owned()
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_service_binary_serves_from_its_own_settings_and_stops_on_sigterm() {
    let dir = bin_dir();
    let missing: Vec<&str> = SERVICES
        .iter()
        .map(|s| s.name)
        .filter(|n| !dir.join(n).exists())
        .collect();
    if !missing.is_empty() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "service binaries not built in {}: {missing:?} (run the workspace tests)",
                dir.display()
            );
        }
        eprintln!(
            "WARNING: service binaries missing in {} ({missing:?}); run `cargo build --workspace`",
            dir.display()
        );
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let mut running = Vec::new();
    let mut ports = free_ports(3 * SERVICES.len()).into_iter();
    for spec in &SERVICES {
        let prefix = spec.env_prefix();
        let (http, admin, grpc) = (
            ports.next().unwrap(),
            ports.next().unwrap(),
            ports.next().unwrap(),
        );
        let child = Command::new(dir.join(spec.name))
            .env(format!("{prefix}__HTTP__PORT"), http.to_string())
            .env(format!("{prefix}__GRPC__PORT"), grpc.to_string())
            .env(format!("{prefix}__ADMIN__PORT"), admin.to_string())
            .env(format!("{prefix}__DATA_DIR"), data.path().join(spec.name))
            .env(format!("{prefix}__SHUTDOWN__GRACE_PERIOD_SECS"), "5")
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        running.push((spec, http, admin, Killed(child)));
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = crate::helpers::http();
    for (spec, http, admin, _) in &running {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = rt.block_on(async {
                c.get(format!("http://127.0.0.1:{admin}/ready"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            });
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready within 30s",
                spec.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let info: serde_json::Value = rt.block_on(async {
            c.get(format!("http://127.0.0.1:{http}/api/{}/v1/info", spec.name))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        assert_eq!(info["name"], spec.name);
    }
    for (spec, _, _, child) in &mut running {
        let pid = child.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.0.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within 20s of SIGTERM",
                spec.name
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{} exited with {status:?}", spec.name);
    }
}
