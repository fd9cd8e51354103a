//! `qts rl`: the reinforcement-learning agent (`rl`) from the command line. Trains it by the
//! cross-entropy method on the dates up to `--train-to` of bars from any source of `qts
//! backtest` (a generated market with `--synthetic N [--planted-reversal R]`, CSV, a database,
//! recordings), every episode played through the backtest's matching engine, fees, tax, T+2 and
//! risk checks; then judges it on the dates after, beside random policies of the same form,
//! doing nothing, and holding the market.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use backtest::Config;
use rl::cem::{self, Settings};

use crate::backtest_cli::{Source, date};

/// `qts rl`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the bars come from (daily bars).
    #[command(flatten)]
    pub source: Source,
    /// Last date the agent learns from (YYYY-MM-DD); it is judged on the dates after.
    #[arg(long)]
    pub train_to: String,
    /// Policies per generation.
    #[arg(long, default_value_t = Settings::default().population)]
    pub population: usize,
    /// The best this many of each generation refit the search.
    #[arg(long, default_value_t = Settings::default().elite)]
    pub elite: usize,
    /// Generations.
    #[arg(long, default_value_t = Settings::default().generations)]
    pub generations: usize,
    /// Starting deviation of every parameter.
    #[arg(long, default_value_t = Settings::default().sigma)]
    pub sigma: f64,
    /// Extra deviation each generation, shrinking to 0.
    #[arg(long, default_value_t = Settings::default().noise)]
    pub noise: f64,
    /// Seed of the search and of the random policies (the bars' own seed is --seed).
    #[arg(long, default_value_t = Settings::default().seed)]
    pub agent_seed: u64,
    /// Random policies to judge the agent against.
    #[arg(long, default_value_t = 20)]
    pub random: usize,
    /// A backtest configuration (TOML): the account, limits and fill model.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Write the trained policy here (JSON).
    #[arg(long)]
    pub save: Option<PathBuf>,
}

fn pct(v: f64) -> String {
    format!("{:+.2}%", v * 100.0)
}

/// Runs `qts rl`.
pub async fn main(args: Args, out: &mut impl Write) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("read {}", p.display()))?;
            Config::parse(&p.display().to_string(), &text)?
        }
        None => Config::fleet()?,
    };
    let train_to = date(&Some(args.train_to.clone()), "train-to")?.context("--train-to")?;
    anyhow::ensure!(args.random <= 1000, "--random must be at most 1000");
    let settings = Settings {
        population: args.population,
        elite: args.elite,
        generations: args.generations,
        sigma: args.sigma,
        noise: args.noise,
        seed: args.agent_seed,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    settings.check()?;
    let (bars, source) = args.source.read().await?;
    let random = args.random;
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let market = rl::Market::new(bars, config)?;
        let dates = market.dates();
        let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
            anyhow::bail!("no bars");
        };
        let test_from = dates
            .iter()
            .copied()
            .find(|d| *d > train_to)
            .with_context(|| {
                format!("no dates after --train-to {train_to} (the bars end {last})")
            })?;
        // The first date only sets the reference price.
        let train_from = dates.get(1).copied().unwrap_or(first);
        let trained = cem::train(&market, train_from, train_to, &settings)?;
        let judged = rl::judge(&market, &trained.policy, test_from, last, random, &settings)?;
        Ok((trained, judged, (train_from, train_to, test_from, last)))
    })
    .await??;
    let (trained, judged, (train_from, train_to, test_from, last)) = report;
    writeln!(out, "bars: {source}")?;
    writeln!(
        out,
        "training {train_from}..{train_to}: {} episodes, {} generations of {}",
        trained.episodes,
        trained.generations.len(),
        args.population
    )?;
    writeln!(out, "generation  best  elite  mean")?;
    for (g, r) in trained.generations.iter().enumerate() {
        writeln!(
            out,
            "{:>10}  {}  {}  {}",
            g + 1,
            pct(r.best),
            pct(r.elite),
            pct(r.mean)
        )?;
    }
    writeln!(
        out,
        "the agent on its training dates: {}",
        pct(trained.train_return)
    )?;
    let a = &judged.agent;
    writeln!(out, "judged on {test_from}..{last} (not trained on):")?;
    writeln!(
        out,
        "  agent: return {}, Sharpe {:.2}, max drawdown {:.2}%, turnover {:.1}, {} fills, fees {} VND, tax {} VND, {} orders ({} refused)",
        pct(a.total_return),
        a.sharpe,
        a.max_drawdown * 100.0,
        a.turnover,
        a.trades,
        a.fees,
        a.tax,
        a.orders,
        a.rejected
    )?;
    let (mean, sd) = judged.random_moments();
    writeln!(
        out,
        "  {} random policies: mean {}, sd {}; the agent beats {} of them",
        judged.random.len(),
        pct(mean),
        pct(sd),
        judged.beaten()
    )?;
    writeln!(out, "  doing nothing: +0.00%")?;
    writeln!(
        out,
        "  holding the market (equal weight, before costs): {}",
        pct(judged.market)
    )?;
    if let Some(path) = &args.save {
        std::fs::write(path, serde_json::to_string_pretty(&trained.policy)?)
            .with_context(|| format!("write {}", path.display()))?;
        writeln!(out, "policy written to {}", path.display())?;
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
        Cli::parse_from(std::iter::once("rl").chain(list.iter().copied())).args
    }

    async fn run(list: &[&str]) -> anyhow::Result<String> {
        let mut out = Vec::new();
        main(args(list), &mut out).await?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[tokio::test]
    async fn the_agent_trains_is_judged_and_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        let market = [
            "--synthetic",
            "10",
            "--days",
            "120",
            "--planted-reversal",
            "0.2",
        ];
        let mut list = market.to_vec();
        list.extend([
            "--train-to",
            "2016-04-15",
            "--population",
            "4",
            "--elite",
            "2",
            "--generations",
            "2",
            "--random",
            "3",
            "--save",
            path.to_str().unwrap(),
        ]);
        let text = run(&list).await.unwrap();
        for needle in [
            "10 symbols",
            "9 episodes, 2 generations of 4",
            "judged on 2016-04-",
            "3 random policies",
            "holding the market",
        ] {
            assert!(text.contains(needle), "{needle:?} in {text}");
        }
        let policy: rl::Policy =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(policy.weights.len(), policy.features.len());

        let mut late = market.to_vec();
        late.extend(["--train-to", "2030-01-01"]);
        let e = run(&late).await.unwrap_err().to_string();
        assert!(e.contains("no dates after --train-to 2030-01-01"), "{e}");
        let mut bad = market.to_vec();
        bad.extend(["--train-to", "2016-04-15", "--elite", "1"]);
        let e = run(&bad).await.unwrap_err().to_string();
        assert!(e.contains("elite"), "{e}");
        let mut bad = market.to_vec();
        bad.extend(["--train-to", "15/04/2016"]);
        let e = run(&bad).await.unwrap_err().to_string();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
    }
}
