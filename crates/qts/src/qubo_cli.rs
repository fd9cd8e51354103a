//! `qts qubo`: solve a QUBO given as JSON with any of the `qubo` crate's solvers, and write the
//! seeded benchmark instances that `scripts/bench/qubo.sh` hands to both us and the Python
//! solvers.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use qubo::{Params, Qubo, Solver};

/// `qts qubo ...`
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Minimise a QUBO read as JSON `{"n": N, "linear": [[i, w], ...], "quadratic": [[i, j, w],
    /// ...], "offset": c}` (minimise offset + Σ wᵢxᵢ + Σ wᵢⱼxᵢxⱼ over x ∈ {0,1}) and print
    /// `{"energy", "solution", "solver", "time_ms", "reads", "reached_target"}` as JSON.
    Solve(SolveArgs),
    /// Write a seeded benchmark instance as QUBO JSON.
    Gen(GenArgs),
}

/// `qts qubo solve`
#[derive(Debug, Args)]
pub struct SolveArgs {
    /// The QUBO file; `-` reads standard input.
    pub file: PathBuf,
    /// sa | sqa | sb (ballistic; also bsb) | dsb | pt | tabu | exact (at most 32 variables).
    #[arg(long, default_value = "sa")]
    pub solver: Solver,
    /// Stop after this long with the best found; without --sweeps or --target the annealers
    /// stretch their schedule over it.
    #[arg(long)]
    pub time_limit_ms: Option<u64>,
    /// Seed: the same seed, file and flags (without a time limit or target) give the same answer.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Independent reads (restarts; batches of 16 agents for sb/dsb). Default: one per thread,
    /// or as many as fit in the time limit.
    #[arg(long)]
    pub reads: Option<usize>,
    /// Length of a read: sweeps (sa, pt, sqa), steps (sb, dsb), stalled moves per variable (tabu).
    #[arg(long)]
    pub sweeps: Option<usize>,
    /// Stop as soon as a state with this energy or lower is found.
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<f64>,
    /// Threads (0 = every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Which instance `qts qubo gen` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Every pair and variable weighted uniformly in [−1, 1).
    Dense,
    /// Max-Cut of a random graph with unit weights (−energy is the cut).
    Maxcut,
    /// Portfolio selection over a three-factor market of n securities: choose --k of them with
    /// 1,000,000,000 VND in whole lots, maximising return − 5·variance (`qubo::portfolio`).
    Portfolio,
}

/// `qts qubo gen`
#[derive(Debug, Args)]
pub struct GenArgs {
    /// The kind of instance.
    pub kind: Kind,
    /// Variables.
    #[arg(long)]
    pub n: usize,
    /// Edge probability of a Max-Cut graph.
    #[arg(long, default_value_t = 0.01)]
    pub density: f64,
    /// Securities a portfolio instance chooses (default n/10, at least 2).
    #[arg(long)]
    pub k: Option<usize>,
    /// Seed of the instance.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs a `qts qubo` command, writing its JSON to `out`.
pub fn run(command: Command, out: impl Write) -> anyhow::Result<()> {
    match command {
        Command::Solve(args) => solve(&args, out),
        Command::Gen(args) => generate(&args, out),
    }
}

fn read_model(file: &PathBuf) -> anyhow::Result<Qubo> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("read the QUBO from standard input")?;
    } else {
        text = std::fs::read_to_string(file)
            .with_context(|| format!("read the QUBO file {}", file.display()))?;
    }
    Qubo::from_json(&text).with_context(|| format!("{} is not a valid QUBO", file.display()))
}

fn solve(args: &SolveArgs, mut out: impl Write) -> anyhow::Result<()> {
    let q = read_model(&args.file)?;
    if let Some(t) = args.target.filter(|t| !t.is_finite()) {
        anyhow::bail!("--target {t} is not a finite number");
    }
    let params = Params {
        seed: args.seed,
        reads: args.reads,
        time_limit: args.time_limit_ms.map(Duration::from_millis),
        target: args.target,
        sweeps: args.sweeps,
        threads: args.threads,
    };
    let started = Instant::now();
    let solved = qubo::solve(&q, args.solver, &params)?;
    let answer = serde_json::json!({
        "energy": solved.energy,
        "solution": solved.x,
        "solver": solved.solver.name(),
        "time_ms": started.elapsed().as_secs_f64() * 1e3,
        "reads": solved.reads,
        "reached_target": args.target.map(|_| solved.reached_target),
    });
    serde_json::to_writer(&mut out, &answer).context("write the answer")?;
    writeln!(out).context("write the answer")?;
    Ok(())
}

fn generate(args: &GenArgs, mut out: impl Write) -> anyhow::Result<()> {
    let q = match args.kind {
        Kind::Dense => qubo::instances::random_dense(args.n, args.seed)?,
        Kind::Maxcut => {
            if !(args.density > 0.0 && args.density <= 1.0) {
                anyhow::bail!("--density {} is not in (0, 1]", args.density);
            }
            qubo::instances::max_cut(args.n, args.density, args.seed)?
        }
        Kind::Portfolio => {
            let u = qubo::portfolio::Universe::factor_model(args.n, args.seed);
            let problem = qubo::portfolio::Problem {
                k: args.k.unwrap_or(args.n / 10).max(2),
                budget: 1e9,
                risk_aversion: 5.0,
            };
            qubo::portfolio::Model::new(&u, &problem)?.qubo
        }
    };
    serde_json::to_writer(&mut out, &q.to_form()).context("write the instance")?;
    writeln!(out).context("write the instance")?;
    Ok(())
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

    fn run_args(list: &[&str]) -> anyhow::Result<serde_json::Value> {
        let cli = Cli::try_parse_from(std::iter::once("qubo").chain(list.iter().copied()))?;
        let mut out = Vec::new();
        run(cli.command, &mut out)?;
        Ok(serde_json::from_slice(&out)?)
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn solve_prints_the_energy_and_solution_of_every_solver() {
        // Minimum: x0 = x2 = 1, x1 = 0: 1 − 2 − 3 + 1 (pair 0,2) = −3.
        let f = file(
            r#"{"n": 3, "linear": [[0, -2], [1, 1], [2, -3]], "quadratic": [[0, 2, 1], [0, 1, -0.5]], "offset": 1}"#,
        );
        let path = f.path().to_str().unwrap();
        for solver in ["sa", "sqa", "sb", "bsb", "dsb", "pt", "tabu", "exact"] {
            let v = run_args(&["solve", path, "--solver", solver, "--seed", "4"]).unwrap();
            assert_eq!(v["energy"], -3.0, "{solver}");
            assert_eq!(v["solution"], serde_json::json!([1, 0, 1]), "{solver}");
            assert!(v["time_ms"].as_f64().unwrap() >= 0.0);
            assert!(v["reached_target"].is_null());
        }
        let v = run_args(&["solve", path, "--solver", "tabu", "--target", "-3"]).unwrap();
        assert_eq!(v["reached_target"], true);
    }

    #[test]
    fn bad_input_gets_an_error_that_names_the_problem() {
        let err = |list: &[&str]| format!("{:#}", run_args(list).unwrap_err());
        let bad = file(r#"{"n": 2, "quadratic": [[0, 2, 1.0]]}"#);
        let path = bad.path().to_str().unwrap();
        assert!(
            err(&["solve", path]).ends_with(
                "is not a valid QUBO: quadratic[0] names variable 2, but the model has variables 0 to 1"
            ),
            "{}",
            err(&["solve", path])
        );
        assert!(
            err(&["solve", "/no/such/file.json"])
                .starts_with("read the QUBO file /no/such/file.json")
        );
        assert!(err(&["solve", path, "--solver", "qaoa"]).contains("unknown solver \"qaoa\""));
        let big = file(&format!("{{\"n\": {}}}", qubo::EXACT_MAX + 1));
        assert!(
            err(&["solve", big.path().to_str().unwrap(), "--solver", "exact"])
                .contains("the exact solver takes at most 32 variables")
        );
        let ok = file(r#"{"n": 2}"#);
        assert!(
            err(&["solve", ok.path().to_str().unwrap(), "--reads", "0"])
                .contains("reads must be at least 1")
        );
        assert!(err(&["gen", "maxcut", "--n", "10", "--density", "1.5"]).contains("--density 1.5"));
    }

    #[test]
    fn generated_instances_read_back_as_the_same_model() {
        for kind in ["dense", "maxcut", "portfolio"] {
            let v =
                run_args(&["gen", kind, "--n", "20", "--density", "0.3", "--seed", "7"]).unwrap();
            let text = v.to_string();
            let q = Qubo::from_json(&text).unwrap();
            assert_eq!(q.len(), 20, "{kind}");
            assert_eq!(
                run_args(&["gen", kind, "--n", "20", "--density", "0.3", "--seed", "7"]).unwrap(),
                v
            );
        }
    }
}
