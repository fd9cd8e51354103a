//! Ops as code: the files that deploy and watch the fleet, generated from the service registry
//! ([`common_settings::registry::SERVICES`]) where they repeat per service, so a new service or
//! port changes them in one place. [`generated`] lists every generated file with its content;
//! `qts ops render` writes them and `qts ops render --check` (and a test) fails when a
//! committed one is stale.
//!
//! The tests of this crate run the real tools where this machine has them (promtool, amtool,
//! the Helm SDK, kubernetes-validate, hadolint, actionlint, terraform); see [`tool`].

use std::path::PathBuf;

pub mod alertmanager;
pub mod compose;
pub mod grafana;
pub mod helm;
pub mod prometheus;
pub mod topology;

/// One generated file: its path from the repository root and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Path from the repository root, `/`-separated.
    pub path: String,
    /// The whole content.
    pub content: String,
}

impl File {
    /// A file at `path` holding `content`.
    pub fn new(path: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            content: content.into(),
        }
    }
}

/// Every generated file, in a stable order.
pub fn generated() -> Vec<File> {
    let mut files = Vec::new();
    files.extend(prometheus::files());
    files.extend(alertmanager::files());
    files.extend(grafana::files());
    files.extend(helm::files());
    files.extend(compose::files());
    files
}

/// The repository root (this crate lives in `crates/ops`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")))
}

/// Where an external tool is: on `PATH`, in the ops venv `.ci/setup.sh` installs
/// (`~/.cache/qts/ops-venv/bin`), or in `/usr/bin` and `/usr/sbin`. `None` when absent: a test
/// then skips with a message, except under `CI=true`, where it must fail ([`require`]).
pub fn tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cache/qts/ops-venv/bin"));
    }
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/sbin"));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The tool `name` for a test: `Some(path)`, or `None` after saying why the test skips. Under
/// `CI=true` a missing tool is an error (`.ci/setup.sh` installs every one).
///
/// # Panics
/// Under `CI=true` when the tool is missing.
pub fn require(name: &str) -> Option<PathBuf> {
    let found = tool(name);
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is missing: run .ci/setup.sh"
        );
        eprintln!("skipped: {name} is not installed (.ci/setup.sh installs it)");
    }
    found
}

/// The Python of the ops venv (`~/.cache/qts/ops-venv`), with the Helm SDK,
/// kubernetes-validate and python-hcl2, as [`require`] finds tools.
pub fn ops_python() -> Option<PathBuf> {
    let python = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/qts/ops-venv/bin/python"))
        .filter(|p| p.is_file());
    if python.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the ops venv is missing: run .ci/setup.sh"
        );
        eprintln!("skipped: the ops venv is not installed (.ci/setup.sh installs it)");
    }
    python
}
