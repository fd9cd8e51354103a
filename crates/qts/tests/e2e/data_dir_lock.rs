//! One data directory, one fleet: a second `qts up` on a data directory in use refuses to
//! start, and the first loses nothing.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::bus::embedded::EmbeddedBus;
use common::bus::{EventBus, topics};
use proto::events::v1::ServiceLifecycle;
use proto::events::v1::service_lifecycle::State;

const QTS: &str = env!("CARGO_BIN_EXE_qts");

fn up(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(QTS);
    cmd.args(["up", "--ephemeral-ports", "--data-dir"])
        .arg(dir)
        .env("OMS__SHUTDOWN__GRACE_PERIOD_SECS", "5");
    cmd
}

/// Waits (at most `limit`) for the process to exit.
fn wait(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{what} still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_qts_up_on_the_same_data_dir_refuses_to_start_and_the_first_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = up(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let mut gateway = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("gateway  ") {
            gateway = Some(url.trim().trim_end_matches('/').to_owned());
        }
        if line.starts_with("ready in ") {
            break;
        }
    }
    let gateway = gateway.expect("the first fleet started");

    let mut second = up(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait(&mut second, Duration::from_secs(60), "the second qts up");
    let mut err = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!status.success(), "the second fleet must not start: {err}");
    let bus_dir = dir.path().join("bus");
    // The simulator's state under <data>/sim is locked first (it starts before the services
    // open the bus); either lock names its directory and the pid holding it.
    let bus_locked = err.contains(&format!(
        "bus directory {} is locked by process {}",
        bus_dir.display(),
        first.id()
    ));
    let sim_locked = err.contains(&format!("in use by process {}", first.id()))
        && err.contains(&dir.path().join("sim").display().to_string());
    assert!(
        bus_locked || sim_locked,
        "names the directory and the pid holding it: {err}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::get(format!("{gateway}/api/oms/v1/info"))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200, "the first fleet keeps serving");

    let kill = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(wait(&mut first, Duration::from_secs(30), "the first qts up").success());

    // Every lifecycle event of the first fleet is in the log, at consecutive offsets.
    rt.block_on(async {
        let bus = EmbeddedBus::persistent(&bus_dir, 1000).unwrap();
        bus.create_topics(topics::TOPICS).await.unwrap();
        let mut sub = bus
            .subscribe("check", &[topics::SYSTEM_LIFECYCLE.name.as_ref()])
            .await
            .unwrap();
        let (mut ready, mut stopping, mut offsets) = (0, 0, Vec::new());
        while let Some(d) = sub.poll(Duration::from_millis(300)).await.unwrap() {
            offsets.push(d.offset);
            match State::try_from(d.envelope.decode::<ServiceLifecycle>().unwrap().state).unwrap() {
                State::Ready => ready += 1,
                State::Stopping => stopping += 1,
                State::Unspecified => panic!("unspecified state"),
            }
        }
        assert_eq!((ready, stopping), (17, 17), "no record lost");
        assert_eq!(offsets, (0..34).collect::<Vec<i64>>());
    });
    assert!(
        !bus_dir.join("quarantine").exists(),
        "nothing damaged, nothing interleaved"
    );
}
