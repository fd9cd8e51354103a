//! The reusable core of `qts ta`: read OHLCV CSV, run one function bar by bar, write CSV.
//!
//! ```text
//! qts ta FUNCTION [--param name=value ...]   < bars.csv > out.csv
//! qts ta --list
//! ```
//!
//! Input: a header naming at least `time` and the columns the function reads (`open`,
//! `high`, `low`, `close`, `volume`; `real` inputs read `close`, `real0`/`real1` read
//! `high`/`low`; MAVP needs a `periods` column; SESSION_VWAP uses a `session` column or,
//! without one, the date part of `time`). Output: `time` plus one column per output,
//! empty while the indicator has no value. Memory is O(1) in the number of bars.

use std::io::{BufRead, Write};

use crate::{Input, registry};

/// Why `qts ta` failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line is wrong; the message says how.
    #[error("{0}")]
    Usage(String),
    /// The function or its parameters were refused.
    #[error(transparent)]
    Indicator(#[from] crate::Error),
    /// A CSV line could not be read; `line` is 1-based and counts the header.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// Reading or writing failed.
    #[error("i/o")]
    Io(#[from] std::io::Error),
}

const USAGE: &str = "usage: qts ta FUNCTION [--param name=value ...] | qts ta --list";

/// Runs `qts ta` with `args` (without the program and subcommand names).
pub fn run(args: &[String], input: impl BufRead, mut output: impl Write) -> Result<(), Error> {
    let mut function = None;
    let mut params: Vec<(String, f64)> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--list" => return list(&mut output),
            "--param" | "-p" => {
                let kv = it
                    .next()
                    .ok_or_else(|| Error::Usage(format!("--param needs name=value\n{USAGE}")))?;
                params.push(parse_param(kv)?);
            }
            other if other.starts_with("--param=") => {
                params.push(parse_param(other.trim_start_matches("--param="))?);
            }
            other if other.starts_with('-') => {
                return Err(Error::Usage(format!("unknown option {other}\n{USAGE}")));
            }
            other => {
                if function.replace(other.to_owned()).is_some() {
                    return Err(Error::Usage(format!("one function at a time\n{USAGE}")));
                }
            }
        }
    }
    let function = function.ok_or_else(|| Error::Usage(USAGE.to_owned()))?;
    let given: Vec<(&str, f64)> = params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut ind = registry::build(&function, &given)?;
    let spec = ind.spec();

    let mut lines = input.lines();
    let header = lines.next().transpose()?.ok_or(Error::Csv {
        line: 1,
        message: "empty input: expected a header `time,open,high,low,close,volume`".to_owned(),
    })?;
    let names: Vec<String> = header
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let find = |name: &str| names.iter().position(|n| n == name);
    let time_col = find("time").ok_or(Error::Csv {
        line: 1,
        message: "no `time` column".to_owned(),
    })?;
    // For each input: the column to read, or None for a session derived from `time`.
    let mut cols = Vec::with_capacity(spec.inputs.len());
    for input in spec.inputs {
        let col = input.default_column();
        match (find(col), input) {
            (Some(i), _) => cols.push(Some(i)),
            (None, Input::Session) => cols.push(None),
            (None, _) => {
                return Err(Error::Csv {
                    line: 1,
                    message: format!("{} needs a `{col}` column", spec.name),
                });
            }
        }
    }

    write!(output, "time")?;
    for name in spec.outputs {
        write!(output, ",{name}")?;
    }
    writeln!(output)?;

    let mut bar = vec![0.0; spec.inputs.len()];
    let mut out = vec![f64::NAN; spec.outputs.len()];
    let mut session: Option<(String, f64)> = None;
    for (n, line) in lines.enumerate() {
        let line_no = n + 2;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let csv_err = |message: String| Error::Csv {
            line: line_no,
            message,
        };
        if fields.len() != names.len() {
            return Err(csv_err(format!(
                "{} fields, header has {}",
                fields.len(),
                names.len()
            )));
        }
        let time = fields.get(time_col).copied().unwrap_or_default();
        for ((slot, col), input) in bar.iter_mut().zip(&cols).zip(spec.inputs) {
            *slot = match col {
                Some(i) => {
                    let text = fields.get(*i).copied().unwrap_or_default();
                    let v: f64 = text.parse().map_err(|_| {
                        csv_err(format!(
                            "`{}` is not a number: {text:?}",
                            input.default_column()
                        ))
                    })?;
                    if !v.is_finite() {
                        return Err(csv_err(format!(
                            "`{}` is not finite",
                            input.default_column()
                        )));
                    }
                    v
                }
                None => {
                    // A new date in `time` starts a new session.
                    let date = time.split(['T', ' ']).next().unwrap_or(time);
                    let id = match &session {
                        Some((d, id)) if d == date => *id,
                        Some((_, id)) => id + 1.0,
                        None => 0.0,
                    };
                    session = Some((date.to_owned(), id));
                    id
                }
            };
        }
        ind.update(&bar, &mut out);
        write!(output, "{time}")?;
        for v in &out {
            if v.is_nan() {
                write!(output, ",")?;
            } else {
                write!(output, ",{v}")?;
            }
        }
        writeln!(output)?;
    }
    output.flush()?;
    Ok(())
}

fn parse_param(kv: &str) -> Result<(String, f64), Error> {
    let (k, v) = kv
        .split_once('=')
        .ok_or_else(|| Error::Usage(format!("--param wants name=value, got {kv:?}")))?;
    let v: f64 = v
        .trim()
        .parse()
        .map_err(|_| Error::Usage(format!("parameter {k}: {v:?} is not a number")))?;
    Ok((k.trim().to_owned(), v))
}

fn list(output: &mut impl Write) -> Result<(), Error> {
    for spec in registry::specs() {
        writeln!(output, "{spec}")?;
    }
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_str(args: &[&str], input: &str) -> Result<String, Error> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let mut out = Vec::new();
        run(&args, input.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    const BARS: &str = "time,open,high,low,close,volume\n\
        2025-01-02T09:15,10,11,9,10,100\n\
        2025-01-02T09:20,10,12,10,11,200\n\
        2025-01-03T09:15,11,13,11,12,300\n";

    #[test]
    fn sma_writes_time_and_one_column_per_output() {
        let out = run_str(&["SMA", "--param", "timeperiod=2"], BARS).unwrap();
        assert_eq!(
            out,
            "time,real\n2025-01-02T09:15,\n2025-01-02T09:20,10.5\n2025-01-03T09:15,11.5\n"
        );
    }

    #[test]
    fn multi_output_functions_write_every_output() {
        let out = run_str(&["bbands", "--param=timeperiod=2"], BARS).unwrap();
        assert!(out.starts_with("time,upperband,middleband,lowerband\n"));
        assert_eq!(out.lines().count(), 4);
    }

    #[test]
    fn session_vwap_takes_sessions_from_the_date_of_time() {
        let out = run_str(&["SESSION_VWAP"], BARS).unwrap();
        let last = out.lines().last().unwrap();
        // A new day: the VWAP is that bar's typical price alone.
        assert_eq!(last, "2025-01-03T09:15,12");
    }

    #[test]
    fn list_names_every_function_with_its_parameters() {
        let out = run_str(&["--list"], "").unwrap();
        assert_eq!(out.lines().count(), registry::specs().len());
        let sma = out.lines().find(|l| l.starts_with("SMA ")).unwrap();
        assert!(sma.contains("timeperiod=30 [2..=100000]"), "{sma}");
    }

    #[test]
    fn a_bad_number_is_reported_with_its_line() {
        let bad = "time,open,high,low,close,volume\nt1,1,2,0.5,1,10\nt2,1,2,0.5,oops,10\n";
        let err = run_str(&["SMA"], bad).unwrap_err();
        assert!(matches!(err, Error::Csv { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn a_short_line_is_reported_with_its_line() {
        let bad = "time,open,high,low,close,volume\nt1,1,2,0.5\n";
        let err = run_str(&["SMA"], bad).unwrap_err();
        assert!(matches!(err, Error::Csv { line: 2, .. }), "{err}");
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = run_str(&["ATR"], "time,close\nt1,1\n").unwrap_err();
        assert!(err.to_string().contains("`high`"), "{err}");
    }

    #[test]
    fn unknown_functions_and_bad_parameters_are_refused() {
        assert!(matches!(run_str(&["NOPE"], BARS), Err(Error::Indicator(_))));
        assert!(matches!(
            run_str(&["SMA", "--param", "timeperiod=1"], BARS),
            Err(Error::Indicator(crate::Error::ParamOutOfRange { .. }))
        ));
        assert!(matches!(
            run_str(&["SMA", "--param", "x"], BARS),
            Err(Error::Usage(_))
        ));
        assert!(matches!(run_str(&[], BARS), Err(Error::Usage(_))));
    }
}
