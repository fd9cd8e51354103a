//! Every POST needs the CSRF cookie's token and an Origin (or Referer) of this host.

use crate::helpers::{ADMIN_PASSWORD, BASE, spawn_pair};

#[tokio::test]
async fn a_post_without_the_matching_token_or_from_another_origin_is_refused() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    b.get(&format!("{BASE}/login?lang=en")).await;
    let login = format!("{BASE}/login?lang=en");
    let creds = [("username", "admin"), ("password", ADMIN_PASSWORD)];

    let mismatched = b
        .post(&login, &[creds[0], creds[1], ("csrf", "forged")])
        .await;
    assert_eq!(mismatched.status, 403);
    assert!(
        mismatched.body.contains("role=\"alert\""),
        "{}",
        mismatched.body
    );
    assert!(
        mismatched
            .body
            .contains("This form has expired or was not sent from this site.")
    );
    assert!(mismatched.set_cookie("qts_session").is_none());

    let mut no_cookie = b.clone();
    let token = no_cookie.jar.remove("qts_csrf").unwrap();
    let missing = no_cookie
        .post(&login, &[creds[0], creds[1], ("csrf", &token)])
        .await;
    assert_eq!(missing.status, 403);

    let elsewhere = b
        .post_with(&login, &creds, &[("origin", "https://evil.com")])
        .await;
    assert_eq!(elsewhere.status, 403);
    let no_origin = b.post_with(&login, &creds, &[("origin", "")]).await;
    assert_eq!(no_origin.status, 403, "neither Origin nor Referer");
    let by_referer = b
        .post_with(
            &login,
            &creds,
            &[("origin", ""), ("referer", &format!("{}{login}", b.origin))],
        )
        .await;
    assert_eq!(by_referer.status, 303, "a Referer of this host will do");

    // The session handoff needs the header too.
    let refused = b.session_token_with("forged").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["code"], "permission_denied");
    assert_eq!(b.session_token_with("").await.status, 403);
    assert_eq!(b.session_token().await.status, 200);
}
