//! Loading golden/data: the input series and the per-case TA-Lib outputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indicators::Spec;

pub(crate) fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/data")
}

fn num(s: &str) -> f64 {
    if s.is_empty() {
        f64::NAN
    } else {
        s.parse()
            .unwrap_or_else(|e| panic!("bad number {s:?}: {e}"))
    }
}

/// input.csv as columns by name (time dropped).
pub(crate) struct Series {
    pub(crate) cols: HashMap<String, Vec<f64>>,
}

impl Series {
    pub(crate) fn load() -> Self {
        let text = std::fs::read_to_string(dir().join("input.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let mut cols: HashMap<String, Vec<f64>> = HashMap::new();
        for line in lines {
            for (name, field) in header.iter().zip(line.split(',')).skip(1) {
                cols.entry((*name).to_owned()).or_default().push(num(field));
            }
        }
        Series { cols }
    }

    pub(crate) fn col(&self, name: &str) -> &[f64] {
        self.cols
            .get(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// The default column for each kind of input (TA-Lib's abstract-API defaults).
    pub(crate) fn inputs_for(&self, spec: &Spec) -> Vec<&[f64]> {
        spec.inputs
            .iter()
            .map(|i| self.col(i.default_column()))
            .collect()
    }
}

/// One golden case file.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) function: String,
    pub(crate) inputs: Vec<String>,
    pub(crate) params: Vec<(String, f64)>,
    pub(crate) outputs: Vec<String>,
    /// One vector per output.
    pub(crate) values: Vec<Vec<f64>>,
}

pub(crate) fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv") && !p.ends_with("input.csv"))
        .collect();
    paths.sort();
    paths.iter().map(|p| load_case(p)).collect()
}

fn load_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split('|').collect();
    let [function, inputs, params] = head[..] else {
        panic!("{}: bad first line", path.display())
    };
    let params = params
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), num(v))
        })
        .collect();
    let outputs: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut values = vec![Vec::new(); outputs.len()];
    for line in lines {
        for (col, field) in values.iter_mut().zip(line.split(',')) {
            col.push(num(field));
        }
    }
    Case {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        function: function.to_owned(),
        inputs: inputs.split(',').map(str::to_owned).collect(),
        params,
        outputs,
        values,
    }
}
