//! Two-factor authentication: enrolment with a QR code and recovery codes, the second step of
//! the sign-in with a code or a recovery code, turning it off.

use crate::helpers::{ADMIN_PASSWORD, BASE, now, spawn_pair, totp};

/// The account page's form that turns 2FA on, and the one that turns it off.
const ENROL: &str = "/account/totp?lang=";
const DISABLE: &str = "/account/totp/disable?lang=";

#[tokio::test]
async fn a_totp_user_gets_the_second_step_and_completes_it() {
    let pair = spawn_pair().await;
    let mut b = pair.browser();
    assert_eq!(b.sign_in("admin", ADMIN_PASSWORD, "").await.status, 303);
    // The account page offers what fits: turning 2FA on while it is off.
    let account = b.get(&format!("{BASE}/account?lang=en")).await;
    assert!(
        account.body.contains(ENROL) && !account.body.contains(DISABLE),
        "{}",
        account.body
    );

    let enrol = b.post(&format!("{BASE}/account/totp?lang=en"), &[]).await;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    assert!(enrol.body.contains("<svg"), "an inline QR code");
    let secret = enrol.input("secret");
    let t0 = now();
    let wrong = b
        .post(
            &format!("{BASE}/account/totp/confirm?lang=en"),
            &[
                ("code", "000000"),
                ("secret", &secret),
                ("otpauth_url", &enrol.input("otpauth_url")),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("That is not the current code"));
    let confirmed = b
        .post(
            &format!("{BASE}/account/totp/confirm?lang=en"),
            &[("code", &totp(&secret, "admin", t0))],
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let recovery: Vec<String> = confirmed
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(b.post(&format!("{BASE}/logout"), &[]).await.status, 303);

    // The password alone: the second step.
    let second = b.sign_in("admin", ADMIN_PASSWORD, "/portal/").await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(second.body.contains("Two-factor authentication"));
    assert!(second.body.contains("autocomplete=\"one-time-code\""));
    assert!(
        !second.body.contains(ADMIN_PASSWORD),
        "the password is not in the page"
    );
    assert!(second.set_cookie("qts_session").is_none());
    let ticket = second.input("ticket");
    let step = format!("{BASE}/login/second-factor?lang=en");
    let bad = b
        .post(&step, &[("ticket", &ticket), ("code", "000000")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Wrong or already used code."));
    let malformed = b
        .post(&step, &[("ticket", &ticket), ("code", "12ab")])
        .await;
    assert!(
        malformed
            .body
            .contains("Enter the 6 digits your app shows.")
    );
    let done = b
        .post(
            &step,
            &[
                ("ticket", &ticket),
                ("code", &totp(&secret, "admin", t0 + 30)),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), "/portal/");
    assert!(done.set_cookie("qts_session").is_some());
    // The ticket is spent.
    let replay = b
        .post(
            &step,
            &[
                ("ticket", &ticket),
                ("code", &totp(&secret, "admin", t0 + 60)),
            ],
        )
        .await;
    assert!(replay.body.contains("The sign-in took too long."));

    // A recovery code instead, in Vietnamese.
    let mut v = pair.browser();
    v.get(&format!("{BASE}/login?lang=vi")).await;
    let second = v
        .post(
            &format!("{BASE}/login?lang=vi"),
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert!(second.body.contains("Xác thực hai yếu tố"));
    let done = v
        .post(
            &format!("{BASE}/login/second-factor?lang=vi"),
            &[
                ("ticket", &second.input("ticket")),
                ("recovery_code", &recovery[0]),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let account = v.get(&format!("{BASE}/account?lang=en")).await;
    assert!(
        account.body.contains(DISABLE) && !account.body.contains(ENROL),
        "2FA is on: only turning it off is offered: {}",
        account.body
    );

    // Turned off with the password: the password alone signs in again.
    let off = v
        .post(
            &format!("{BASE}/account/totp/disable?lang=en"),
            &[("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert!(off.body.contains("Two-factor authentication is off."));
    assert!(off.body.contains(ENROL) && !off.body.contains(DISABLE));
    let mut again = pair.browser();
    assert_eq!(again.sign_in("admin", ADMIN_PASSWORD, "").await.status, 303);
}
