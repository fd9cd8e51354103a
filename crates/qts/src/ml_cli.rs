//! `qts ml`: the prediction pipeline from the command line. `evaluate` runs the `ml` feature
//! pipeline and a ridge model (or gradient-boosted trees, `--model gbt`, or a small neural
//! network, `--model mlp`) walk-forward (purged, embargoed) over bars from the sources of
//! `qts backtest` and prints the out-of-sample scores; with `--registry DIR` it also trains on
//! every date and saves the model with those scores. `list` and `promote` manage the registry.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use ml::model::{ModelKind, TreeParams};
use ml::net::NetParams;
use ml::registry::Registry;
use ml::train::{self, Recipe};
use ml::validate::walk_forward_with;
use ml::{Panel, features, labels};

use crate::backtest_cli::Source;

/// `qts ml ...`
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Walk-forward evaluation of the ridge baseline or gradient-boosted trees; `--registry`
    /// saves the model.
    Evaluate(Box<EvaluateArgs>),
    /// Scores a saved model on bars without retraining it (the promoted version unless
    /// `--version`): its predictions' IC, rank IC, t and hit rate over every date with a label.
    Score(Box<ScoreArgs>),
    /// The registry's versions with their training range and scores.
    List {
        /// The registry directory.
        #[arg(long)]
        registry: PathBuf,
    },
    /// Make a version the one serving uses.
    Promote {
        /// The registry directory.
        #[arg(long)]
        registry: PathBuf,
        /// The version.
        version: u32,
    },
}

/// `qts ml evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Where the bars come from (daily bars: one row per date).
    #[command(flatten)]
    pub source: Source,
    /// Label horizon, in bars.
    #[arg(long, default_value_t = 1)]
    pub horizon: usize,
    /// The model: `ridge` (the baseline), `gbt` (gradient-boosted trees) or `mlp` (a small
    /// neural network).
    #[arg(long, default_value = "ridge")]
    pub model: ModelKind,
    /// Ridge penalty on standardised features.
    #[arg(long, default_value_t = 0.01)]
    pub lambda: f64,
    /// Trees of `gbt` (boosting rounds).
    #[arg(long, default_value_t = TreeParams::default().trees)]
    pub trees: usize,
    /// Shrinkage of each tree.
    #[arg(long, default_value_t = TreeParams::default().learning_rate)]
    pub learning_rate: f64,
    /// Depth of each tree.
    #[arg(long, default_value_t = TreeParams::default().depth)]
    pub depth: usize,
    /// Fewest rows in a leaf.
    #[arg(long, default_value_t = TreeParams::default().min_leaf)]
    pub min_leaf: f64,
    /// Units per hidden layer of `mlp`.
    #[arg(long, default_value_t = NetParams::default().width)]
    pub width: usize,
    /// Hidden layers of `mlp`.
    #[arg(long, default_value_t = NetParams::default().layers)]
    pub layers: usize,
    /// Training passes of `mlp` (the best held-out one is kept).
    #[arg(long, default_value_t = NetParams::default().epochs)]
    pub epochs: usize,
    /// AdamW's step size for `mlp`.
    #[arg(long, default_value_t = NetParams::default().learning_rate)]
    pub net_learning_rate: f64,
    /// AdamW's weight decay for `mlp`.
    #[arg(long, default_value_t = NetParams::default().weight_decay)]
    pub weight_decay: f64,
    /// Rows per gradient step of `mlp`.
    #[arg(long, default_value_t = NetParams::default().batch)]
    pub batch: usize,
    /// Dates of each test block.
    #[arg(long, default_value_t = 50)]
    pub test_dates: usize,
    /// Dates before the first test block.
    #[arg(long, default_value_t = 250)]
    pub min_train_dates: usize,
    /// Dates dropped after the purge, before each test block.
    #[arg(long, default_value_t = 1)]
    pub embargo: usize,
    /// Keep this many features, chosen on each training window by the QUBO of relevance minus
    /// redundancy (`ml::select`); all of them without it.
    #[arg(long)]
    pub select: Option<usize>,
    /// Weight of redundancy against relevance in that choice.
    #[arg(long, default_value_t = 1.0)]
    pub select_alpha: f64,
    /// Train on every date too and save the model here (a new version, not promoted).
    #[arg(long)]
    pub registry: Option<PathBuf>,
}

/// `qts ml score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Where the bars come from.
    #[command(flatten)]
    pub source: Source,
    /// The registry directory.
    #[arg(long)]
    pub registry: PathBuf,
    /// The version to score (default: the promoted one).
    #[arg(long)]
    pub model: Option<u32>,
}

/// Runs a `qts ml` command.
pub async fn main(command: Command, out: &mut impl Write) -> anyhow::Result<()> {
    match command {
        Command::Evaluate(args) => evaluate(*args, out).await,
        Command::Score(args) => score(*args, out).await,
        Command::List { registry } => {
            let r = Registry::open(&registry)?;
            let current = r.current()?.map(|a| a.version);
            for v in r.versions()? {
                let a = r.load(v)?;
                let scores = a.metrics.map_or_else(
                    || "no scores".to_owned(),
                    |s| {
                        format!(
                            "IC {:.4} (t {:.2}), rank IC {:.4}, hit {:.1}%",
                            s.ic,
                            s.t_stat,
                            s.rank_ic,
                            s.hit_rate * 100.0
                        )
                    },
                );
                writeln!(
                    out,
                    "{}{:>4}  {}  horizon {}  trained on {}..{}  {}",
                    if current == Some(v) { "*" } else { " " },
                    v,
                    a.model.kind().name(),
                    a.horizon,
                    ml::days::name(a.trained_on.0),
                    ml::days::name(a.trained_on.1),
                    scores
                )?;
            }
            Ok(())
        }
        Command::Promote { registry, version } => {
            Registry::open(&registry)?.promote(version)?;
            writeln!(out, "version {version} promoted")?;
            Ok(())
        }
    }
}

async fn evaluate(args: EvaluateArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let (bars, source) = args.source.read().await?;
    let panel = panel(&bars)?;
    let recipe = Recipe {
        horizon: args.horizon,
        lambda: args.lambda,
        test_dates: args.test_dates,
        min_train_dates: args.min_train_dates,
        embargo: args.embargo,
        model: args.model,
        trees: TreeParams {
            trees: args.trees,
            learning_rate: args.learning_rate,
            depth: args.depth,
            min_leaf: args.min_leaf,
        },
        net: NetParams {
            width: args.width,
            layers: args.layers,
            epochs: args.epochs,
            learning_rate: args.net_learning_rate,
            weight_decay: args.weight_decay,
            batch: args.batch,
            seed: 0,
        },
    };
    // Saved models use every feature; a selection is scored, not saved.
    let (scores, trained) = match (&args.registry, args.select) {
        (Some(_), Some(_)) => {
            anyhow::bail!("--registry saves models on every feature; drop --select to save one")
        }
        (Some(_), None) => {
            let created = time::OffsetDateTime::now_utc().unix_timestamp();
            let a = train::train(&panel, &recipe, created)?;
            (a.metrics.context("a trained model has scores")?, Some(a))
        }
        (None, select) => {
            recipe.check()?;
            let needed = recipe.min_train_dates + recipe.horizon + recipe.embargo;
            anyhow::ensure!(
                panel.dates().len() > needed,
                "{}",
                train::TrainError::TooFewDates {
                    dates: panel.dates().len(),
                    needed
                }
            );
            let f = features::batch(&panel);
            let y = labels::forward_returns(&panel, args.horizon);
            let select = select.map(|k| ml::select::Selection {
                k,
                alpha: args.select_alpha,
            });
            let (_, scores) = walk_forward_with(&f, &y, &recipe.split(), select, &|rows, y| {
                recipe.fit(rows, y)
            })?;
            (scores, None)
        }
    };
    writeln!(
        out,
        "{source}: {} symbols, {} dates",
        panel.symbols().len(),
        panel.dates().len()
    )?;
    writeln!(
        out,
        "out of sample ({} dates): IC {:.4} (sd {:.4}, ICIR {:.3}, t {:.2}), rank IC {:.4}, hit rate {:.1}%",
        scores.dates,
        scores.ic,
        scores.ic_std,
        scores.icir,
        scores.t_stat,
        scores.rank_ic,
        scores.hit_rate * 100.0
    )?;
    if let (Some(dir), Some(artefact)) = (args.registry, trained) {
        let version = Registry::open(&dir)?.save(artefact)?;
        writeln!(out, "saved as version {version} in {}", dir.display())?;
    }
    Ok(())
}

async fn score(args: ScoreArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let registry = Registry::open(&args.registry)?;
    let artefact = match args.model {
        Some(v) => registry.load(v)?,
        None => registry
            .current()?
            .context("no version is promoted; name one with --model")?,
    };
    let (bars, source) = args.source.read().await?;
    let panel = panel(&bars)?;
    let prediction = train::predict(&artefact, &panel)?;
    let (dates, symbols) = (panel.dates().len(), panel.symbols().len());
    let y = labels::forward_returns(&panel, artefact.horizon);
    let scores = ml::validate::score(&prediction, &y, symbols, 0..dates, artefact.horizon);
    let overlap = panel
        .dates()
        .iter()
        .filter(|d| (artefact.trained_on.0..=artefact.trained_on.1).contains(d))
        .count();
    writeln!(
        out,
        "{source}: {symbols} symbols, {dates} dates; model version {}",
        artefact.version
    )?;
    if overlap > 0 {
        writeln!(
            out,
            "warning: {overlap} of these dates are inside the model's training range; their scores are in-sample"
        )?;
    }
    writeln!(
        out,
        "scored {} dates: IC {:.4} (t {:.2}), rank IC {:.4}, hit rate {:.1}%",
        scores.dates,
        scores.ic,
        scores.t_stat,
        scores.rank_ic,
        scores.hit_rate * 100.0
    )?;
    Ok(())
}

/// Closes and volumes of daily bars by date and symbol (NaN where a symbol has no bar), dates
/// keyed by the trading day in Vietnam (`ml::days`), as the prediction service keys them.
pub fn panel(bars: &backtest::data::Bars) -> anyhow::Result<Panel> {
    Ok(rl::panel(bars)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    async fn run(list: &[&str]) -> anyhow::Result<String> {
        let cli = Cli::try_parse_from(std::iter::once("ml").chain(list.iter().copied()))?;
        let mut out = Vec::new();
        main(cli.command, &mut out).await?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[tokio::test]
    async fn evaluate_saves_a_version_that_can_be_listed_and_promoted() {
        let dir = tempfile::tempdir().unwrap();
        let reg = dir.path().to_str().unwrap();
        let text = run(&[
            "evaluate",
            "--synthetic",
            "20",
            "--days",
            "200",
            "--min-train-dates",
            "100",
            "--registry",
            reg,
        ])
        .await
        .unwrap();
        assert!(text.contains("20 symbols, 200 dates"), "{text}");
        assert!(
            text.contains("out of sample (") && text.contains("saved as version 1"),
            "{text}"
        );
        let listed = run(&["list", "--registry", reg]).await.unwrap();
        assert!(
            listed.starts_with("    1  ridge  horizon 1  trained on 20"),
            "{listed}"
        );
        run(&["promote", "--registry", reg, "1"]).await.unwrap();
        assert!(
            run(&["list", "--registry", reg])
                .await
                .unwrap()
                .starts_with("*   1")
        );
        // The saved model scores other bars without retraining; on its own bars it warns.
        let scored = run(&[
            "score",
            "--synthetic",
            "20",
            "--days",
            "120",
            "--seed",
            "9",
            "--registry",
            reg,
        ])
        .await
        .unwrap();
        assert!(
            scored.contains("model version 1") && scored.contains("scored "),
            "{scored}"
        );
        let own = run(&[
            "score",
            "--synthetic",
            "20",
            "--days",
            "200",
            "--registry",
            reg,
            "--model",
            "1",
        ])
        .await
        .unwrap();
        assert!(own.contains("inside the model's training range"), "{own}");
        let err = run(&["promote", "--registry", reg, "7"]).await.unwrap_err();
        assert_eq!(err.to_string(), "no model version 7");
        let err = run(&["evaluate", "--synthetic", "5", "--days", "100"])
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("100 dates of bars; the walk-forward needs more than 252"),
            "{err}"
        );
    }
}
