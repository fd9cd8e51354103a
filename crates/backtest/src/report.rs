//! A run written out: `report.json` (everything), `equity.csv`, `trades.csv`, `orders.csv`
//! and `report.html` (the numbers, the equity curve and drawdown as inline SVG, the
//! rejections by rule and the trades). Self-contained, no script, no network: it opens from a
//! file anywhere.
//!
//! The charts are drawn here as SVG paths rather than with a plotting crate: `plotters` (the
//! maintained Rust choice) needs a font rasteriser (font-kit and the system's fontconfig, or a
//! bundled TTF) even for SVG axis labels, a heavy build for two line charts whose labels the
//! browser can render itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use time::Date;

use crate::Error;
use crate::config::Config;
use crate::metrics::{Metrics, Summary, drawdowns};
use crate::run::{Day, OrderRow, Outcome, Trade};

/// What a report says about its input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Input {
    /// Where the bars came from (files, database, generator and seed).
    pub source: String,
    /// Symbols.
    pub symbols: usize,
    /// Bar length, seconds.
    pub seconds: u32,
    /// First trading day of the bars.
    pub first: Option<Date>,
    /// Last trading day.
    pub last: Option<Date>,
    /// First day traded (earlier bars warm the indicators up).
    pub trade_from: Option<Date>,
}

/// A whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report<'a> {
    /// What went in.
    pub input: Input,
    /// The configuration run.
    pub config: &'a Config,
    /// Bars read.
    pub bar_events: u64,
    /// Signals read off them while trading.
    pub signals: u64,
    /// The numbers.
    pub summary: Summary,
    /// Strategy ids (the order of `equity[].strategies`).
    pub strategies: &'a [String],
    /// End of each trading day.
    pub equity: &'a [Day],
    /// Fills.
    pub trades: &'a [Trade],
    /// Orders decided.
    pub orders: &'a [OrderRow],
}

impl<'a> Report<'a> {
    /// The report of `outcome`.
    pub fn new(input: Input, config: &'a Config, outcome: &'a Outcome) -> Self {
        Report {
            input,
            config,
            bar_events: outcome.bar_events,
            signals: outcome.signals,
            summary: crate::metrics::summarise(outcome, config.backtest.risk_free_rate),
            strategies: &outcome.strategies,
            equity: &outcome.days,
            trades: &outcome.trades,
            orders: &outcome.orders,
        }
    }

    /// `report.json`.
    pub fn json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Io(e.to_string()))
    }

    /// `equity.csv`: date, equity, holdings, then each strategy's equity.
    pub fn equity_csv(&self) -> String {
        let mut out = String::from("date,equity,holdings");
        for s in self.strategies {
            let _ = write!(out, ",{}", csv_field(s));
        }
        out.push('\n');
        for d in self.equity {
            let _ = write!(out, "{},{},{}", d.date, d.equity, d.holdings);
            for e in &d.strategies {
                let _ = write!(out, ",{e}");
            }
            out.push('\n');
        }
        out
    }

    /// `trades.csv`.
    pub fn trades_csv(&self) -> String {
        let mut out =
            String::from("time,strategy,client_id,symbol,side,quantity,price,fees,tax,realised\n");
        for t in self.trades {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                rfc3339(t.time),
                csv_field(&t.strategy),
                csv_field(&t.client_id),
                t.symbol,
                t.side,
                t.quantity,
                t.price,
                t.fees,
                t.tax,
                t.realised
            );
        }
        out
    }

    /// `orders.csv`.
    pub fn orders_csv(&self) -> String {
        let mut out = String::from(
            "time,strategy,client_id,symbol,side,price,quantity,filled,outcome,rejection,reason\n",
        );
        for o in self.orders {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{}",
                rfc3339(o.time),
                csv_field(&o.strategy),
                csv_field(&o.client_id),
                o.symbol,
                o.side,
                o.price,
                o.quantity,
                o.filled,
                o.outcome,
                csv_field(o.rejection.as_deref().unwrap_or("")),
                csv_field(&o.reason)
            );
        }
        out
    }

    /// `report.html`.
    pub fn html(&self) -> String {
        let mut h = String::with_capacity(64 * 1024);
        let title = format!(
            "QTS backtest: {} symbols, {} – {}",
            self.input.symbols,
            opt_date(self.input.trade_from.or(self.input.first)),
            opt_date(self.input.last)
        );
        let _ = write!(
            h,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n\
             <p>Source: {src}. {bars} bar events ({secs} s bars), {sig} signals, {o} orders, \
             {tr} fills. Strategies decide on a bar's close and trade the next bar (see \
             <code>crates/backtest/src/run.rs</code> for the model).</p>\n",
            t = esc(&title),
            src = esc(&self.input.source),
            bars = self.bar_events,
            secs = self.input.seconds,
            sig = self.signals,
            o = self.orders.len(),
            tr = self.trades.len(),
        );
        h.push_str("<h2>Results</h2>\n");
        self.metrics_table(&mut h);
        h.push_str("<h2>Return</h2>\n");
        let mut series: Vec<(String, Vec<f64>)> = vec![(
            "account".to_owned(),
            self.equity
                .iter()
                .map(|d| d.equity as f64 / self.summary.total.start_equity.max(1) as f64 - 1.0)
                .collect(),
        )];
        for (k, (id, m)) in self.summary.strategies.iter().enumerate() {
            series.push((
                id.clone(),
                self.equity
                    .iter()
                    .map(|d| d.strategies[k] as f64 / m.start_equity.max(1) as f64 - 1.0)
                    .collect(),
            ));
        }
        let dates: Vec<Date> = self.equity.iter().map(|d| d.date).collect();
        chart(&mut h, &dates, &series, false);
        h.push_str("<h2>Drawdown (account)</h2>\n");
        let dd = drawdowns(
            self.summary.total.start_equity,
            &self.equity.iter().map(|d| d.equity).collect::<Vec<_>>(),
        );
        chart(&mut h, &dates, &[("drawdown".to_owned(), dd)], true);
        h.push_str("<h2>Refused orders by rule</h2>\n");
        let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
        for o in self.orders {
            if let Some(r) = &o.rejection {
                let rule: String = r.splitn(3, ": ").take(2).collect::<Vec<_>>().join(": ");
                *by_rule.entry(rule).or_default() += 1;
            }
        }
        if by_rule.is_empty() {
            h.push_str("<p>None.</p>\n");
        } else {
            h.push_str("<table><tr><th>rule</th><th>orders</th></tr>\n");
            for (rule, n) in by_rule {
                let _ = writeln!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(&rule));
            }
            h.push_str("</table>\n");
        }
        const SHOWN: usize = 500;
        let _ = writeln!(
            h,
            "<h2>Trades</h2>\n<p>{} fills{}; all of them are in trades.csv.</p>",
            self.trades.len(),
            if self.trades.len() > SHOWN {
                format!(", the first {SHOWN} shown")
            } else {
                String::new()
            }
        );
        h.push_str(
            "<table><tr><th>time</th><th>strategy</th><th>symbol</th><th>side</th>\
             <th>quantity</th><th>price</th><th>fees</th><th>tax</th><th>realised</th></tr>\n",
        );
        for t in self.trades.iter().take(SHOWN) {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>",
                rfc3339(t.time),
                esc(&t.strategy),
                esc(&t.symbol),
                t.side,
                t.quantity,
                t.price,
                t.fees,
                t.tax,
                t.realised
            );
        }
        h.push_str("</table>\n</body></html>\n");
        h
    }

    fn metrics_table(&self, h: &mut String) {
        let mut cols: Vec<(&str, &Metrics)> = vec![("account", &self.summary.total)];
        for (id, m) in &self.summary.strategies {
            cols.push((id, m));
        }
        h.push_str("<table><tr><th></th>");
        for (id, _) in &cols {
            let _ = write!(h, "<th>{}</th>", esc(id));
        }
        h.push_str("</tr>\n");
        type Cell = fn(&Metrics) -> String;
        let rows: [(&str, Cell); 17] = [
            ("start equity (VND)", |m| group(m.start_equity)),
            ("end equity (VND)", |m| group(m.end_equity)),
            ("return", |m| format!("{:.2}%", m.total_return * 100.0)),
            ("CAGR", |m| format!("{:.2}%", m.cagr * 100.0)),
            ("volatility", |m| format!("{:.2}%", m.volatility * 100.0)),
            ("Sharpe", |m| format!("{:.2}", m.sharpe)),
            ("Sortino", |m| format!("{:.2}", m.sortino)),
            ("max drawdown", |m| {
                format!("{:.2}%", m.max_drawdown * 100.0)
            }),
            ("longest drawdown (days)", |m| {
                m.max_drawdown_days.to_string()
            }),
            ("turnover (per year)", |m| format!("{:.2}", m.turnover)),
            ("exposure", |m| format!("{:.2}%", m.exposure * 100.0)),
            ("orders / refused", |m| {
                format!("{} / {}", m.orders, m.rejected)
            }),
            ("fills", |m| m.trades.to_string()),
            ("traded value (VND)", |m| group(m.traded_value)),
            ("fees + tax (VND)", |m| group(m.fees + m.tax)),
            ("realised (VND)", |m| group(m.realised)),
            ("wins / losses", |m| {
                format!("{} / {} ({:.0}%)", m.wins, m.losses, m.win_rate * 100.0)
            }),
        ];
        for (name, cell) in rows {
            let _ = write!(h, "<tr><th>{name}</th>");
            for (_, m) in &cols {
                let _ = write!(h, "<td>{}</td>", cell(m));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }

    /// Writes every file into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let io = |what: &str, e: std::io::Error| Error::Io(format!("{what}: {e}"));
        std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
        for (name, text) in [
            ("report.json", self.json()?),
            ("equity.csv", self.equity_csv()),
            ("trades.csv", self.trades_csv()),
            ("orders.csv", self.orders_csv()),
            ("report.html", self.html()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| io(&path.display().to_string(), e))?;
        }
        Ok(())
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;\
text-align:right}th{background:#f4f4f4}svg{background:#fff;border:1px solid #ddd}\
.legend span{margin-right:1.5em}";

const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
];

/// A line chart of `series` (fractions, shown as percent) over `dates`.
fn chart(h: &mut String, dates: &[Date], series: &[(String, Vec<f64>)], fill: bool) {
    let (w, ht, left, right, top, bottom) = (900.0, 300.0, 70.0, 20.0, 15.0, 30.0);
    let n = dates.len();
    if n == 0 {
        h.push_str("<p>No trading days.</p>\n");
        return;
    }
    let values = series.iter().flat_map(|(_, v)| v.iter().copied());
    let (mut lo, mut hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi - lo < 1e-9 {
        hi += 0.01;
        lo -= 0.01;
    }
    let x = |i: usize| left + (w - left - right) * i as f64 / (n.max(2) - 1) as f64;
    let y = |v: f64| top + (ht - top - bottom) * (hi - v) / (hi - lo);
    let _ = writeln!(
        h,
        "<svg viewBox=\"0 0 {w} {ht}\" width=\"{w}\" height=\"{ht}\" role=\"img\">"
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let _ = writeln!(
            h,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{:.1}%</text>",
            w - right,
            left - 5.0,
            y(v) + 4.0,
            v * 100.0,
            y = y(v)
        );
    }
    for k in 0..=4 {
        let i = (n - 1) * k / 4;
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"{}\">{}</text>",
            x(i),
            ht - 8.0,
            match k {
                0 => "start",
                4 => "end",
                _ => "middle",
            },
            dates[i]
        );
    }
    for (k, (_, v)) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut d = String::with_capacity(v.len() * 14);
        for (i, value) in v.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                x(i),
                y(*value)
            );
        }
        if fill {
            let _ = write!(
                d,
                "L{:.1},{:.1}L{:.1},{:.1}Z",
                x(v.len() - 1),
                y(0.0),
                x(0),
                y(0.0)
            );
            let _ = writeln!(
                h,
                "<path d=\"{d}\" fill=\"{colour}\" fill-opacity=\"0.3\" stroke=\"{colour}\"/>"
            );
        } else {
            let _ = writeln!(
                h,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\"/>",
                if k == 0 { 2 } else { 1 }
            );
        }
    }
    h.push_str("</svg>\n<p class=\"legend\">");
    for (k, (name, _)) in series.iter().enumerate() {
        let _ = write!(
            h,
            "<span style=\"color:{}\">■ {}</span>",
            COLOURS[k % COLOURS.len()],
            esc(name)
        );
    }
    h.push_str("</p>\n");
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn opt_date(d: Option<Date>) -> String {
    d.map_or_else(|| "–".to_owned(), |d| d.to_string())
}

/// 1234567 → `1,234,567`.
fn group(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}
