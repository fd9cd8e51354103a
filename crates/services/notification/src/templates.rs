//! The message templates, Vietnamese and English, one per template name (embedded in the
//! binary): rendered with minijinja from a notification's data when it is sent or read. A
//! template's first line is the subject, the rest (after a blank line) the body.

use minijinja::value::Value;
use minijinja::{Environment, State};

use crate::domain::Lang;

/// Every template: `(name, Vietnamese, English)`.
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "order",
        include_str!("../templates/vi/order.txt"),
        include_str!("../templates/en/order.txt"),
    ),
    (
        "risk",
        include_str!("../templates/vi/risk.txt"),
        include_str!("../templates/en/risk.txt"),
    ),
    (
        "system",
        include_str!("../templates/vi/system.txt"),
        include_str!("../templates/en/system.txt"),
    ),
    (
        "ops",
        include_str!("../templates/vi/ops.txt"),
        include_str!("../templates/en/ops.txt"),
    ),
    (
        "prediction",
        include_str!("../templates/vi/prediction.txt"),
        include_str!("../templates/en/prediction.txt"),
    ),
    (
        "sentiment",
        include_str!("../templates/vi/sentiment.txt"),
        include_str!("../templates/en/sentiment.txt"),
    ),
    (
        "alert",
        include_str!("../templates/vi/alert.txt"),
        include_str!("../templates/en/alert.txt"),
    ),
    (
        "account",
        include_str!("../templates/vi/account.txt"),
        include_str!("../templates/en/account.txt"),
    ),
    (
        "message",
        include_str!("../templates/vi/message.txt"),
        include_str!("../templates/en/message.txt"),
    ),
];

/// Why a message could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No template of that name.
    #[error("no template {0:?}")]
    Unknown(String),
    /// The template failed on this data.
    #[error("template {name}/{lang}")]
    Render {
        /// Template name.
        name: String,
        /// Language.
        lang: &'static str,
        /// Why.
        #[source]
        source: minijinja::Error,
    },
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    /// The text.
    pub body: String,
}

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
}

/// `1234567` as `1,234,567` (English) or `1.234.567` (Vietnamese); other values as they are.
fn num(state: &State, v: Value) -> String {
    let sep = match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("vi") => '.',
        _ => ',',
    };
    let Ok(n) = i64::try_from(v.clone()) else {
        return v.to_string();
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

impl Templates {
    /// Compiles every template; fails only on a template syntax error (a bug, caught by tests).
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        env.add_filter("num", num);
        for (name, vi, en) in TEMPLATES {
            env.add_template(leak(format!("vi/{name}")), vi)?;
            env.add_template(leak(format!("en/{name}")), en)?;
        }
        Ok(Self { env })
    }

    /// Whether a template of this name exists.
    pub fn exists(name: &str) -> bool {
        TEMPLATES.iter().any(|(n, _, _)| *n == name)
    }

    /// Renders `name` in `lang` over `data` (a JSON object; `lang` is added to it).
    pub fn render(
        &self,
        name: &str,
        lang: Lang,
        data: &serde_json::Value,
    ) -> Result<Rendered, Error> {
        let tmpl = self
            .env
            .get_template(&format!("{}/{name}", lang.as_str()))
            .map_err(|_| Error::Unknown(name.to_owned()))?;
        let mut ctx = data.clone();
        if let Some(o) = ctx.as_object_mut() {
            o.insert("lang".to_owned(), lang.as_str().into());
        }
        let text = tmpl
            .render(Value::from_serialize(&ctx))
            .map_err(|source| Error::Render {
                name: name.to_owned(),
                lang: lang.as_str(),
                source,
            })?;
        let (subject, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
        Ok(Rendered {
            subject: subject.trim().to_owned(),
            body: body.trim().to_owned(),
        })
    }
}

/// Template names live as long as the environment, which lives as long as the service.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> serde_json::Value {
        json!({
            "event": "filled", "detail": "", "side_vi": "MUA",
            "order": {"id": "o1", "account": "0001001", "symbol": "ACB", "side": "buy",
                      "quantity": 1000, "price": 25000, "status": "filled", "reject_reason": ""},
            "fills": [{"id": "f1", "quantity": 400, "price": 25000, "time": "10:01:02"},
                      {"id": "f2", "quantity": 600, "price": 25100, "time": "10:01:03"}],
            "filled": 1000, "avg_price": 25060,
        })
    }

    #[test]
    fn a_grouped_fill_renders_in_both_languages() {
        let t = Templates::new().unwrap();
        let en = t.render("order", Lang::En, &order()).unwrap();
        assert_eq!(en.subject, "Order BUY ACB filled: 1,000 @ 25,060");
        assert!(en.body.contains("2 fills"), "{}", en.body);
        let vi = t.render("order", Lang::Vi, &order()).unwrap();
        assert_eq!(vi.subject, "Lệnh MUA ACB đã khớp: 1.000 giá 25.060");
        assert!(vi.body.contains("2 lần khớp"), "{}", vi.body);
    }

    #[test]
    fn every_template_renders_on_empty_data() {
        let t = Templates::new().unwrap();
        for (name, _, _) in TEMPLATES {
            for lang in [Lang::Vi, Lang::En] {
                let data = json!({"order": {}, "scope": {}, "alerts": [], "params": {}, "fills": [],
                                  "percentile": 0.9, "score": 0.012, "horizon": 5,
                                  "direction": 1, "value": -0.7, "items_24h": 3});
                let r = t.render(name, lang, &data);
                assert!(r.is_ok(), "{name}/{lang:?}: {r:?}");
            }
        }
    }
}
