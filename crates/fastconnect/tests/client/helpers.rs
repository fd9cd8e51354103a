//! Client configurations pointing at the fake.

use fastconnect::{DataClient, DataConfig, HttpConfig, StreamConfig, TradingClient, TradingConfig};

use crate::fake_ssi::{FakeSsi, TEST_PRIVATE_KEY_XML_B64};

fn http() -> HttpConfig {
    HttpConfig {
        timeout_ms: 5_000,
        rate_limits: Vec::new(),
        ..HttpConfig::default()
    }
}

fn stream() -> StreamConfig {
    StreamConfig {
        reconnect_initial_ms: 20,
        reconnect_max_ms: 200,
        connect_timeout_ms: 5_000,
        ..StreamConfig::default()
    }
}

pub(crate) fn data_config(fake: &FakeSsi) -> DataConfig {
    let mut config = DataConfig::new("data-consumer", "data-s3cret".to_owned().into());
    config.url = fake.url();
    config.hub_url = fake.url();
    config.http = http();
    config.stream = stream();
    config
}

pub(crate) fn data_client(fake: &FakeSsi) -> DataClient {
    DataClient::new(data_config(fake)).unwrap()
}

pub(crate) fn trading_config(fake: &FakeSsi) -> TradingConfig {
    let mut config = TradingConfig::new(
        "trade-consumer",
        "trade-s3cret".to_owned().into(),
        TEST_PRIVATE_KEY_XML_B64.trim().to_owned().into(),
    );
    config.url = fake.url();
    config.hub_url = fake.url();
    config.pin = Some("123456".to_owned().into());
    config.device_id = "AA:BB:CC:DD:EE:FF".to_owned();
    config.http = http();
    config.stream = StreamConfig {
        client_protocol: "1.3".to_owned(),
        ..stream()
    };
    config
}

pub(crate) fn trading_client(fake: &FakeSsi) -> TradingClient {
    TradingClient::new(trading_config(fake)).unwrap()
}
