//! Reading news feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed, through `feed-rs`) into plain items.

use time::OffsetDateTime;

/// Longest title kept, in characters (the rest is cut at a word).
pub const MAX_TITLE_CHARS: usize = 500;
/// Longest body kept, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;

/// One entry of a feed, as plain text.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// The entry's id (`guid` in RSS, `id` in Atom; feed-rs derives one when there is none).
    pub guid: String,
    /// Title, plain text.
    pub title: String,
    /// Summary or content, plain text (tags stripped, entities decoded).
    pub body: String,
    /// The entry's first link.
    pub url: String,
    /// When it was published (or updated); `None` when the feed does not say.
    pub published: Option<OffsetDateTime>,
    /// Language the feed or entry declares (`vi`, `en-US`), if any.
    pub language: Option<String>,
    /// Categories: `(scheme or domain, term)`.
    pub categories: Vec<(String, String)>,
    /// Author names.
    pub authors: Vec<String>,
}

/// A feed that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a readable RSS, Atom or JSON feed: {0}")]
pub struct Error(String);

/// The entries of a feed document.
pub fn parse(document: &[u8]) -> Result<Vec<FeedItem>, Error> {
    let feed = feed_rs::parser::parse(document).map_err(|e| Error(e.to_string()))?;
    let feed_language = feed.language.clone();
    Ok(feed
        .entries
        .into_iter()
        .map(|e| {
            let body = e
                .summary
                .map(|t| t.content)
                .filter(|s| !s.trim().is_empty())
                .or_else(|| e.content.and_then(|c| c.body))
                .unwrap_or_default();
            let when = e.published.or(e.updated);
            FeedItem {
                guid: e.id,
                title: cut(
                    &plain(&e.title.map(|t| t.content).unwrap_or_default()),
                    MAX_TITLE_CHARS,
                ),
                body: cut(&plain(&body), MAX_BODY_CHARS),
                url: e.links.first().map(|l| l.href.clone()).unwrap_or_default(),
                published: when.and_then(|t| {
                    let nanos = i128::from(t.timestamp()) * 1_000_000_000
                        + i128::from(t.timestamp_subsec_nanos());
                    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
                }),
                language: e.language.or_else(|| feed_language.clone()),
                categories: e
                    .categories
                    .into_iter()
                    .map(|c| (c.scheme.unwrap_or_default(), c.term))
                    .collect(),
                authors: e.authors.into_iter().filter_map(|p| p.name).collect(),
            }
        })
        .collect())
}

/// `text` cut to at most `max` characters, at a word when there is one.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    match head.rfind(' ') {
        Some(i) if i > max / 2 => head[..i].to_owned(),
        Some(_) | None => head,
    }
}

/// Plain text of an HTML fragment: tags dropped (a block tag or `<br>` becomes a space),
/// character references decoded, white space collapsed.
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        match rest[lt..].find('>') {
            Some(gt) => {
                out.push(' ');
                rest = &rest[lt + gt + 1..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric references.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail[..tail.len().min(12)].find(';') else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let name = &tail[1..semi];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Tin</title><link>http://x/</link><description>d</description>
<language>vi</language>
<item><title>Hòa Phát &amp; FPT tăng</title><description>&lt;p&gt;Cổ phiếu &lt;b&gt;HPG&lt;/b&gt;&amp;nbsp;tăng trần&lt;/p&gt;</description>
<link>http://x/1</link><guid isPermaLink="false">a-1</guid><pubDate>Tue, 01 Dec 2026 08:15:00 +0700</pubDate>
<category domain="symbol">HPG</category></item>
<item><title>Không ngày</title><guid>a-2</guid></item>
</channel></rss>"#;

    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>News</title><id>urn:x</id><updated>2026-12-01T01:00:00Z</updated>
<entry><title>Vinamilk profit rises</title><id>urn:x:1</id><updated>2026-12-01T01:00:00Z</updated>
<link href="http://x/v"/><content type="html">&lt;p&gt;Up 12%&lt;/p&gt;</content><author><name>Desk</name></author></entry>
</feed>"#;

    #[test]
    fn rss_items_come_out_as_plain_text() {
        let items = parse(RSS.as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
        let a = &items[0];
        assert_eq!(a.guid, "a-1");
        assert_eq!(a.title, "Hòa Phát & FPT tăng");
        assert_eq!(a.body, "Cổ phiếu HPG tăng trần");
        assert_eq!(a.url, "http://x/1");
        assert_eq!(
            a.published.unwrap(),
            time::macros::datetime!(2026-12-01 01:15 UTC)
        );
        assert_eq!(a.language.as_deref(), Some("vi"));
        assert_eq!(a.categories, [("symbol".to_owned(), "HPG".to_owned())]);
        assert_eq!(items[1].published, None);
    }

    #[test]
    fn atom_entries_are_read_too() {
        let items = parse(ATOM.as_bytes()).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "Vinamilk profit rises");
        assert_eq!(items[0].body, "Up 12%");
        assert_eq!(items[0].authors, ["Desk"]);
        assert_eq!(items[0].language.as_deref(), Some("en"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"<html><body>not a feed</body></html>").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn html_is_flattened_and_long_text_cut_at_a_word() {
        assert_eq!(
            plain("<p>a<br/>b &#272;&#x111; &unknown; x &amp</p>"),
            "a b Đđ &unknown; x &amp"
        );
        assert_eq!(cut("one two three", 9), "one two");
        assert_eq!(cut("short", 9), "short");
    }
}
