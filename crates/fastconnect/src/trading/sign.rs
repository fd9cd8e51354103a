//! `X-Signature`: RSASSA-PKCS1-v1_5 with SHA-256 over the exact body bytes, as lowercase hex.
//!
//! SSI hands out the private key as base64 of a .NET `<RSAKeyValue>` XML document, each
//! element a base64 big-endian integer. PEM keys (PKCS#1 or PKCS#8) are accepted too.

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::{BigUint, RsaPrivateKey};
use secrecy::{ExposeSecret as _, SecretString};

use crate::error::{Error, Result};

/// Signs request bodies with the account's private key. `Debug` shows no key material.
#[derive(Clone)]
pub struct RequestSigner {
    key: SigningKey<Sha256>,
}

impl std::fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestSigner([REDACTED])")
    }
}

fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(xml[start..end].trim())
}

fn xml_integer(xml: &str, name: &str) -> Result<Option<BigUint>> {
    let Some(text) = xml_element(xml, name) else {
        return Ok(None);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::Config(format!("private key element <{name}> is not base64: {e}")))?;
    Ok(Some(BigUint::from_bytes_be(&bytes)))
}

fn from_xml(xml: &str) -> Result<RsaPrivateKey> {
    let required = |name: &str| -> Result<BigUint> {
        xml_integer(xml, name)?
            .ok_or_else(|| Error::Config(format!("private key XML has no <{name}>")))
    };
    let n = required("Modulus")?;
    let e = required("Exponent")?;
    let d = required("D")?;
    let primes = match (xml_integer(xml, "P")?, xml_integer(xml, "Q")?) {
        (Some(p), Some(q)) => vec![p, q],
        // (n, e, d) suffice: the primes are recovered.
        _ => Vec::new(),
    };
    RsaPrivateKey::from_components(n, e, d, primes)
        .map_err(|e| Error::Config(format!("private key XML is not a valid RSA key: {e}")))
}

impl RequestSigner {
    /// Reads SSI's base64 XML key, a raw `<RSAKeyValue>` XML, or a PEM private key.
    pub fn from_key(key: &SecretString) -> Result<Self> {
        let text = key.expose_secret().trim();
        let private = if text.starts_with("-----BEGIN") {
            RsaPrivateKey::from_pkcs1_pem(text)
                .or_else(|_| RsaPrivateKey::from_pkcs8_pem(text))
                .map_err(|e| Error::Config(format!("PEM private key unreadable: {e}")))?
        } else if text.starts_with("<RSAKeyValue>") {
            from_xml(text)?
        } else {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| {
                    Error::Config(format!(
                        "private key is neither PEM nor base64 XML (base64: {e})"
                    ))
                })?;
            let xml = String::from_utf8(bytes)
                .map_err(|_| Error::Config("private key base64 is not UTF-8 XML".to_owned()))?;
            if !xml.contains("<RSAKeyValue>") {
                return Err(Error::Config(
                    "private key base64 does not hold an <RSAKeyValue>".to_owned(),
                ));
            }
            from_xml(&xml)?
        };
        Ok(Self {
            key: SigningKey::<Sha256>::new(private),
        })
    }

    /// The lowercase-hex signature of `body`.
    pub fn sign(&self, body: &[u8]) -> Result<String> {
        let signature = self
            .key
            .try_sign(body)
            .map_err(|e| Error::Signing(e.to_string()))?;
        Ok(hex(&signature.to_bytes()))
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML_B64: &str = include_str!("../../tests/fixtures/test_key.xml.b64");
    const PKCS1: &str = include_str!("../../tests/fixtures/test_key.pem");
    const PKCS8: &str = include_str!("../../tests/fixtures/test_key_pkcs8.pem");
    const BODY: &[u8] = include_bytes!("../../tests/fixtures/signed_body.json");
    const OPENSSL_SIG: &str = include_str!("../../tests/fixtures/signed_body.sig.hex");

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn every_key_form_signs_exactly_like_openssl() {
        for key in [XML_B64, PKCS1, PKCS8] {
            let signer = RequestSigner::from_key(&secret(key)).unwrap();
            assert_eq!(signer.sign(BODY).unwrap(), OPENSSL_SIG.trim());
        }
    }

    #[test]
    fn raw_xml_and_key_without_primes_work() {
        let xml = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(XML_B64.trim())
                .unwrap(),
        )
        .unwrap();
        let signer = RequestSigner::from_key(&secret(&xml)).unwrap();
        assert_eq!(signer.sign(BODY).unwrap(), OPENSSL_SIG.trim());
        let p = xml_element(&xml, "P").unwrap();
        let q = xml_element(&xml, "Q").unwrap();
        let no_primes = xml
            .replace(&format!("<P>{p}</P>"), "")
            .replace(&format!("<Q>{q}</Q>"), "");
        let signer = RequestSigner::from_key(&secret(&no_primes)).unwrap();
        assert_eq!(signer.sign(BODY).unwrap(), OPENSSL_SIG.trim());
    }

    #[test]
    fn bad_keys_are_config_errors() {
        for key in [
            "",
            "not base64!",
            "aGVsbG8=",
            "-----BEGIN RSA PRIVATE KEY-----\nxx\n",
        ] {
            let err = RequestSigner::from_key(&secret(key)).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{key}: {err:?}");
        }
        let missing = base64::engine::general_purpose::STANDARD
            .encode("<RSAKeyValue><Modulus>AQAB</Modulus></RSAKeyValue>");
        assert!(RequestSigner::from_key(&secret(&missing)).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let signer = RequestSigner::from_key(&secret(PKCS1)).unwrap();
        assert_eq!(format!("{signer:?}"), "RequestSigner([REDACTED])");
    }
}
