//! Registration, password reset with the link the SSO sends, password change.

use crate::helpers::{ADMIN_PASSWORD, BASE, next_notification, spawn_pair};

#[tokio::test]
async fn a_trader_registers_and_resets_a_forgotten_password() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    let page = b.get(&format!("{BASE}/register?lang=en")).await;
    assert_eq!(page.status, 200);
    let register = format!("{BASE}/register?lang=en");
    let mismatch = b
        .post(
            &register,
            &[
                ("username", "alice"),
                ("email", "alice@example.vn"),
                ("new_password", "alice password 1"),
                ("confirm_password", "alice password 2"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 400);
    assert!(mismatch.body.contains("The two passwords differ."));
    assert!(mismatch.body.contains("value=\"alice@example.vn\""));
    let weak = b
        .post(
            &format!("{BASE}/register?lang=vi"),
            &[
                ("username", "alice"),
                ("email", "alice@example.vn"),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, 400);
    assert!(
        weak.body.contains("Mật khẩu phải có từ 10 đến 128 ký tự."),
        "{}",
        weak.body
    );
    let taken = b
        .post(
            &register,
            &[
                ("username", "admin"),
                ("email", "x@example.vn"),
                ("new_password", "alice password 1"),
                ("confirm_password", "alice password 1"),
            ],
        )
        .await;
    assert!(taken.body.contains("This user name is taken."));
    let registered = b
        .post(
            &register,
            &[
                ("username", "alice"),
                ("email", "alice@example.vn"),
                ("new_password", "alice password 1"),
                ("confirm_password", "alice password 1"),
                ("return_to", "/portal/"),
            ],
        )
        .await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    assert_eq!(registered.header("location"), "/portal/");
    let t = b.session_token().await.json();
    assert_eq!(t["username"], "alice");
    assert_eq!(t["roles"], serde_json::json!(["trader"]));

    // Forgotten: the link from the message sets a new one, once.
    let mut sub = pair.notifications().await;
    let mut anon = pair.browser();
    anon.get(&format!("{BASE}/password-reset?lang=en")).await;
    let sent = anon
        .post(
            &format!("{BASE}/password-reset?lang=en"),
            &[("username_or_email", "alice@example.vn")],
        )
        .await;
    assert_eq!(sent.status, 200);
    assert!(sent.body.contains("If an account matches"));
    let token = next_notification(&mut sub).await.params["token"].clone();
    let form = anon
        .get(&format!(
            "{BASE}/password-reset/confirm?lang=en&token={token}"
        ))
        .await;
    assert_eq!(form.status, 200);
    assert_eq!(form.input("token"), token);
    let confirm = format!("{BASE}/password-reset/confirm?lang=en");
    let fields = [
        ("token", token.as_str()),
        ("new_password", "alice's new password"),
        ("confirm_password", "alice's new password"),
    ];
    let done = anon.post(&confirm, &fields).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your password has been changed."));
    let twice = anon.post(&confirm, &fields).await;
    assert_eq!(twice.status, 400);
    assert!(
        twice
            .body
            .contains("This reset link is unknown, already used or expired.")
    );
    // The reset ended the old session; the new password signs in.
    assert_eq!(b.session_token().await.status, 401);
    let mut again = pair.browser();
    assert_eq!(
        again
            .sign_in("alice", "alice's new password", "")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn changing_the_password_ends_the_session() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    assert_eq!(b.sign_in("admin", ADMIN_PASSWORD, "").await.status, 303);
    let change = format!("{BASE}/account/password?lang=en");
    let wrong = b
        .post(
            &change,
            &[
                ("current_password", "not it"),
                ("new_password", "a new admin password"),
                ("confirm_password", "a new admin password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("The current password is wrong."));
    assert!(
        wrong
            .body
            .contains("aria-describedby=\"current_password-error\"")
    );
    let changed = b
        .post(
            &change,
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "a new admin password"),
                ("confirm_password", "a new admin password"),
            ],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(changed.body.contains("Sign in again with the new one."));
    assert!(!b.jar.contains_key("qts_session"));
    let mut again = pair.browser();
    assert_eq!(
        again
            .sign_in("admin", "a new admin password", "")
            .await
            .status,
        303
    );
}
