//! `qts bench replay FILES`: a recorded day through the fleet as fast as it goes — replayed onto
//! the bus, normalised by ingestion, built into bars by historical, taken into the TA service's
//! indicators — on the embedded bus or any bus the `--set` options choose; prints messages/s,
//! the raw → normalised lag (p50/p99) and when historical and ta caught up.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::fleet::{Fleet, Market, Options};

/// `qts bench replay` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Day files from `qts record`.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A setting for every service as section.key=value (repeatable), e.g. bus.kind=kafka.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = crate::fleet::parse_key_value)]
    pub overrides: Vec<(String, String)>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout_secs: u64,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Feed events replayed.
    pub events: u64,
    /// Securities replayed.
    pub securities: u64,
    /// Seconds to publish the day onto the bus.
    pub publish_secs: f64,
    /// Seconds until ingestion had handled every event.
    pub normalised_secs: f64,
    /// Raw → normalised lag quantiles (seconds), from ingestion's histogram.
    pub lag_p50: f64,
    /// 99th percentile of the same.
    pub lag_p99: f64,
    /// Trades published.
    pub trades: u64,
    /// Seconds until historical had consumed every trade (bars built and stored).
    pub stored_secs: f64,
    /// One-minute bars historical closed by then.
    pub bars: u64,
    /// Seconds until the TA service had taken in every one of those bars.
    pub analysed_secs: f64,
}

/// Runs the benchmark and writes the report to `out`.
pub async fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<Report> {
    let dir = std::env::temp_dir().join(format!("qts-bench-replay-{}", std::process::id()));
    let options = Options {
        market: Market::None,
        data_dir: Some(dir.clone()),
        ephemeral_ports: true,
        overrides: crate::bench_orders::fleet_overrides(&args.overrides),
        env: HashMap::new(),
    };
    let token = common::shutdown::CancellationToken::new();
    let fleet = Fleet::start(&options, token.clone()).await?;
    crate::gateway::wait_ready(fleet.http_routes(), Duration::from_secs(60)).await?;
    let ingestion = fleet.addrs("ingestion")?;
    let bus = fleet.event_bus(&args.overrides).await?;
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    let started = Instant::now();
    let stats = ingestion::record::replay(&args.files, &bus, None, &token).await?;
    let publish_secs = started.elapsed().as_secs_f64();
    let client = reqwest_like::Client::new();
    let (handled, trades) = loop {
        let status = client.status(ingestion.http).await?;
        let handled =
            status.total("published") + status.total("rejected") + status.total("duplicates");
        if handled >= stats.events {
            break (handled, status.count("published", "trade"));
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "ingestion handled {handled} of {} events in {}s",
            stats.events,
            args.timeout_secs
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let normalised_secs = started.elapsed().as_secs_f64();
    let admin = |name: &str| fleet.addrs(name).map(|a| a.admin);
    let (historical, ta) = (admin("historical")?, admin("ta")?);
    // Historical's catch-up: every trade consumed (its bars built and stored).
    let bars = loop {
        let m = client.metrics(historical).await?;
        if sum(&m, "historical_trades_total") >= trades as f64 {
            break sum(&m, "historical_bars_closed_total") as u64;
        }
        anyhow::ensure!(Instant::now() < deadline, "historical did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stored_secs = started.elapsed().as_secs_f64();
    // The TA service's: every one of those bars through its indicators.
    loop {
        let m = client.metrics(ta).await?;
        if sum(&m, "ta_bars_total{timeframe=\"1m\"}") >= bars as f64 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "ta did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let analysed_secs = started.elapsed().as_secs_f64();
    let metrics = client.metrics(ingestion.admin).await?;
    let buckets = histogram(&metrics, "ingestion_pipeline_lag_seconds");
    let report = Report {
        events: stats.events,
        securities: stats.securities,
        publish_secs,
        normalised_secs,
        lag_p50: quantile(&buckets, 0.5),
        lag_p99: quantile(&buckets, 0.99),
        trades,
        stored_secs,
        bars,
        analysed_secs,
    };
    token.cancel();
    fleet.wait().await?;
    let _ = std::fs::remove_dir_all(&dir);
    writeln!(
        out,
        "replayed {} events ({} securities) on the {} bus",
        report.events,
        report.securities,
        bus.kind()
    )?;
    writeln!(
        out,
        "published in {:.2}s ({:.0} events/s); normalised by ingestion in {:.2}s ({:.0} events/s, {handled} handled, {} trades)",
        report.publish_secs,
        report.events as f64 / report.publish_secs,
        report.normalised_secs,
        report.events as f64 / report.normalised_secs,
        report.trades,
    )?;
    writeln!(
        out,
        "raw -> normalised lag: p50 {:.1} ms, p99 {:.1} ms",
        report.lag_p50 * 1e3,
        report.lag_p99 * 1e3
    )?;
    writeln!(
        out,
        "historical consumed every trade after {:.2}s ({} one-minute bars closed); ta took in those bars after {:.2}s",
        report.stored_secs, report.bars, report.analysed_secs
    )?;
    Ok(report)
}

/// The sum of every series of a metric in Prometheus text format; `name` may end in a label
/// set (`ta_bars_total{timeframe="1m"}`) to take that series only.
fn sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            if !(rest.starts_with(' ') || rest.starts_with('{')) {
                return None;
            }
            rest.rsplit(' ').next()?.trim().parse::<f64>().ok()
        })
        .sum()
}

/// `(upper bound, cumulative count)` of a Prometheus histogram in text format.
fn histogram(text: &str, name: &str) -> Vec<(f64, f64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    let mut out: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&prefix)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// The `q` quantile by linear interpolation inside the bucket it falls in (as Prometheus'
/// `histogram_quantile`); the last finite bound when it falls in `+Inf`.
fn quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let Some(&(_, total)) = buckets.last() else {
        return 0.0;
    };
    if total <= 0.0 {
        return 0.0;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return prev.0;
            }
            let width = count - prev.1;
            let frac = if width > 0.0 {
                (rank - prev.1) / width
            } else {
                1.0
            };
            return prev.0 + (le - prev.0) * frac;
        }
        prev = (le, count);
    }
    prev.0
}

/// A minimal HTTP/1.1 client for the status and metrics (hyper's, already a dependency).
mod reqwest_like {
    use std::net::SocketAddr;

    use anyhow::Context;
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client as Hyper;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    pub(super) struct Client(Hyper<HttpConnector, Empty<Bytes>>);

    pub(super) struct Status(serde_json::Value);

    impl Status {
        pub(super) fn total(&self, section: &str) -> u64 {
            self.0[section]
                .as_array()
                .map_or(0, |a| a.iter().filter_map(|c| c["value"].as_u64()).sum())
        }

        pub(super) fn count(&self, section: &str, name: &str) -> u64 {
            self.0[section]
                .as_array()
                .and_then(|a| a.iter().find(|c| c["name"] == name))
                .and_then(|c| c["value"].as_u64())
                .unwrap_or(0)
        }
    }

    impl Client {
        pub(super) fn new() -> Self {
            Self(Hyper::builder(TokioExecutor::new()).build(HttpConnector::new()))
        }

        async fn get(&self, url: String) -> anyhow::Result<Vec<u8>> {
            let uri: http::Uri = url.parse().context("url")?;
            let response = self
                .0
                .get(uri)
                .await
                .with_context(|| format!("GET {url}"))?;
            let body = response.into_body().collect().await.context("body")?;
            Ok(body.to_bytes().to_vec())
        }

        pub(super) async fn status(&self, http: SocketAddr) -> anyhow::Result<Status> {
            let body = self
                .get(format!("http://{http}/api/ingestion/v1/status"))
                .await?;
            Ok(Status(
                serde_json::from_slice(&body).context("status JSON")?,
            ))
        }

        pub(super) async fn metrics(&self, admin: SocketAddr) -> anyhow::Result<String> {
            let body = self.get(format!("http://{admin}/metrics")).await?;
            String::from_utf8(body).context("metrics text")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_sums_its_series_or_takes_one() {
        let text = "t_total{by=\"a\"} 3\nt_total{by=\"b\"} 4\nt_total_other 9\nt_total 1\n";
        assert!((sum(text, "t_total") - 8.0).abs() < 1e-9);
        assert!((sum(text, "t_total{by=\"b\"}") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn quantiles_interpolate_inside_their_bucket() {
        let text = "x_bucket{le=\"0.1\"} 50\nx_bucket{le=\"0.2\"} 90\nx_bucket{le=\"+Inf\"} 100\n";
        let b = histogram(text, "x");
        assert_eq!(b.len(), 3);
        assert!((quantile(&b, 0.5) - 0.1).abs() < 1e-9);
        assert!((quantile(&b, 0.7) - 0.15).abs() < 1e-9);
        assert!(
            (quantile(&b, 0.99) - 0.2).abs() < 1e-9,
            "in +Inf: the last bound"
        );
    }
}
