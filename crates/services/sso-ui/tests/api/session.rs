//! The session handed to the portal: the cookie, the access tokens it gives, duplicates that do
//! not trip the SSO's reuse detection, return_to, sign-out.

use crate::helpers::{ADMIN_PASSWORD, BASE, spawn_pair};

#[tokio::test]
async fn the_admin_signs_in_and_the_session_gives_access_tokens_the_sso_accepts() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    let signed_in = b
        .sign_in("admin", ADMIN_PASSWORD, "/portal/?tab=orders")
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/portal/?tab=orders");
    let cookie = signed_in.set_cookie("qts_session").unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/sso-ui"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let max_age = |cookie: &str| -> u64 {
        cookie
            .split("; ")
            .find_map(|a| a.strip_prefix("Max-Age="))
            .unwrap_or_else(|| panic!("{cookie} has no Max-Age"))
            .parse()
            .unwrap()
    };
    let first = max_age(&cookie);
    assert!(
        (86_300..=86_400).contains(&first),
        "the cookie lives as long as the SSO's one-day login: {cookie}"
    );

    let t = b.session_token().await;
    assert_eq!(t.status, 200, "{}", t.body);
    let rotated = t
        .set_cookie("qts_session")
        .expect("the rotated session cookie");
    assert!(
        max_age(&rotated) <= first,
        "a rotation does not extend the login: {rotated}"
    );
    let t = t.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["username"], "admin");
    assert!(t["roles"].as_array().unwrap().iter().any(|r| r == "admin"));
    assert!(t["expires_in"].as_u64().unwrap() > 0);
    let (status, me) = pair.sso_me(t["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "admin");

    let account = b.get(&format!("{BASE}/account?lang=en")).await;
    assert_eq!(account.status, 200, "{}", account.body);
    assert!(account.body.contains("<dd id=\"username\">admin</dd>"));
    assert!(account.body.contains("admin"));
}

#[tokio::test]
async fn duplicate_session_calls_with_one_cookie_both_succeed_and_the_login_lives_on() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    assert_eq!(b.sign_in("admin", ADMIN_PASSWORD, "").await.status, 303);
    let first_cookie = b.jar["qts_session"].clone();

    // Two tabs at once, with the same cookie.
    let (mut tab1, mut tab2) = (b.clone(), b.clone());
    let (a, c) = tokio::join!(tab1.session_token(), tab2.session_token());
    assert_eq!(
        (a.status.as_u16(), c.status.as_u16()),
        (200, 200),
        "{} / {}",
        a.body,
        c.body
    );
    assert_eq!(a.json()["access_token"], c.json()["access_token"]);
    assert_eq!(tab1.jar["qts_session"], tab2.jar["qts_session"]);
    assert_ne!(tab1.jar["qts_session"], first_cookie, "rotated");

    // A late duplicate of the first cookie: the same answer, not a reuse.
    let late = b.session_token().await;
    assert_eq!(late.status, 200);
    assert_eq!(late.json()["access_token"], a.json()["access_token"]);

    // The login was not revoked: the rotated token goes on working, at the SSO too.
    let next = tab1.session_token().await;
    assert_eq!(next.status, 200, "{}", next.body);
    let (status, body) = pair.sso_refresh(&tab1.jar["qts_session"]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_return_to_elsewhere_is_ignored() {
    let pair = spawn_pair().await;
    for bad in [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "javascript:alert(1)",
    ] {
        let mut b = pair.browser();
        let r = b.sign_in("admin", ADMIN_PASSWORD, bad).await;
        assert_eq!(r.status, 303);
        assert_eq!(r.header("location"), format!("{BASE}/account"), "{bad}");
    }
    // Nor is it put into the form.
    let mut b = pair.browser();
    let page = b
        .get(&format!("{BASE}/login?return_to=%2F%2Fevil.com"))
        .await;
    assert_eq!(page.input("return_to"), "");
    // A same-origin one is, and the registration link carries it on.
    let page = b
        .get(&format!(
            "{BASE}/login?lang=vi&return_to=%2Fapi%2Fportal%2Fapp"
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.input("return_to"), "/api/portal/app");
    assert!(
        page.body.contains("return_to=%2Fapi%2Fportal%2Fapp"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn signing_out_revokes_the_login_and_clears_the_cookie() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    assert_eq!(b.sign_in("admin", ADMIN_PASSWORD, "").await.status, 303);
    let before = b.clone();
    // One rotation, so the kept answer of the first cookie exists.
    assert_eq!(b.session_token().await.status, 200);
    let current = b.jar["qts_session"].clone();

    let out = b.post(&format!("{BASE}/logout?lang=en"), &[]).await;
    assert_eq!(out.status, 303);
    assert!(out.header("location").contains("signed_out=1"));
    assert!(out.set_cookie("qts_session").unwrap().contains("Max-Age=0"));
    assert!(!b.jar.contains_key("qts_session"));
    let (status, _) = pair.sso_refresh(&current).await;
    assert_eq!(status, 400, "the SSO revoked it");
    assert_eq!(b.session_token().await.status, 401);
    // The cookie from before the rotation gets nothing either.
    let mut stale = before;
    let stale = stale.session_token().await;
    assert_eq!(stale.status, 401, "{}", stale.body);

    let page = b.get(&format!("{BASE}/login?lang=en&signed_out=1")).await;
    assert!(page.body.contains("You have signed out."));
    let account = b.get(&format!("{BASE}/account")).await;
    assert_eq!(account.status, 303, "no session: to the sign-in");
    assert!(
        account
            .header("location")
            .starts_with(&format!("{BASE}/login?"))
    );
}
