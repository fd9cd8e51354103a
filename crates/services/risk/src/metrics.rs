//! Every metric the risk service emits (`risk_*`), registered in the registry `App::build` makes.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Checks, by result (`accepted`, `rejected`, `unavailable`).
    pub checks: IntCounterVec,
    /// Broken rules, by rule.
    pub rejections: IntCounterVec,
    /// Kill switches engaged and released.
    pub kill_switches: IntCounterVec,
    /// Kill switches engaged now, by scope (`global`, `account`, `strategy`).
    pub kills_engaged: IntGaugeVec,
    /// Bus events applied, by kind (`security`, `fill`, `order_ended`, `duplicate_fill`,
    /// `account`, `malformed`).
    pub events: IntCounterVec,
    /// Time one check takes inside the engine.
    pub check_seconds: Histogram,
    /// Alerts published, by kind.
    pub alerts: IntCounterVec,
    /// Per account and strategy (`scope`, `key`): today's P&L, its drawdown from today's high,
    /// exposure and initial margin used, VND.
    pub pnl_today: IntGaugeVec,
    /// See `pnl_today`.
    pub drawdown: IntGaugeVec,
    /// See `pnl_today`.
    pub exposure: IntGaugeVec,
    /// See `pnl_today`.
    pub margin_used: IntGaugeVec,
    /// Breakers refusing orders now (symbol breakers and the market-wide one).
    pub breakers_active: IntGauge,
    /// Symbols halted now.
    pub halted: IntGauge,
}

fn book_gauge(name: &str, help: &str) -> Result<IntGaugeVec, prometheus::Error> {
    IntGaugeVec::new(
        Opts::new(name, format!("{help}, VND, per account and strategy")),
        &["scope", "key"],
    )
}

impl Metrics {
    /// Creates and registers every metric in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            checks: IntCounterVec::new(
                Opts::new("risk_checks_total", "Pre-trade checks, by result"),
                &["result"],
            )?,
            rejections: IntCounterVec::new(
                Opts::new(
                    "risk_rejections_total",
                    "Rules broken by checked orders, by rule",
                ),
                &["rule"],
            )?,
            kill_switches: IntCounterVec::new(
                Opts::new(
                    "risk_kill_switch_changes_total",
                    "Kill switches engaged and released",
                ),
                &["change"],
            )?,
            kills_engaged: IntGaugeVec::new(
                Opts::new(
                    "risk_kill_switches_engaged",
                    "Kill switches engaged now, by scope (global, account, strategy)",
                ),
                &["scope"],
            )?,
            events: IntCounterVec::new(
                Opts::new(
                    "risk_events_total",
                    "Bus events applied to the risk state, by kind",
                ),
                &["kind"],
            )?,
            check_seconds: Histogram::with_opts(
                HistogramOpts::new("risk_check_seconds", "Time one check takes in the engine")
                    .buckets(vec![1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3]),
            )?,
            alerts: IntCounterVec::new(
                Opts::new("risk_alerts_total", "Monitor alerts published, by kind"),
                &["kind"],
            )?,
            pnl_today: book_gauge(
                "risk_pnl_today_vnd",
                "Today's P&L, marked to the last trade",
            )?,
            drawdown: book_gauge("risk_drawdown_vnd", "Fall of today's P&L from its high")?,
            exposure: book_gauge("risk_exposure_vnd", "Holdings at cost plus open buys")?,
            margin_used: book_gauge(
                "risk_margin_used_vnd",
                "Initial margin of futures positions and open futures orders",
            )?,
            breakers_active: IntGauge::new(
                "risk_breakers_active",
                "Breakers refusing orders now (symbols and the market-wide one)",
            )?,
            halted: IntGauge::new("risk_halted_symbols", "Symbols halted now")?,
        };
        for c in [
            &m.checks,
            &m.rejections,
            &m.kill_switches,
            &m.events,
            &m.alerts,
        ] {
            registry.register(Box::new(c.clone()))?;
        }
        for g in [&m.pnl_today, &m.drawdown, &m.exposure, &m.margin_used] {
            registry.register(Box::new(g.clone()))?;
        }
        for scope in ["global", "account", "strategy"] {
            m.kills_engaged.with_label_values(&[scope]).set(0);
        }
        registry.register(Box::new(m.kills_engaged.clone()))?;
        registry.register(Box::new(m.breakers_active.clone()))?;
        registry.register(Box::new(m.halted.clone()))?;
        registry.register(Box::new(m.check_seconds.clone()))?;
        Ok(m)
    }
}
