//! Parameter search: a grid (every combination of listed values) or random draws (lists and
//! ranges, seeded), ranked by an objective, optionally walk-forward: the history is cut into
//! consecutive train/test windows, the best parameters of each train window are run on the test
//! window that follows, and the test windows chained give the out-of-sample result a user should
//! believe, beside the in-sample one they should not.
//!
//! Candidates run on all cores (threads take candidates in turn; results are put back in
//! candidate order, so the report does not depend on scheduling).

use serde::Serialize;
use time::Date;

use crate::Error;
use crate::config::Config;
use crate::data::{Bars, Rng};
use crate::metrics::{Metrics, measure, summarise};
use crate::run::{Window, run};

/// The values one parameter takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Domain {
    /// These values.
    List(Vec<f64>),
    /// Uniform between two bounds (whole numbers when both bounds are).
    Range {
        /// Lowest.
        lo: f64,
        /// Highest.
        hi: f64,
        /// Draw whole numbers.
        integer: bool,
    },
}

/// One parameter searched: a [`Config::set`] path and its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    /// `studies.sma50.timeperiod`, ...
    pub path: String,
    /// Values.
    pub domain: Domain,
}

impl Param {
    /// Reads `path=v1,v2,...` or `path=lo..hi`.
    pub fn parse(text: &str) -> Result<Param, Error> {
        let bad = |why: &str| Error::Config(format!("parameter {text:?}: {why}"));
        let (path, values) = text
            .split_once('=')
            .ok_or_else(|| bad("path=v1,v2,... or path=lo..hi"))?;
        let num = |v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&format!("{v:?} is not a number")))
        };
        let domain = if let Some((lo, hi)) = values.split_once("..") {
            let (lo, hi) = (num(lo)?, num(hi)?);
            if lo >= hi {
                return Err(bad("lo must be below hi"));
            }
            Domain::Range {
                lo,
                hi,
                integer: lo.fract() == 0.0 && hi.fract() == 0.0,
            }
        } else {
            let list = values.split(',').map(num).collect::<Result<Vec<_>, _>>()?;
            Domain::List(list)
        };
        Ok(Param {
            path: path.trim().to_owned(),
            domain,
        })
    }
}

/// What ranks candidates (higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Sharpe ratio.
    Sharpe,
    /// Sortino ratio.
    Sortino,
    /// Total return.
    Return,
    /// CAGR.
    Cagr,
    /// CAGR / max drawdown.
    Calmar,
}

impl Objective {
    /// Reads `sharpe`, `sortino`, `return`, `cagr` or `calmar`.
    pub fn parse(text: &str) -> Result<Objective, Error> {
        Ok(match text {
            "sharpe" => Objective::Sharpe,
            "sortino" => Objective::Sortino,
            "return" => Objective::Return,
            "cagr" => Objective::Cagr,
            "calmar" => Objective::Calmar,
            _ => {
                return Err(Error::Config(format!(
                    "objective {text:?}: sharpe, sortino, return, cagr or calmar"
                )));
            }
        })
    }

    /// The score of `m`.
    pub fn score(self, m: &Metrics) -> f64 {
        match self {
            Objective::Sharpe => m.sharpe,
            Objective::Sortino => m.sortino,
            Objective::Return => m.total_return,
            Objective::Cagr => m.cagr,
            Objective::Calmar if m.max_drawdown > 0.0 => m.cagr / m.max_drawdown,
            Objective::Calmar => 0.0,
        }
    }
}

/// The search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Space {
    /// Parameters.
    pub params: Vec<Param>,
    /// Random draws; `None` for the whole grid (lists only).
    pub samples: Option<usize>,
    /// Seed of the draws.
    pub seed: u64,
}

/// Most candidates one search runs.
pub const MAX_CANDIDATES: usize = 10_000;

/// A parameter set.
pub type Point = Vec<(String, f64)>;

impl Space {
    /// The parameter sets to try, in a fixed order.
    pub fn candidates(&self) -> Result<Vec<Point>, Error> {
        if self.params.is_empty() {
            return Err(Error::Config(
                "a search needs at least one parameter".into(),
            ));
        }
        match self.samples {
            None => {
                let mut out: Vec<Point> = vec![Vec::new()];
                for p in &self.params {
                    let Domain::List(values) = &p.domain else {
                        return Err(Error::Config(format!(
                            "parameter {}: a range needs random draws (--samples)",
                            p.path
                        )));
                    };
                    out = out
                        .into_iter()
                        .flat_map(|point| {
                            values.iter().map(move |v| {
                                let mut q = point.clone();
                                q.push((p.path.clone(), *v));
                                q
                            })
                        })
                        .collect();
                    if out.len() > MAX_CANDIDATES {
                        return Err(Error::Config(format!(
                            "the grid has more than {MAX_CANDIDATES} points: use random draws"
                        )));
                    }
                }
                Ok(out)
            }
            Some(n) if n == 0 || n > MAX_CANDIDATES => {
                Err(Error::Config(format!("samples: 1 to {MAX_CANDIDATES}")))
            }
            Some(n) => {
                let mut rng = Rng::new(self.seed);
                Ok((0..n)
                    .map(|_| {
                        self.params
                            .iter()
                            .map(|p| {
                                let v = match &p.domain {
                                    Domain::List(values) => {
                                        values[(rng.next_u64() % values.len() as u64) as usize]
                                    }
                                    Domain::Range { lo, hi, integer } => {
                                        if *integer {
                                            lo + (rng.next_u64() % ((hi - lo) as u64 + 1)) as f64
                                        } else {
                                            lo + (hi - lo) * rng.unit()
                                        }
                                    }
                                };
                                (p.path.clone(), v)
                            })
                            .collect()
                    })
                    .collect())
            }
        }
    }
}

/// Train and test window lengths, trading days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Walk {
    /// Days each train window searches.
    pub train_days: usize,
    /// Days each test window runs the train window's best.
    pub test_days: usize,
}

/// One candidate's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Its parameters.
    pub params: Point,
    /// The objective's value.
    pub score: f64,
    /// The account's numbers.
    pub metrics: Metrics,
}

/// One walk-forward step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fold {
    /// Train window.
    pub train: (Date, Date),
    /// Test window.
    pub test: (Date, Date),
    /// The train window's best.
    pub best: Point,
    /// Its numbers on the train window (in sample).
    pub in_sample: Metrics,
    /// Its numbers on the test window (out of sample).
    pub out_of_sample: Metrics,
}

/// A search's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchReport {
    /// What ranked.
    pub objective: Objective,
    /// The space.
    pub space: Space,
    /// Candidates tried per window.
    pub candidates: usize,
    /// Every candidate over the whole history (no walk-forward), best first.
    pub ranking: Vec<Scored>,
    /// Walk-forward steps.
    pub folds: Vec<Fold>,
    /// The test windows chained: what the walk-forward would have earned.
    pub out_of_sample: Option<Metrics>,
    /// The folds' in-sample numbers chained the same way, for comparison.
    pub in_sample: Option<Metrics>,
}

/// One candidate on `from ..= to` (earlier bars warm it up).
fn evaluate(
    base: &Config,
    bars: &Bars,
    point: &Point,
    from: Date,
    to: Date,
) -> Result<(crate::run::Outcome, Metrics), Error> {
    let mut config = base.clone();
    for (path, v) in point {
        config.set(path, *v)?;
    }
    config.check()?;
    let warm = config.study_set()?.lookback() + 2;
    let slice = bars.window(warm, from, to);
    let outcome = run(
        &config,
        &slice,
        Window {
            trade_from: Some(from),
        },
    )?;
    let total = summarise(&outcome, config.backtest.risk_free_rate).total;
    Ok((outcome, total))
}

/// Runs `f` over `items` on up to `threads` threads; results in item order.
fn parallel<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Ranks every candidate of `space` on `from ..= to`, best first (ties: candidate order).
fn rank(
    base: &Config,
    bars: &Bars,
    points: &[Point],
    objective: Objective,
    from: Date,
    to: Date,
    threads: usize,
) -> Result<Vec<Scored>, Error> {
    let results = parallel(points, threads, |p| {
        evaluate(base, bars, p, from, to).map(|(_, m)| Scored {
            params: p.clone(),
            score: objective.score(&m),
            metrics: m,
        })
    });
    let mut scored = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(scored)
}

/// Chains windows' equity: each starts where the previous ended.
fn chain(windows: &[(crate::run::Outcome, i64)], risk_free_rate: f64) -> Option<Metrics> {
    let mut dates = Vec::new();
    let mut equity = Vec::new();
    let mut holdings = Vec::new();
    let first = windows.first()?.0.cash;
    let mut level = first as f64;
    for (o, start) in windows {
        let scale = level / (*start).max(1) as f64;
        for d in &o.days {
            dates.push(d.date);
            equity.push((d.equity as f64 * scale) as i64);
            holdings.push((d.holdings as f64 * scale) as i64);
        }
        level = equity.last().map_or(level, |e| *e as f64);
    }
    let orders = windows.iter().map(|(o, _)| o.orders.len() as u64).sum();
    let rejected = windows
        .iter()
        .flat_map(|(o, _)| &o.orders)
        .filter(|o| o.rejection.is_some())
        .count() as u64;
    Some(measure(
        first,
        &dates,
        &equity,
        &holdings,
        windows.iter().flat_map(|(o, _)| &o.trades),
        orders,
        rejected,
        risk_free_rate,
    ))
}

/// Searches `space` over `bars`: the whole history ranked, or walk-forward with `walk`.
pub fn search(
    base: &Config,
    bars: &Bars,
    space: &Space,
    objective: Objective,
    walk: Option<Walk>,
    threads: usize,
) -> Result<SearchReport, Error> {
    let points = space.candidates()?;
    let days = bars.days();
    let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else {
        return Err(Error::Data("no bars to search over".into()));
    };
    let mut report = SearchReport {
        objective,
        space: space.clone(),
        candidates: points.len(),
        ranking: Vec::new(),
        folds: Vec::new(),
        out_of_sample: None,
        in_sample: None,
    };
    let rf = base.backtest.risk_free_rate;
    let Some(walk) = walk else {
        // Leave the longest lookback of the candidates to warm up.
        let warm_days = points
            .iter()
            .map(|p| {
                let mut c = base.clone();
                for (path, v) in p {
                    c.set(path, *v)?;
                }
                Ok(c.study_set()?.lookback())
            })
            .collect::<Result<Vec<usize>, Error>>()?
            .into_iter()
            .max()
            .unwrap_or(0);
        let from = days
            .get(warm_days.min(days.len() - 1))
            .copied()
            .unwrap_or(first);
        report.ranking = rank(base, bars, &points, objective, from, last, threads)?;
        return Ok(report);
    };
    if walk.train_days == 0 || walk.test_days == 0 {
        return Err(Error::Config(
            "train and test windows must be at least one day".into(),
        ));
    }
    if days.len() < walk.train_days + walk.test_days {
        return Err(Error::Config(format!(
            "{} trading days of bars, fewer than one train ({}) and test ({}) window",
            days.len(),
            walk.train_days,
            walk.test_days
        )));
    }
    let mut oos = Vec::new();
    let mut ins = Vec::new();
    let mut start = 0;
    while start + walk.train_days + walk.test_days <= days.len() {
        let train = (days[start], days[start + walk.train_days - 1]);
        let test = (
            days[start + walk.train_days],
            days[start + walk.train_days + walk.test_days - 1],
        );
        let ranking = rank(base, bars, &points, objective, train.0, train.1, threads)?;
        let Some(best) = ranking.into_iter().next() else {
            break;
        };
        let (in_run, _) = evaluate(base, bars, &best.params, train.0, train.1)?;
        let (out_run, out_metrics) = evaluate(base, bars, &best.params, test.0, test.1)?;
        report.folds.push(Fold {
            train,
            test,
            best: best.params,
            in_sample: best.metrics,
            out_of_sample: out_metrics,
        });
        ins.push((in_run, base.backtest.cash));
        oos.push((out_run, base.backtest.cash));
        start += walk.test_days;
    }
    report.out_of_sample = chain(&oos, rf);
    report.in_sample = chain(&ins, rf);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_parse_and_enumerate() {
        let p = Param::parse("studies.sma50.timeperiod=20,50").unwrap();
        assert_eq!(p.domain, Domain::List(vec![20.0, 50.0]));
        let r = Param::parse("strategies.ma-cross.percent=1..10").unwrap();
        assert!(matches!(r.domain, Domain::Range { integer: true, .. }));
        assert!(Param::parse("x=5..1").is_err());
        assert!(Param::parse("x=a").is_err());
        assert!(Param::parse("x").is_err());
        let grid = Space {
            params: vec![
                p.clone(),
                Param::parse("studies.sma200.timeperiod=100,150,200").unwrap(),
            ],
            samples: None,
            seed: 0,
        };
        let c = grid.candidates().unwrap();
        assert_eq!(c.len(), 6);
        assert_eq!(
            c[1],
            vec![
                ("studies.sma50.timeperiod".into(), 20.0),
                ("studies.sma200.timeperiod".into(), 150.0)
            ]
        );
        let random = Space {
            params: vec![p, r.clone()],
            samples: Some(50),
            seed: 9,
        };
        let a = random.candidates().unwrap();
        assert_eq!(a, random.candidates().unwrap(), "seeded");
        assert!(
            a.iter()
                .all(|q| (1.0..=10.0).contains(&q[1].1) && q[1].1.fract() == 0.0)
        );
        let no_samples = Space {
            params: vec![r],
            samples: None,
            seed: 0,
        };
        assert!(no_samples.candidates().is_err());
        assert!(Objective::parse("sharpe").is_ok() && Objective::parse("luck").is_err());
    }
}
