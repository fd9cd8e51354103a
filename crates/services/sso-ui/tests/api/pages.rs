//! The pages speak Vietnamese and English, are accessible forms, load nothing from elsewhere and
//! carry the security headers; a wrong password is told in the chosen language.

use crate::helpers::{ADMIN_PASSWORD, BASE, spawn_pair};

#[tokio::test]
async fn the_sign_in_page_renders_in_both_languages_with_the_security_headers() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();

    let en = b.get(&format!("{BASE}/login?lang=en")).await;
    assert_eq!(en.status, 200);
    assert!(en.body.contains("<html lang=\"en\""), "{}", en.body);
    assert!(en.body.contains("<h1>Sign in</h1>"));
    assert!(
        en.body
            .contains("<label for=\"username\">User name</label>")
    );
    assert!(en.body.contains("autocomplete=\"username\""));
    assert!(en.body.contains("autocomplete=\"current-password\""));
    assert!(en.body.contains("hreflang=\"vi\""), "a language switch");
    assert!(!en.body.contains("https://") && !en.body.contains("http://"));
    // minijinja escapes `/` in attributes as `&#x2f;` (browsers decode it).
    assert!(en.body.contains("assets&#x2f;style.css\""));
    let csp = en.header("content-security-policy");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(en.header("x-content-type-options"), "nosniff");
    assert_eq!(en.header("cache-control"), "no-store");
    assert_eq!(en.header("referrer-policy"), "same-origin");
    let csrf = en.set_cookie("qts_csrf").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/api/sso-ui"] {
        assert!(csrf.contains(attr), "{csrf} lacks {attr}");
    }
    assert!(
        en.set_cookie("qts_lang")
            .unwrap()
            .starts_with("qts_lang=en;")
    );

    // The chosen language is remembered; ?lang= switches it.
    let again = b.get(&format!("{BASE}/login")).await;
    assert!(again.body.contains("<html lang=\"en\""));
    let vi = b.get(&format!("{BASE}/login?lang=vi")).await;
    assert!(vi.body.contains("<html lang=\"vi\""));
    assert!(vi.body.contains("<h1>Đăng nhập</h1>"));
    assert!(vi.body.contains("Tên đăng nhập"));
    assert!(vi.body.contains("Quên mật khẩu?"));

    // With no choice: Accept-Language, else Vietnamese.
    let mut fresh = pair.browser();
    let by_header = fresh
        .get_with(
            &format!("{BASE}/register"),
            &[("accept-language", "en-GB,en;q=0.9")],
        )
        .await;
    assert!(by_header.body.contains("<html lang=\"en\""));
    assert!(by_header.body.contains("autocomplete=\"new-password\""));
    let mut fresh = pair.browser();
    let default = fresh.get(&format!("{BASE}/password-reset")).await;
    assert!(default.body.contains("<html lang=\"vi\""));

    let css = b.get(&format!("{BASE}/assets/style.css")).await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
}

#[tokio::test]
async fn a_wrong_password_is_told_in_the_chosen_language_next_to_the_field() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    b.get(&format!("{BASE}/login?lang=vi")).await;
    let vi = b
        .post(
            &format!("{BASE}/login?lang=vi"),
            &[("username", "admin"), ("password", "not the password")],
        )
        .await;
    assert_eq!(vi.status, 400);
    assert!(vi.body.contains("role=\"alert\""));
    assert!(
        vi.body.contains("Sai tên đăng nhập hoặc mật khẩu."),
        "{}",
        vi.body
    );
    assert!(vi.body.contains("aria-invalid=\"true\""));
    assert!(vi.body.contains("aria-describedby=\"password-error\""));
    assert!(vi.body.contains("value=\"admin\""), "the user name is kept");
    assert!(vi.set_cookie("qts_session").is_none());

    let en = b
        .post(
            &format!("{BASE}/login?lang=en"),
            &[("username", "admin"), ("password", "not the password")],
        )
        .await;
    assert!(en.body.contains("Wrong user name or password."));

    // Missing and oversized fields are told before the SSO is asked.
    let empty = b
        .post(
            &format!("{BASE}/login?lang=en"),
            &[("username", ""), ("password", "x")],
        )
        .await;
    assert_eq!(empty.status, 400);
    assert!(
        empty
            .body
            .contains("<a href=\"#username\">Enter this field.</a>")
    );
    let long = "a".repeat(65);
    let too_long = b
        .post(
            &format!("{BASE}/login?lang=en"),
            &[("username", &long), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert!(too_long.body.contains("This is too long."));
}
