//! A service with settings and migrations of its own starts in the fleet: its section is read
//! and validated with the shared ones (through the same loader its `main` uses), and its
//! migrations run on the fleet's database.

use common::registry::ServiceSpec;
use common::server::{Addrs, Backends, Host, Parts};
use common::service::Service;
use common::settings::{Sections, Settings};
use common::shutdown::CancellationToken;
use common::store::Migrations;
use qts::fleet::{Fleet, Member, members};
use serde::Deserialize;

use crate::helpers::options;

/// A service standing in for oms, with a `[probe]` section and a table of its own.
struct Probe {
    host: Host,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeSections {
    probe: ProbeSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeSection {
    greeting: String,
}

impl Sections for ProbeSections {
    fn check(&self, problems: &mut Vec<String>) {
        if self.probe.greeting.is_empty() {
            problems.push("probe.greeting must not be empty".to_owned());
        }
    }
}

static PROBE_MIGRATIONS: Migrations = Migrations {
    postgres: sqlx::migrate!("tests/e2e/probe/postgres"),
    sqlite: sqlx::migrate!("tests/e2e/probe/sqlite"),
};

impl Service for Probe {
    type Sections = ProbeSections;
    const SPEC: &'static ServiceSpec = oms::SPEC;
    const DEFAULTS: &'static str = "[probe]\ngreeting = \"xin chào\"\n";
    const MIGRATIONS: Option<&'static Migrations> = Some(&PROBE_MIGRATIONS);

    async fn build(settings: Settings<ProbeSections>, backends: Backends) -> anyhow::Result<Self> {
        common::on_engine!(backends.db.pool(), |pool| sqlx::query(
            "INSERT INTO probe_greetings (greeting) VALUES ($1)"
        )
        .bind(settings.own.probe.greeting.clone())
        .execute(pool)
        .await
        .map(drop))?;
        let info = common::server::service_info(Self::SPEC, "test", &backends);
        let parts = Parts {
            http: common::server::info_routes(info.clone()),
            grpc: tonic::service::Routes::default(),
            registry: prometheus::Registry::new(),
        };
        let host = Host::bind(Self::SPEC, &settings, info, backends, parts).await?;
        Ok(Self { host })
    }

    fn addrs(&self) -> anyhow::Result<Addrs> {
        self.host.addrs()
    }

    async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        self.host.run(token).await
    }
}

/// The registry's members with oms replaced by the probe.
fn with_probe() -> Vec<Member> {
    members()
        .into_iter()
        .map(|m| {
            if m.spec.name == "oms" {
                Member::of::<Probe>()
            } else {
                m
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_its_own_section_and_migrations_starts_in_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    opts.env
        .insert("OMS__PROBE__GREETING".into(), "chào buổi sáng".into());
    let token = CancellationToken::new();
    let fleet = Fleet::start_members(with_probe(), &opts, token.clone())
        .await
        .unwrap();
    assert_eq!(fleet.services.len(), 17, "every other service started too");
    token.cancel();
    fleet.wait().await.unwrap();

    let db =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("oms.db").display()))
            .await
            .unwrap();
    let greetings: Vec<String> = sqlx::query_scalar("SELECT greeting FROM probe_greetings")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(
        greetings,
        ["chào buổi sáng"],
        "the env override reached the own section, and the own table exists"
    );
}

#[tokio::test]
async fn a_broken_own_section_stops_the_fleet_before_anything_binds() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    opts.env.insert("OMS__PROBE__GREETING".into(), "".into());
    opts.env.insert("OMS__PROBE__GREETNG".into(), "typo".into());
    let err = Fleet::start_members(with_probe(), &opts, CancellationToken::new())
        .await
        .err()
        .expect("refused");
    let text = format!("{err:#}");
    assert!(text.contains("settings of oms"), "{text}");
    assert!(text.contains("greetng"), "the typo is named: {text}");
    assert!(
        !dir.path().join("oms.db").exists(),
        "nothing was created before the settings were valid"
    );
}
