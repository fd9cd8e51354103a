//! The sentiment lexicons measured on the hand-labelled evaluation set
//! (`data/sentiment/eval.tsv`, its guide in `data/sentiment/GUIDE.md`).
//!
//! The set is split by id: even ids are the dev half (words and rules were tuned looking at
//! it), odd ids the test half (never looked at while tuning). The floors below hold the test
//! half's macro-F1 per language a little under what was measured, so a change that loses
//! accuracy fails here; `cargo test -p text --test eval -- --nocapture` prints the figures
//! docs/performance.md records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use text::{Label, Lang, Lexicon};

/// Macro-F1 the test half must keep, per language (measured figures in docs/performance.md).
const FLOOR_VI: f64 = 0.78;
const FLOOR_EN: f64 = 0.81;
/// Share of items whose language must be detected right.
const LANG_FLOOR: f64 = 0.97;

struct Row {
    id: u32,
    lang: Lang,
    label: Label,
    text: String,
}

fn rows() -> Vec<Row> {
    let data = include_str!("../data/sentiment/eval.tsv");
    let mut out = Vec::new();
    for (n, line) in data.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "line {}: {line:?}", n + 1);
        out.push(Row {
            id: f[0].parse().unwrap(),
            lang: Lang::from_code(f[1]),
            label: Label::parse(f[2]).unwrap_or_else(|| panic!("line {}: label {:?}", n + 1, f[2])),
            text: f[3].to_owned(),
        });
    }
    out
}

const LABELS: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

/// Macro-F1 and accuracy of predictions against truth.
fn macro_f1(pairs: &[(Label, Label)]) -> (f64, f64) {
    let mut f1 = 0.0;
    for l in LABELS {
        let tp = pairs.iter().filter(|(t, p)| *t == l && *p == l).count() as f64;
        let fp = pairs.iter().filter(|(t, p)| *t != l && *p == l).count() as f64;
        let fneg = pairs.iter().filter(|(t, p)| *t == l && *p != l).count() as f64;
        let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        let recall = if tp + fneg > 0.0 {
            tp / (tp + fneg)
        } else {
            0.0
        };
        f1 += if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
    }
    let accuracy = pairs.iter().filter(|(t, p)| t == p).count() as f64 / pairs.len() as f64;
    (f1 / 3.0, accuracy)
}

struct Figures {
    macro_f1: f64,
    accuracy: f64,
    majority: f64,
    n: usize,
}

fn figures(lexicon: &Lexicon, rows: &[&Row]) -> Figures {
    let pairs: Vec<(Label, Label)> = rows
        .iter()
        .map(|r| (r.label, lexicon.score(&r.text, r.lang).label))
        .collect();
    let (macro_f1, accuracy) = macro_f1(&pairs);
    let majority = LABELS
        .iter()
        .map(|l| rows.iter().filter(|r| r.label == *l).count())
        .max()
        .unwrap_or(0) as f64
        / rows.len() as f64;
    Figures {
        macro_f1,
        accuracy,
        majority,
        n: rows.len(),
    }
}

#[test]
fn the_evaluation_set_is_well_formed() {
    let rows = rows();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.id as usize, i + 1, "ids are consecutive");
        assert_ne!(r.lang, Lang::Other);
        assert!(!r.text.trim().is_empty());
    }
    for lang in [Lang::Vi, Lang::En] {
        assert!(rows.iter().filter(|r| r.lang == lang).count() >= 300);
    }
}

#[test]
fn sentiment_holds_its_measured_accuracy_on_the_test_half() {
    let lexicon = Lexicon::embedded().unwrap();
    let rows = rows();
    let mut report = String::from("half  lang  n    macro-F1  accuracy  majority-class\n");
    let mut test_f1 = [0.0; 2];
    for (half, dev) in [("dev", true), ("test", false)] {
        for (k, lang) in [Lang::Vi, Lang::En].into_iter().enumerate() {
            let part: Vec<&Row> = rows
                .iter()
                .filter(|r| r.lang == lang && (r.id % 2 == 0) == dev)
                .collect();
            let f = figures(&lexicon, &part);
            report.push_str(&format!(
                "{half:<5} {:<5} {:<4} {:<9.3} {:<9.3} {:.3}\n",
                lang.code(),
                f.n,
                f.macro_f1,
                f.accuracy,
                f.majority
            ));
            if !dev {
                test_f1[k] = f.macro_f1;
            }
        }
    }
    eprintln!("{report}");
    assert!(
        test_f1[0] >= FLOOR_VI,
        "Vietnamese test macro-F1 {:.3} < {FLOOR_VI}",
        test_f1[0]
    );
    assert!(
        test_f1[1] >= FLOOR_EN,
        "English test macro-F1 {:.3} < {FLOOR_EN}",
        test_f1[1]
    );
}

#[test]
fn languages_are_detected_on_the_evaluation_set() {
    let rows = rows();
    let right = rows
        .iter()
        .filter(|r| text::lang::detect(&r.text) == r.lang)
        .count();
    let share = right as f64 / rows.len() as f64;
    // only the dev half's misses are shown (the test half stays unread)
    let wrong: Vec<&str> = rows
        .iter()
        .filter(|r| r.id % 2 == 0 && text::lang::detect(&r.text) != r.lang)
        .map(|r| r.text.as_str())
        .collect();
    eprintln!(
        "language detection: {right}/{} ({share:.3}); dev misses: {wrong:#?}",
        rows.len()
    );
    assert!(share >= LANG_FLOOR, "{share:.3} < {LANG_FLOOR}");
}

/// The dev half's misclassified items with the words that counted: what tuning looks at
/// (`cargo test -p text --test eval -- --ignored --nocapture`). Never the test half.
#[test]
#[ignore = "a tuning aid, not a check"]
fn dev_half_errors() {
    let lexicon = Lexicon::embedded().unwrap();
    for band in [0.0, 0.05, 0.1, 0.15, 0.2, 0.25] {
        let mut line = format!("band {band:.2}:");
        for lang in [Lang::Vi, Lang::En] {
            let pairs: Vec<(Label, Label)> = rows()
                .iter()
                .filter(|r| r.id % 2 == 0 && r.lang == lang)
                .map(|r| {
                    (
                        r.label,
                        Label::of(lexicon.score(&r.text, r.lang).compound, band),
                    )
                })
                .collect();
            line.push_str(&format!(" {} {:.3}", lang.code(), macro_f1(&pairs).0));
        }
        eprintln!("{line}");
    }
    for r in rows().iter().filter(|r| r.id % 2 == 0) {
        let s = lexicon.score(&r.text, r.lang);
        if s.label != r.label {
            let hits: Vec<String> = s
                .hits
                .iter()
                .map(|h| format!("{}:{:.1}", h.term, h.valence))
                .collect();
            eprintln!(
                "{} {} truth={} got={} ({:.2}) {} | {}",
                r.id,
                r.lang.code(),
                r.label.as_str(),
                s.label.as_str(),
                s.compound,
                r.text,
                hits.join(" ")
            );
        }
    }
}
