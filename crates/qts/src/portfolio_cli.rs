//! `qts portfolio`: choose `K` securities from bars (CSV, a historical database, feed
//! recordings or a generated market) as a QUBO, with every solver of the `qubo` crate, and set
//! each answer against the proven best `K`-subset (branch and bound, when it finishes in time)
//! and the continuous mean-variance optimum.

use std::io::Write;
use std::time::{Duration, Instant};

use qubo::portfolio::{Model, Problem, Selection, Universe};
use qubo::{Params, Solver};
use serde::Serialize;

use crate::backtest_cli::Source;

/// `qts portfolio`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the bars come from (daily closes give daily returns).
    #[command(flatten)]
    pub source: Source,
    /// Securities to hold, each bought with budget/K in whole lots.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Money to invest (VND).
    #[arg(long, default_value_t = 1e9)]
    pub budget: f64,
    /// λ in `expected return − λ·variance` (of one period's return).
    #[arg(long, default_value_t = 5.0)]
    pub risk_aversion: f64,
    /// QUBO solvers to compare (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "sa,sqa,sb,dsb,pt,tabu")]
    pub solvers: Vec<Solver>,
    /// Time each solver gets.
    #[arg(long, default_value_t = 1000)]
    pub time_limit_ms: u64,
    /// Time the branch and bound gets to prove the best subset.
    #[arg(long, default_value_t = 10_000)]
    pub exact_time_limit_ms: u64,
    /// Shares per lot.
    #[arg(long, default_value_t = 100)]
    pub lot: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One method's answer.
#[derive(Debug, Serialize)]
pub struct Row {
    /// `continuous`, `branch-and-bound` or a solver's name.
    pub method: String,
    /// Wall time.
    pub time_ms: f64,
    /// `return − λ·variance`; `None` when the method found no `K`-subset.
    pub objective: Option<f64>,
    /// Expected return of one period.
    pub expected_return: Option<f64>,
    /// Standard deviation of that return.
    pub stdev: Option<f64>,
    /// Short of the best subset found, as a share of it (0 is the best).
    pub gap: Option<f64>,
    /// Short of the continuous optimum, as a share of it.
    pub gap_to_continuous: Option<f64>,
    /// Tickers chosen.
    pub chosen: Vec<String>,
}

/// What `qts portfolio` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Where the bars came from.
    pub source: String,
    /// Securities in the universe, and how many are affordable in whole lots.
    pub securities: usize,
    /// Securities one lot of which fits in budget/K.
    pub affordable: usize,
    /// Return periods used.
    pub periods: usize,
    /// Securities to hold.
    pub k: usize,
    /// Whether the branch and bound finished, so `best` is proven optimal.
    pub proven: bool,
    /// Every method, continuous and branch and bound first.
    pub rows: Vec<Row>,
    /// The best subset found: ticker, shares, weight.
    pub best: Vec<(String, u64, f64)>,
}

/// Runs `qts portfolio`.
pub async fn main(args: Args, out: &mut impl Write) -> anyhow::Result<()> {
    let (bars, source) = args.source.read().await?;
    let (universe, periods) = universe(&bars, args.lot)?;
    let report = compare(&universe, periods, &args, source)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print(&report, &args, out)?;
    }
    Ok(())
}

/// Returns of the closes on the periods every symbol traded, the last close as the price;
/// and the number of returns.
pub fn universe(bars: &backtest::data::Bars, lot: u64) -> anyhow::Result<(Universe, usize)> {
    let n = bars.symbols().len();
    anyhow::ensure!(
        n >= 2,
        "the bars hold {n} symbol(s); a portfolio needs at least two"
    );
    let panel = crate::ml_cli::panel(bars)?;
    let complete: Vec<&[f64]> = (0..panel.dates().len())
        .map(|d| panel.closes(d))
        .filter(|c| c.iter().all(|v| v.is_finite()))
        .collect();
    anyhow::ensure!(
        complete.len() >= 3,
        "only {} periods have a bar of every symbol; at least 3 are needed",
        complete.len()
    );
    let returns: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            complete
                .windows(2)
                .map(|w| w[1][i] / w[0][i] - 1.0)
                .collect()
        })
        .collect();
    let last = complete[complete.len() - 1];
    let periods = complete.len() - 1;
    let u = Universe::from_returns(
        bars.symbols()
            .iter()
            .map(|l| l.symbol.to_string())
            .collect(),
        &returns,
        last.to_vec(),
        vec![lot; n],
    )?;
    Ok((u, periods))
}

/// Every method on one universe.
pub fn compare(
    u: &Universe,
    periods: usize,
    args: &Args,
    source: String,
) -> anyhow::Result<Report> {
    let problem = Problem {
        k: args.k,
        budget: args.budget,
        risk_aversion: args.risk_aversion,
    };
    let model = Model::new(u, &problem)?;
    let mut answers: Vec<(String, f64, Option<Selection>)> = Vec::new();
    for &solver in &args.solvers {
        if solver == Solver::Exact && model.qubo.len() > qubo::EXACT_MAX {
            continue;
        }
        let params = Params {
            seed: args.source.seed,
            time_limit: Some(Duration::from_millis(args.time_limit_ms)),
            ..Params::default()
        };
        let started = Instant::now();
        let solved = qubo::solve(&model.qubo, solver, &params)?;
        answers.push((
            solver.name().to_owned(),
            ms(started),
            model.selection(u, &solved.x),
        ));
    }
    // The best heuristic answer seeds the branch and bound's pruning.
    let incumbent = answers
        .iter()
        .filter_map(|a| a.2.as_ref())
        .max_by(|a, b| a.objective.total_cmp(&b.objective))
        .cloned();
    let judge = model.yardstick(
        u,
        incumbent.as_ref(),
        Duration::from_millis(args.exact_time_limit_ms),
    );
    let row = |method: &str, time_ms: f64, s: Option<&Selection>| Row {
        method: method.to_owned(),
        time_ms,
        objective: s.map(|s| s.objective),
        expected_return: s.map(|s| s.expected_return),
        stdev: s.map(|s| s.variance.max(0.0).sqrt()),
        gap: s.and_then(|s| judge.gap(s)),
        gap_to_continuous: s.map(|s| judge.gap_to_bound(s)),
        chosen: s.map_or_else(Vec::new, |s| {
            s.chosen.iter().map(|&i| u.names[i].clone()).collect()
        }),
    };
    let mut rows = vec![Row {
        method: "continuous".into(),
        time_ms: judge.bound_time.as_secs_f64() * 1e3,
        objective: Some(judge.bound),
        expected_return: None,
        stdev: None,
        gap: None,
        gap_to_continuous: Some(0.0),
        chosen: Vec::new(),
    }];
    rows.push(row(
        "branch-and-bound",
        judge.search_time.as_secs_f64() * 1e3,
        judge.best.as_ref(),
    ));
    for (method, time_ms, s) in &answers {
        rows.push(row(method, *time_ms, s.as_ref()));
    }
    Ok(Report {
        source,
        securities: u.len(),
        affordable: model.index.len(),
        periods,
        k: args.k,
        proven: judge.proven,
        rows,
        best: judge.best.as_ref().map_or_else(Vec::new, |b| {
            b.chosen
                .iter()
                .zip(&b.shares)
                .zip(&b.weights)
                .map(|((&i, &s), &w)| (u.names[i].clone(), s, w))
                .collect()
        }),
    })
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}

fn print(r: &Report, args: &Args, out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "{}: {} securities, {} returns each ({} affordable in whole lots of {}); choose {} with {:.0} VND, λ = {}",
        r.source,
        r.securities,
        r.periods,
        r.affordable,
        args.lot,
        r.k,
        args.budget,
        args.risk_aversion
    )?;
    writeln!(
        out,
        "{:<18} {:>9} {:>12} {:>10} {:>9} {:>9} {:>9}  chosen",
        "method", "time_ms", "objective", "return", "stdev", "gap", "gap_cont"
    )?;
    let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{:.3}%", v * 100.0));
    let num = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.6}"));
    for row in &r.rows {
        writeln!(
            out,
            "{:<18} {:>9.1} {:>12} {:>10} {:>9} {:>9} {:>9}  {}",
            row.method,
            row.time_ms,
            num(row.objective),
            pct(row.expected_return),
            pct(row.stdev),
            pct(row.gap),
            pct(row.gap_to_continuous),
            row.chosen.join(",")
        )?;
    }
    writeln!(
        out,
        "branch and bound: {}",
        if r.proven {
            "finished, the best subset is proven"
        } else {
            "stopped at its time limit; the best subset is the best found, not proven"
        }
    )?;
    for (name, shares, weight) in &r.best {
        writeln!(
            out,
            "  {name:<6} {shares:>10} shares  {:>6.2}%",
            weight * 100.0
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn args(list: &[&str]) -> Args {
        Cli::parse_from(std::iter::once("portfolio").chain(list.iter().copied())).args
    }

    #[tokio::test]
    async fn every_solver_is_held_against_the_proven_best_subset_and_the_continuous_bound() {
        let a = args(&[
            "--synthetic",
            "16",
            "--days",
            "120",
            "--k",
            "4",
            "--time-limit-ms",
            "100",
            "--json",
        ]);
        let mut out = Vec::new();
        main(a, &mut out).await.unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(report["securities"], 16);
        assert_eq!(report["periods"], 119);
        assert_eq!(report["proven"], true);
        let rows = report["rows"].as_array().unwrap();
        let methods: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
        assert_eq!(
            methods,
            [
                "continuous",
                "branch-and-bound",
                "sa",
                "sqa",
                "sb",
                "dsb",
                "pt",
                "tabu"
            ]
        );
        let bound = rows[0]["objective"].as_f64().unwrap();
        let best = rows[1]["objective"].as_f64().unwrap();
        assert!(best <= bound);
        for row in &rows[1..] {
            let objective = row["objective"]
                .as_f64()
                .expect("every solver chose exactly k");
            assert!(objective <= best + 1e-15, "{row}");
            assert!(row["gap"].as_f64().unwrap() >= -1e-12);
            assert_eq!(row["chosen"].as_array().unwrap().len(), 4);
        }
        // The best subset in whole lots, within the budget.
        let held: f64 = report["best"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[2].as_f64().unwrap())
            .sum();
        assert!(held <= 1.0 && held > 0.9, "{held}");
    }

    #[tokio::test]
    async fn a_portfolio_needs_affordable_securities_and_periods() {
        let mut out = Vec::new();
        let e = main(
            args(&["--synthetic", "3", "--days", "50", "--k", "4"]),
            &mut out,
        )
        .await
        .unwrap_err();
        assert!(format!("{e:#}").contains("cannot choose 4"), "{e:#}");
        let e = main(args(&["--synthetic", "3", "--days", "2"]), &mut out)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("at least 3 are needed"), "{e:#}");
        let e = main(
            // 50,000 VND each: less than one lot of anything (100 shares of at least 5,000 VND).
            args(&["--synthetic", "5", "--budget", "100000", "--k", "2"]),
            &mut out,
        )
        .await
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("only 0 securities cost one lot or less"),
            "{e:#}"
        );
    }
}
