//! The collectors: each configured feed read on a schedule (HTTP with conditional requests, or
//! a file re-read when it changes), its entries handed to the service.

use std::time::{Duration, SystemTime};

use common::shutdown::CancellationToken;
use text::Lang;
use time::OffsetDateTime;

use crate::domain::Incoming;
use crate::service::Emotion;

/// Where a feed is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// An `http://` or `https://` URL.
    Http(String),
    /// A file on this machine.
    File(std::path::PathBuf),
}

impl Feed {
    /// A feed from its setting: a URL or a path.
    pub fn parse(s: &str) -> Result<Feed, String> {
        let s = s.trim();
        if s.starts_with("http://") || s.starts_with("https://") {
            return match reqwest::Url::parse(s) {
                Ok(u) if u.host_str().is_some() => Ok(Feed::Http(s.to_owned())),
                Ok(_) | Err(_) => Err(format!("{s:?} is not a valid URL")),
            };
        }
        if let Some(path) = s.strip_prefix("file://") {
            return Ok(Feed::File(path.into()));
        }
        if s.contains("://") {
            return Err(format!("{s:?}: only http(s):// and file:// feeds are read"));
        }
        if s.is_empty() {
            return Err("an empty feed".to_owned());
        }
        Ok(Feed::File(s.into()))
    }

    /// The source name items of this feed are stored under: the host and path (or the file
    /// name), in the characters a source name allows.
    pub fn source(&self) -> String {
        let raw = match self {
            Feed::Http(url) => reqwest::Url::parse(url)
                .map(|u| {
                    let port = u.port().map(|p| format!("-{p}")).unwrap_or_default();
                    format!("{}{port}{}", u.host_str().unwrap_or("feed"), u.path())
                })
                .unwrap_or_else(|_| url.clone()),
            Feed::File(p) => format!(
                "file-{}",
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
        };
        let mut name: String = raw
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        name = name.trim_matches('-').to_owned();
        name.truncate(64);
        if name.is_empty() {
            "feed".to_owned()
        } else {
            name
        }
    }
}

/// The entries of a feed document as incoming items.
pub fn incoming(document: &[u8]) -> Result<Vec<Incoming>, text::feed::Error> {
    Ok(text::feed::parse(document)?
        .into_iter()
        .map(|e| Incoming {
            guid: e.guid,
            title: e.title,
            body: e.body,
            url: e.url,
            published: e.published,
            lang: e
                .language
                .map(|l| Lang::from_code(&l))
                .filter(|l| *l != Lang::Other),
            author: e.authors.join(", "),
            tagged: e
                .categories
                .into_iter()
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("symbol"))
                .map(|(_, term)| term.trim().to_uppercase())
                .collect(),
        })
        .collect())
}

/// What changed since the last read (to ask only for news).
#[derive(Debug, Default)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
    file_modified: Option<SystemTime>,
}

/// Reads `feed` every `poll` until `token` is cancelled.
pub async fn run(emotion: Emotion, feed: Feed, token: CancellationToken) -> anyhow::Result<()> {
    let settings = emotion.settings().clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.fetch_timeout_ms))
        .user_agent(concat!("qts-emotion/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let source = feed.source();
    emotion.wait_for_securities(&token).await;
    let mut validators = Validators::default();
    let mut failures = 0u32;
    loop {
        let read = read(&client, &feed, &mut validators, settings.max_feed_bytes).await;
        let wait = match read {
            Ok(Some(document)) => match incoming(&document) {
                Ok(mut items) => {
                    // oldest first, so that the series moves forward
                    items.sort_by_key(|i| i.published);
                    match emotion.ingest(&source, items).await {
                        Ok(outcomes) => emotion.fetched(&source, &feed, Ok(&outcomes)),
                        Err(e) => emotion.fetched(&source, &feed, Err(e.to_string())),
                    }
                    failures = 0;
                    Duration::from_secs(settings.poll_secs)
                }
                Err(e) => {
                    validators = Validators::default();
                    emotion.fetched(&source, &feed, Err(e.to_string()));
                    failures += 1;
                    backoff(settings.poll_secs, failures)
                }
            },
            Ok(None) => {
                emotion.fetched(&source, &feed, Ok(&[]));
                failures = 0;
                Duration::from_secs(settings.poll_secs)
            }
            Err(e) => {
                emotion.fetched(&source, &feed, Err(e));
                failures += 1;
                backoff(settings.poll_secs, failures)
            }
        };
        tokio::select! {
            () = token.cancelled() => return Ok(()),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// After `failures` failed reads in a row: 2, 4, 8 … seconds, never more than the poll interval
/// (nor less than a second).
fn backoff(poll_secs: u64, failures: u32) -> Duration {
    let exp = 1u64 << failures.min(16);
    Duration::from_secs(exp.min(poll_secs).max(1))
}

/// The feed's document when it changed since the last read; `None` when it did not.
async fn read(
    client: &reqwest::Client,
    feed: &Feed,
    validators: &mut Validators,
    max_bytes: usize,
) -> Result<Option<Vec<u8>>, String> {
    match feed {
        Feed::File(path) => {
            let meta = tokio::fs::metadata(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if meta.len() > max_bytes as u64 {
                return Err(format!("{}: larger than {max_bytes} bytes", path.display()));
            }
            let modified = meta.modified().ok();
            if modified.is_some() && modified == validators.file_modified {
                return Ok(None);
            }
            let bytes = tokio::fs::read(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            validators.file_modified = modified;
            Ok(Some(bytes))
        }
        Feed::Http(url) => {
            let mut request = client.get(url);
            if let Some(etag) = &validators.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
            let mut response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
            if response.status() == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(None);
            }
            if !response.status().is_success() {
                return Err(format!("{url}: HTTP {}", response.status()));
            }
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_owned)
            };
            let (etag, last_modified) = (
                header(reqwest::header::ETAG),
                header(reqwest::header::LAST_MODIFIED),
            );
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
                body.extend_from_slice(&chunk);
                if body.len() > max_bytes {
                    return Err(format!("{url}: larger than {max_bytes} bytes"));
                }
            }
            validators.etag = etag;
            validators.last_modified = last_modified;
            Ok(Some(body))
        }
    }
}

/// When an item without a publication time (or with one in the future) counts as published.
pub fn published_at(item: Option<OffsetDateTime>, collected: OffsetDateTime) -> OffsetDateTime {
    match item {
        Some(t) if t <= collected + crate::domain::FUTURE_SLACK => t,
        Some(_) | None => collected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_are_urls_or_files() {
        assert_eq!(
            Feed::parse("https://cafef.vn/rss/chung-khoan.rss").unwrap(),
            Feed::Http("https://cafef.vn/rss/chung-khoan.rss".to_owned())
        );
        assert_eq!(
            Feed::parse("file:///data/a.xml").unwrap(),
            Feed::File("/data/a.xml".into())
        );
        assert_eq!(
            Feed::parse("news/a.xml").unwrap(),
            Feed::File("news/a.xml".into())
        );
        assert!(Feed::parse("ftp://x/y").unwrap_err().contains("only http"));
        assert!(Feed::parse("http://").is_err());
        assert!(Feed::parse("  ").is_err());
    }

    #[test]
    fn source_names_come_from_the_feed() {
        let f = Feed::parse("http://127.0.0.1:18051/news/rss?lang=vi").unwrap();
        assert_eq!(f.source(), "127.0.0.1-18051-news-rss");
        assert!(crate::domain::valid_source(&f.source()));
        assert_eq!(
            Feed::parse("/x/Tin Tức.xml").unwrap().source(),
            "file-tin-t-c.xml"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_poll_interval() {
        assert_eq!(backoff(60, 1), Duration::from_secs(2));
        assert_eq!(backoff(60, 3), Duration::from_secs(8));
        assert_eq!(backoff(60, 30), Duration::from_secs(60));
        assert_eq!(backoff(1, 0), Duration::from_secs(1));
    }

    #[test]
    fn future_or_missing_times_become_the_collection_time() {
        let now = time::macros::datetime!(2026-12-01 01:00 UTC);
        assert_eq!(published_at(None, now), now);
        assert_eq!(published_at(Some(now + time::Duration::hours(1)), now), now);
        let earlier = now - time::Duration::hours(1);
        assert_eq!(published_at(Some(earlier), now), earlier);
    }
}
