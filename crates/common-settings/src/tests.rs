use super::*;
use crate::registry;
use serde::Deserialize;

fn oms() -> &'static ServiceSpec {
    registry::find("oms").unwrap()
}

fn env(pairs: &[(&str, &str)]) -> Sources {
    Sources {
        file: None,
        overlay: None,
        env: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[test]
fn defaults_give_registry_ports_and_embedded_backends() {
    let s = ServiceSettings::load_from(oms(), "", &Sources::default()).unwrap();
    assert_eq!(s.http.port, oms().http_port);
    assert_eq!(s.grpc.port, oms().grpc_port);
    assert_eq!(s.admin.port, oms().admin_port);
    assert_eq!(s.bus.kind, BusKind::Embedded);
    assert_eq!(s.cache.kind, CacheKind::Memory);
    assert_eq!(s.database_url("oms"), "sqlite://data/oms.db?mode=rwc");
}

#[test]
fn env_overrides_file_which_overrides_service_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("oms.toml");
    std::fs::write(&file, "[http]\nport = 7001\n[grpc]\nport = 7002\n").unwrap();
    let mut sources = env(&[("OMS__HTTP__PORT", "7100"), ("OMS__BUS__KIND", "kafka")]);
    sources.file = Some(file);
    let s = ServiceSettings::load_from(oms(), "[admin]\nport = 7003\n", &sources).unwrap();
    assert_eq!(s.http.port, 7100, "env wins over file");
    assert_eq!(s.grpc.port, 7002, "file wins over defaults");
    assert_eq!(
        s.admin.port, 7003,
        "service defaults win over shared defaults"
    );
    assert_eq!(s.bus.kind, BusKind::Kafka);
}

#[test]
fn single_underscore_after_prefix_is_ignored_and_other_services_env_too() {
    let s = ServiceSettings::load_from(
        oms(),
        "",
        &env(&[("OMS_HTTP__PORT", "7100"), ("RISK__HTTP__PORT", "7200")]),
    )
    .unwrap();
    assert_eq!(s.http.port, oms().http_port);
}

#[test]
fn an_unknown_key_is_an_error_naming_it() {
    let err =
        ServiceSettings::load_from(oms(), "", &env(&[("OMS__DATABSE__URL", "x")])).unwrap_err();
    assert!(err.to_string().contains("databse"), "{err}");
}

#[test]
fn a_value_of_the_wrong_type_is_an_error() {
    let err =
        ServiceSettings::load_from(oms(), "", &env(&[("OMS__HTTP__PORT", "eighty")])).unwrap_err();
    assert!(err.to_string().contains("port"), "{err}");
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let err = ServiceSettings::load_from(
        oms(),
        "",
        &env(&[
            ("OMS__HTTP__PORT", "7000"),
            ("OMS__GRPC__PORT", "7000"),
            ("OMS__DATABASE__URL", "mysql://x"),
            ("OMS__SHUTDOWN__GRACE_PERIOD_SECS", "0"),
        ]),
    )
    .unwrap_err();
    let Error::Invalid(problems) = err else {
        panic!("expected Invalid")
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn secrets_do_not_appear_in_debug_output() {
    let s = ServiceSettings::load_from(
        oms(),
        "",
        &env(&[("OMS__DATABASE__URL", "postgres://u:hunter2@db/oms")]),
    )
    .unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
    assert_eq!(s.database_url("oms"), "postgres://u:hunter2@db/oms");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let sources = Sources {
        file: Some("/nonexistent/oms.toml".into()),
        overlay: None,
        env: HashMap::new(),
    };
    assert!(ServiceSettings::load_from(oms(), "", &sources).is_err());
}

#[test]
fn a_service_placeholder_gives_each_service_its_own_database() {
    let s = ServiceSettings::load_from(
        registry::find("master-data").unwrap(),
        "",
        &env(&[(
            "MASTER_DATA__DATABASE__URL",
            "postgres://qts@db/qts_{service}",
        )]),
    )
    .unwrap();
    assert_eq!(
        s.database_url("master-data"),
        "postgres://qts@db/qts_master_data"
    );
}

/// A service's own sections, as a service with a broker connection would declare them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Own {
    ssi: Ssi,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ssi {
    url: String,
    timeout_ms: u64,
}

impl Sections for Own {
    fn check(&self, problems: &mut Vec<String>) {
        if self.ssi.timeout_ms == 0 {
            problems.push("ssi.timeout_ms must be at least 1".to_owned());
        }
    }
}

const OWN_DEFAULTS: &str = "[ssi]\nurl = \"https://fc-data.ssi.com.vn\"\ntimeout_ms = 5000\n";

#[test]
fn a_service_reads_its_own_sections_beside_the_shared_ones() {
    let s = Settings::<Own>::load_from(
        oms(),
        OWN_DEFAULTS,
        &env(&[("OMS__SSI__TIMEOUT_MS", "750"), ("OMS__HTTP__PORT", "7100")]),
    )
    .unwrap();
    assert_eq!(s.own.ssi.url, "https://fc-data.ssi.com.vn");
    assert_eq!(s.own.ssi.timeout_ms, 750, "env reaches the own section");
    assert_eq!(s.http.port, 7100, "the shared part reads through Deref");
}

#[test]
fn problems_in_shared_and_own_sections_are_listed_together() {
    let err = Settings::<Own>::load_from(
        oms(),
        OWN_DEFAULTS,
        &env(&[
            ("OMS__SSI__TIMEOUT_MS", "0"),
            ("OMS__SHUTDOWN__GRACE_PERIOD_SECS", "0"),
        ]),
    )
    .unwrap_err();
    let Error::Invalid(problems) = &err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("ssi.timeout_ms")));
    assert!(problems.iter().any(|p| p.contains("grace_period_secs")));
}

#[test]
fn an_unknown_key_in_an_own_section_and_a_wrong_shared_type_are_both_reported() {
    let err = Settings::<Own>::load_from(
        oms(),
        OWN_DEFAULTS,
        &env(&[("OMS__SSI__URLL", "x"), ("OMS__HTTP__PORT", "eighty")]),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("urll"), "{text}");
    assert!(text.contains("port"), "{text}");
}

#[test]
fn a_misspelt_section_is_named_with_the_keys_that_exist() {
    let err = ServiceSettings::load_from(oms(), "", &env(&[("OMS__HTP__PORT", "1")])).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("htp"), "{text}");
    assert!(
        text.contains("shared keys: admin, auth, bus, cache"),
        "{text}"
    );
}

#[test]
fn limits_default_to_the_reference_file_and_take_env_and_overrides() {
    let s = ServiceSettings::load_from(oms(), "", &Sources::default()).unwrap();
    assert_eq!(
        s.limits,
        LimitsSettings::default(),
        "Default and config/default.toml agree"
    );
    assert_eq!(
        LimitsSettings::from_overrides(&[]).unwrap(),
        LimitsSettings::default()
    );
    let s = ServiceSettings::load_from(oms(), "", &env(&[("OMS__LIMITS__MAX_BODY_BYTES", "2048")]))
        .unwrap();
    assert_eq!(s.limits.max_body_bytes, 2048);
    let limits = LimitsSettings::from_overrides(&[
        ("limits.request_timeout_ms".into(), "250".into()),
        ("bus.kind".into(), "kafka".into()),
    ])
    .unwrap();
    assert_eq!(limits.request_timeout(), Duration::from_millis(250));
    assert_eq!(limits.header_read_timeout(), Duration::from_secs(10));
}

#[test]
fn broken_limits_are_each_reported() {
    let err = ServiceSettings::load_from(
        oms(),
        "",
        &env(&[
            ("OMS__LIMITS__HEADER_READ_TIMEOUT_MS", "0"),
            ("OMS__LIMITS__REQUEST_TIMEOUT_MS", "99999999"),
            ("OMS__LIMITS__MAX_CONCURRENT_REQUESTS", "0"),
            ("OMS__LIMITS__MAX_BODY_BYTES", "10"),
        ]),
    )
    .unwrap_err();
    let Error::Invalid(problems) = err else {
        panic!("expected invalid settings, got {err}")
    };
    assert_eq!(problems.len(), 4, "{problems:?}");
    for key in [
        "limits.header_read_timeout_ms",
        "limits.request_timeout_ms",
        "limits.max_concurrent_requests",
        "limits.max_body_bytes",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(key)),
            "{key}: {problems:?}"
        );
    }
    let err = LimitsSettings::from_overrides(&[("limits.max_body_bytes".into(), "1".into())])
        .unwrap_err();
    assert!(err.to_string().contains("limits.max_body_bytes"), "{err}");
    assert!(
        LimitsSettings::from_overrides(&[("limits.max_body_byte".into(), "2048".into())]).is_err(),
        "a misspelt key is an error"
    );
}

#[test]
fn outbox_inbox_and_consumer_settings_are_checked_together() {
    let s = ServiceSettings::load_from(oms(), "", &Sources::default()).unwrap();
    assert_eq!(s.outbox.max_attempts, 5);
    assert_eq!(s.inbox.retention_secs, 8 * 24 * 3600);
    let err = ServiceSettings::load_from(
        oms(),
        "",
        &env(&[
            ("OMS__OUTBOX__BATCH_SIZE", "0"),
            ("OMS__OUTBOX__MAX_BACKOFF_MS", "10"),
            ("OMS__INBOX__RETENTION_SECS", "0"),
            ("OMS__CONSUMER__MAX_ATTEMPTS", "0"),
        ]),
    )
    .unwrap_err();
    let Error::Invalid(problems) = err else {
        panic!("expected Invalid")
    };
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("outbox.max_backoff_ms")));
}

#[test]
fn an_overlay_lies_over_the_defaults_and_under_the_environment() {
    let mut sources = env(&[("OMS__DATABASE__MAX_CONNECTIONS", "7")]);
    sources.overlay = Some(
        "[database]\nmax_connections = 3\nconnect_timeout_ms = 1234\n[clock]\nspeed = 60.0\nstart = \"2025-06-10T09:00:00+07:00\"\nanchor = \"\"\n".to_owned(),
    );
    let s = ServiceSettings::load_from(oms(), "", &sources).unwrap();
    assert_eq!(s.database.max_connections, 7, "the environment wins");
    assert_eq!(
        s.database.connect_timeout_ms, 1234,
        "the overlay beats the defaults"
    );
    assert!(s.clock.clock().unwrap().is_simulated());
    sources.overlay = Some("[clock]\nstart = \"soon\"\n".to_owned());
    let err = ServiceSettings::load_from(oms(), "", &sources).unwrap_err();
    assert!(err.to_string().contains("clock.start"), "{err}");
}

#[test]
fn a_list_setting_takes_a_list_or_one_string_of_commas() {
    #[derive(Deserialize)]
    struct Listed {
        #[serde(deserialize_with = "list_or_commas")]
        items: Vec<String>,
    }
    let read = |text: &str| -> Vec<String> {
        config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize::<Listed>()
            .unwrap()
            .items
    };
    assert_eq!(read("items = [\" FPT\", \"\", \"HPG \"]"), ["FPT", "HPG"]);
    assert_eq!(read("items = \"FPT, HPG,,VNM\""), ["FPT", "HPG", "VNM"]);
    assert!(read("items = \"\"").is_empty());
}
