//! The `qts` binary as a user runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const QTS: &str = env!("CARGO_BIN_EXE_qts");

#[test]
fn help_documents_every_subcommand() {
    let out = Command::new(QTS).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for cmd in ["up", "services", "gateway", "openapi"] {
        assert!(help.contains(cmd), "--help lists {cmd}:\n{help}");
    }
    let up = String::from_utf8(
        Command::new(QTS)
            .args(["up", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for flag in ["--data-dir", "--gateway-port", "--ephemeral-ports", "--set"] {
        assert!(up.contains(flag), "up --help documents {flag}");
    }
}

#[test]
fn services_lists_all_seventeen() {
    let out = Command::new(QTS)
        .args(["services", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.len(), 17);
}

#[test]
fn bad_settings_stop_up_with_a_clear_error_before_anything_binds() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(QTS)
        .args(["up", "--ephemeral-ports", "--data-dir"])
        .arg(dir.path())
        .args(["--set", "database.url=mysql://nowhere/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("database.url"), "{err}");
    let out = Command::new(QTS)
        .args(["up", "--set", "no-equals-sign"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("KEY=VALUE"));
}

#[test]
fn up_serves_through_its_gateway_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(QTS)
        .args(["up", "--ephemeral-ports", "--data-dir"])
        .arg(dir.path())
        .args(["--set", "limits.max_body_bytes=2048"])
        .env("OMS__SHUTDOWN__GRACE_PERIOD_SECS", "5")
        // oms itself takes large bodies: a 413 for it can only come from the gateway.
        .env("OMS__LIMITS__MAX_BODY_BYTES", "1048576")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let mut gateway = None;
    let mut output = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("gateway  ") {
            gateway = Some(url.trim().trim_end_matches('/').to_owned());
        }
        let done = line.starts_with("ready in ");
        output.push(line);
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not ready: {output:?}"
        );
    }
    assert!(
        output.iter().any(|l| l.starts_with("ready in ")),
        "{output:?}"
    );
    assert_eq!(
        output.iter().filter(|l| l.contains("/swagger-ui/")).count(),
        17
    );
    let gateway = gateway.expect("gateway url printed");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let info: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{gateway}/api/oms/v1/info"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(info["name"], "oms");
    let (status, body): (u16, serde_json::Value) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{gateway}/api/oms/v1/info"))
            .body(vec![b'x'; 4096])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    });
    assert_eq!(status, 413, "the gateway takes --set limits.*: {body}");
    assert_eq!(body["code"], "resource_exhausted");

    let exit = terminate(&mut child, "qts up");
    assert!(exit.success(), "clean exit: {exit:?}");
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert_eq!(rest.last().map(String::as_str), Some("stopped"));
}

#[test]
fn the_committed_openapi_documents_are_what_the_services_serve() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi");
    let out = Command::new(QTS)
        .args(["openapi", "--check", "--dir", dir])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sim_help_documents_its_flags() {
    let out = Command::new(QTS).args(["sim", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--seed",
        "--speed",
        "--start",
        "--data-port",
        "--trading-port",
        "--v3-tls-port",
    ] {
        assert!(help.contains(flag), "sim --help documents {flag}:\n{help}");
    }
}

#[test]
fn sim_on_free_ports_prints_its_urls_and_issues_fc_data_tokens() {
    let mut child = Command::new(QTS)
        .args([
            "sim",
            "--data-port",
            "0",
            "--trading-port",
            "0",
            "--v3-tls-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let (mut data, mut trading) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("fc-data") {
            data = Some(url.trim().trim_end_matches('/').to_owned());
        }
        if let Some(url) = line.strip_prefix("fc-trading") {
            trading = Some(url.trim().trim_end_matches('/').to_owned());
        }
        if line.starts_with("simulating from") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "sim did not start"
        );
    }
    let data = data.expect("FC Data URL printed");
    let trading = trading.expect("FC Trading URL printed");
    assert!(
        !data.ends_with(":0") && !trading.ends_with(":0"),
        "{data} {trading}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{data}/api/v2/Market/AccessToken"))
            .json(&serde_json::json!({"consumerID": "demo-data", "consumerSecret": "demo-data-secret"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(token["status"], 200, "{token}");
    assert!(token["data"]["accessToken"].as_str().unwrap().contains('.'));
    let exit = terminate(&mut child, "qts sim");
    assert!(exit.success(), "clean exit: {exit:?}");
}

/// Sends SIGTERM and waits (at most 30 s) for the process to exit.
fn terminate(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not stop within 30s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `qts ta` as a pipe: CSV in, one column per output out; errors name the line.
#[test]
fn ta_computes_a_function_over_csv_and_names_the_bad_line() {
    use std::io::Write as _;
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(QTS)
            .arg("ta")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let csv = "time,open,high,low,close,volume\n\
               2025-06-10T09:15:00+07:00,10,11,9,10,100\n\
               2025-06-10T09:16:00+07:00,10,12,9,11,100\n\
               2025-06-10T09:17:00+07:00,11,13,10,12,100\n\
               2025-06-10T09:18:00+07:00,12,13,11,14,100\n";
    let out = run(
        &[
            "MACD",
            "--param",
            "fastperiod=2",
            "--param",
            "slowperiod=3",
            "--param",
            "signalperiod=2",
        ],
        csv,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,macd,macdsignal,macdhist");
    assert_eq!(lines.len(), 5);
    assert!(lines[4].starts_with("2025-06-10T09:18:00+07:00,"), "{text}");
    let list = run(&["--list"], "");
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(
        list.contains("RSI") && list.contains("timeperiod=14"),
        "{list}"
    );
    assert!(list.contains("CDLENGULFING"));
    let bad = run(
        &["RSI"],
        "time,open,high,low,close,volume\n1,1,1,1,oops,1\n",
    );
    assert!(!bad.status.success());
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains("line 2"), "{err}");
}
