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

#[test]
fn tokens_decode_with_the_standard_base64_alphabet_and_expire() {
    let mut t = Tokens::default();
    for i in 0..50 {
        let token = t.issue(
            i,
            TokenInfo {
                consumer: "c".into(),
                audience: Audience::Data,
                verified: false,
                exp: unix_now() + 3600,
            },
        );
        let payload = token.split('.').nth(1).unwrap();
        assert!(!payload.contains(['-', '_']), "{payload}");
        let bearer = format!("Bearer {token}");
        assert!(t.check(Some(&bearer), Audience::Data).is_ok());
        assert_eq!(
            t.check(Some(&bearer), Audience::Trading),
            Err(TokenError::Invalid)
        );
    }
    let old = t.issue(
        1,
        TokenInfo {
            consumer: "c".into(),
            audience: Audience::Data,
            verified: false,
            exp: unix_now() - 1,
        },
    );
    assert_eq!(
        t.check(Some(&format!("Bearer {old}")), Audience::Data),
        Err(TokenError::Expired)
    );
    assert_eq!(t.check(None, Audience::Data), Err(TokenError::Missing));
}

#[test]
fn an_otp_is_single_use() {
    let mut t = Tokens::default();
    let otp = t.issue_otp(3, "c");
    assert!(!t.take_otp("c", "nope"));
    assert!(t.take_otp("c", &otp));
    assert!(!t.take_otp("c", &otp));
}
