//! An embedding-based sentiment classifier measured against the lexicons on the hand-labelled
//! headlines of `crates/text/data/sentiment` (dev half to train, test half to measure).

use text::{Label, Lang, Lexicon};

struct Row {
    id: u32,
    lang: Lang,
    label: Label,
    text: String,
}

fn rows() -> Vec<Row> {
    include_str!("../../../../text/data/sentiment/eval.tsv")
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Row {
                id: f[0].parse().unwrap(),
                lang: Lang::from_code(f[1]),
                label: Label::parse(f[2]).unwrap(),
                text: f[3].to_owned(),
            }
        })
        .collect()
}

fn macro_f1(pairs: &[(Label, Label)]) -> f64 {
    let mut f1 = 0.0;
    for l in [Label::Negative, Label::Neutral, Label::Positive] {
        let tp = pairs.iter().filter(|(t, p)| *t == l && *p == l).count() as f64;
        let fp = pairs.iter().filter(|(t, p)| *t != l && *p == l).count() as f64;
        let fneg = pairs.iter().filter(|(t, p)| *t == l && *p != l).count() as f64;
        let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        let recall = if tp + fneg > 0.0 {
            tp / (tp + fneg)
        } else {
            0.0
        };
        if precision + recall > 0.0 {
            f1 += 2.0 * precision * recall / (precision + recall);
        }
    }
    f1 / 3.0
}

fn value(l: Label) -> f64 {
    match l {
        Label::Negative => -1.0,
        Label::Neutral => 0.0,
        Label::Positive => 1.0,
    }
}

#[tokio::test]
#[ignore = "a measurement: cargo test -p llm --test api -- --ignored embedding_sentiment --nocapture"]
async fn embedding_sentiment_against_the_lexicons() {
    let Some(dir) = crate::helpers::models_dir() else {
        return;
    };
    let embedder =
        llm::models::Embedder::load(&std::path::Path::new(&dir).join(llm::models::EMBEDDING_FILES))
            .unwrap();
    let rows = rows();
    let texts: Vec<String> = rows.iter().map(|r| r.text.clone()).collect();
    let mut vectors = Vec::new();
    for chunk in texts.chunks(32) {
        vectors.extend(embedder.embed(chunk).unwrap().0);
    }
    let x: Vec<Vec<f64>> = vectors
        .iter()
        .map(|v| v.iter().map(|x| f64::from(*x)).collect())
        .collect();
    let lexicon = Lexicon::embedded().unwrap();
    for lambda in [0.01, 0.1, 1.0, 10.0] {
        for lang in [Lang::Vi, Lang::En] {
            let train: Vec<usize> = (0..rows.len())
                .filter(|&i| rows[i].id.is_multiple_of(2))
                .collect();
            let test: Vec<usize> = (0..rows.len())
                .filter(|&i| rows[i].id % 2 == 1 && rows[i].lang == lang)
                .collect();
            let xs: Vec<&[f64]> = train.iter().map(|&i| x[i].as_slice()).collect();
            let ys: Vec<f64> = train.iter().map(|&i| value(rows[i].label)).collect();
            let ridge = ml::linear::Ridge::fit(&xs, &ys, lambda).unwrap();
            let mut emb = Vec::new();
            let mut lex = Vec::new();
            let mut blend = Vec::new();
            for &i in &test {
                let e = ridge.predict(&x[i]);
                let l = lexicon.score(&rows[i].text, rows[i].lang).compound;
                emb.push((rows[i].label, Label::of(e, 0.33)));
                lex.push((rows[i].label, Label::of(l, text::sentiment::NEUTRAL_BAND)));
                blend.push((rows[i].label, Label::of(0.5 * l + 0.5 * e, 0.15)));
            }
            eprintln!(
                "lambda {lambda:>5} {:?}: lexicon {:.3}, embeddings {:.3}, blend {:.3} (n {})",
                lang,
                macro_f1(&lex),
                macro_f1(&emb),
                macro_f1(&blend),
                test.len()
            );
        }
    }
}
