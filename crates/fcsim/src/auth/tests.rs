use super::*;
use crate::config::{DEMO_PRIVATE_KEY_XML_B64, DEMO_PUBLIC_KEY_PEM};

const SIGNED_BODY: &str = include_str!("../../tests/fixtures/signed_body.json");
const SIGNATURE: &str = include_str!("../../tests/fixtures/signed_body.sig.hex");

#[test]
fn pem_and_base64_xml_keys_give_the_same_public_key() {
    let pem = parse_public_key(DEMO_PUBLIC_KEY_PEM).unwrap();
    let xml = parse_public_key(DEMO_PRIVATE_KEY_XML_B64).unwrap();
    assert_eq!(pem, xml);
}

#[test]
fn an_openssl_signature_verifies_and_a_tampered_body_does_not() {
    let key = parse_public_key(DEMO_PUBLIC_KEY_PEM).unwrap();
    let body = SIGNED_BODY.trim_end_matches('\n').as_bytes();
    assert!(signature_valid(&key, body, SIGNATURE.trim()));
    let mut tampered = body.to_vec();
    tampered.push(b' ');
    assert!(!signature_valid(&key, &tampered, SIGNATURE.trim()));
    assert!(!signature_valid(&key, body, "zz"));
    assert!(!signature_valid(&key, body, ""));
}

fn tokens() -> Tokens {
    Tokens::new(&crate::SimConfig {
        max_tokens_per_consumer: 10,
        ..crate::SimConfig::demo()
    })
}

fn info(consumer: &str, exp: i64) -> TokenInfo {
    TokenInfo {
        consumer: consumer.into(),
        audience: Audience::Data,
        verified: false,
        exp,
    }
}

#[test]
fn tokens_decode_with_the_standard_base64_alphabet_and_expire() {
    let mut t = tokens();
    for _ in 0..50 {
        let token = t.issue(info("c", unix_now() + 3600)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        assert!(!payload.contains(['-', '_']), "{payload}");
        let bearer = format!("Bearer {token}");
        assert!(t.check(Some(&bearer), Audience::Data).is_ok());
        assert_eq!(
            t.check(Some(&bearer), Audience::Trading),
            Err(TokenError::Invalid)
        );
    }
    let old = t.issue(info("d", unix_now() + 3600)).unwrap();
    if let Some(i) = t.issued.get_mut(&old) {
        i.exp = unix_now() - 1;
    }
    assert_eq!(
        t.check(Some(&format!("Bearer {old}")), Audience::Data),
        Err(TokenError::Expired)
    );
    assert_eq!(t.check(None, Audience::Data), Err(TokenError::Missing));
}

#[test]
fn tokens_are_random_capped_per_consumer_and_expired_ones_are_pruned() {
    let mut t = tokens();
    let first = t.issue(info("c", unix_now() + 3600)).unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1_000 {
        let token = t.issue(info("c", unix_now() + 3600)).unwrap();
        assert!(seen.insert(token), "a token came twice");
    }
    // 1,001 logins leave the 10 newest tokens; the first one no longer works.
    assert_eq!(t.len(), 10);
    assert_eq!(
        t.check(Some(&format!("Bearer {first}")), Audience::Data),
        Err(TokenError::Invalid)
    );
    // Another consumer's logins do not revoke these.
    for _ in 0..20 {
        t.issue(info("d", unix_now() + 3600)).unwrap();
    }
    assert_eq!(t.len(), 20);
    // Expired tokens go at the next login of their consumer.
    let mut t = tokens();
    for _ in 0..5 {
        t.issue(info("e", unix_now() - 1)).unwrap();
    }
    t.issue(info("e", unix_now() + 3600)).unwrap();
    assert_eq!(t.len(), 1);
}

#[test]
fn an_otp_is_random_single_use_and_expires() {
    let mut t = tokens();
    let otp = t.issue_otp("c").unwrap();
    assert_eq!(otp.len(), 6);
    assert!(otp.bytes().all(|b| b.is_ascii_digit()));
    assert!(!t.take_otp("c", "nope"));
    assert!(t.take_otp("c", &otp));
    assert!(!t.take_otp("c", &otp));
    let codes: std::collections::HashSet<String> =
        (0..50).map(|_| t.issue_otp("c").unwrap()).collect();
    assert!(codes.len() > 40, "{} distinct of 50", codes.len());
    let mut short = Tokens::new(&crate::SimConfig {
        otp_lifetime_secs: 1,
        ..crate::SimConfig::demo()
    });
    let otp = short.issue_otp("c").unwrap();
    short.otps.insert(
        "c".to_owned(),
        (otp.clone(), Instant::now() - Duration::from_secs(2)),
    );
    assert_eq!(short.pending_otp("c"), None);
    assert!(!short.take_otp("c", &otp));
}
