//! The templates (minijinja, compiled into the binary) and what every page is given: the
//! language's strings as `t`, the language switch, the CSRF token, the stylesheet's URL.

use minijinja::Environment;
use serde_json::{Map, Value};

use crate::domain::Lang;

/// Where the routes live (the service's prefix and API version).
pub(crate) const BASE: &str = "/api/sso-ui/v1";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("login.html", include_str!("templates/login.html")),
    ("second.html", include_str!("templates/second.html")),
    ("register.html", include_str!("templates/register.html")),
    ("reset.html", include_str!("templates/reset.html")),
    (
        "reset_confirm.html",
        include_str!("templates/reset_confirm.html"),
    ),
    ("account.html", include_str!("templates/account.html")),
    ("totp_enrol.html", include_str!("templates/totp_enrol.html")),
    ("recovery.html", include_str!("templates/recovery.html")),
    ("message.html", include_str!("templates/message.html")),
];

/// The stylesheet, served by this service (no CDN).
pub(crate) const STYLE: &str = include_str!("templates/style.css");

/// The compiled templates.
pub(crate) struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// Compiles every template (a syntax error fails the start).
    pub(crate) fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        // `values.username` of a page shown without values is empty, not an error.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// Renders `name` with `ctx` (an object) plus `t`, `lang`, `base` and `style_url`.
    pub(crate) fn render(
        &self,
        name: &str,
        lang: Lang,
        mut ctx: Map<String, Value>,
    ) -> Result<String, minijinja::Error> {
        let t: Map<String, Value> = crate::i18n::table(lang)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect();
        ctx.insert("t".to_owned(), Value::Object(t));
        ctx.insert("lang".to_owned(), Value::from(lang.code()));
        ctx.insert("other_lang".to_owned(), Value::from(lang.other().code()));
        ctx.insert("base".to_owned(), Value::from(BASE));
        ctx.insert(
            "style_url".to_owned(),
            Value::from(format!("{BASE}/assets/style.css")),
        );
        self.env.get_template(name)?.render(Value::Object(ctx))
    }
}

/// A QR code of `text` as an inline SVG (black modules on white, scalable).
pub(crate) fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_renders_in_both_languages() {
        let pages = Pages::new().unwrap();
        for (name, _) in TEMPLATES {
            if *name == "base.html" || *name == "macros.html" {
                continue;
            }
            for lang in [Lang::Vi, Lang::En] {
                let html = pages.render(name, lang, Map::new()).unwrap();
                assert!(
                    html.contains(&format!("<html lang=\"{}\"", lang.code())),
                    "{name}"
                );
                assert!(
                    !html.contains("http://") && !html.contains("https://"),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn a_qr_code_is_an_inline_svg() {
        let svg = qr_svg("otpauth://totp/QTS:admin?secret=ABC").unwrap();
        assert!(svg.contains("<svg"));
    }
}
