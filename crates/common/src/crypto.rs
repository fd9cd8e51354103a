//! Secrets at rest: AES-256-GCM (ring) under a master key. A sealed value is `QTSE1`, a random
//! 96-bit nonce and the ciphertext with its tag; the associated data binds it to its row (a
//! key id, a user id), so a sealed value copied to another row does not open.
//!
//! The master key comes from the service's settings (base64 of 32 bytes), else
//! `QTS_MASTER_KEY`, else a key file made once in the data directory (`<service>-master.key`,
//! mode 0600) — the embedded fleet's convenience; production sets it from a secret store.
//! Shared by the services that keep secrets at rest (the SSO's signing keys and TOTP secrets,
//! the config service's secrets).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

const MAGIC: &[u8] = b"QTSE1";

/// The master key.
pub struct MasterKey(LessSafeKey);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `keys.master_key`.
    Settings,
    /// `QTS_MASTER_KEY`.
    Environment,
    /// The key file in the data directory (made now when `true`).
    File(std::path::PathBuf, bool),
}

impl MasterKey {
    /// A key of 32 bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, String> {
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| format!("the master key must be 32 bytes, not {}", bytes.len()))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// A key from base64 text.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| format!("the master key is not base64: {e}"))?;
        Self::new(&bytes)
    }

    /// The key from the settings, else `QTS_MASTER_KEY`, else the key file `file_name` in
    /// `data_dir` (made with a random key when missing).
    pub fn load(
        configured: &str,
        data_dir: &Path,
        file_name: &str,
    ) -> Result<(Self, Source), String> {
        if !configured.trim().is_empty() {
            return Ok((Self::from_base64(configured)?, Source::Settings));
        }
        if let Ok(text) = std::env::var("QTS_MASTER_KEY")
            && !text.trim().is_empty()
        {
            return Ok((Self::from_base64(&text)?, Source::Environment));
        }
        let path = data_dir.join(file_name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((Self::from_base64(&text)?, Source::File(path, false))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| "the system random source failed".to_owned())?;
                std::fs::create_dir_all(data_dir)
                    .map_err(|e| format!("{}: {e}", data_dir.display()))?;
                write_private(&path, STANDARD.encode(bytes).as_bytes())?;
                Ok((Self::new(&bytes)?, Source::File(path, true)))
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Seals `plaintext`, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "the system random source failed".to_owned())?;
        let mut data = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + data.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Opens a value [`MasterKey::seal`] made with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &str) -> Result<Vec<u8>, String> {
        let rest = sealed.strip_prefix(MAGIC).ok_or("not a sealed value")?;
        if rest.len() < NONCE_LEN {
            return Err("a sealed value too short".to_owned());
        }
        let (nonce, data) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "bad nonce".to_owned())?;
        let mut data = data.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut data)
            .map_err(|_| {
                "a sealed value does not open with this master key (or was moved)".to_owned()
            })?;
        Ok(plain.to_vec())
    }

    /// Whether `value` is sealed (stored before sealing was introduced, it is not).
    pub fn is_sealed(value: &[u8]) -> bool {
        value.starts_with(MAGIC)
    }
}

/// The `[keys]` section of a service that seals secrets at rest: its master key.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    /// Base64 of 32 bytes; empty: `QTS_MASTER_KEY`, else a key file made once in the data
    /// directory (`<service>-master.key`, for the embedded fleet).
    pub master_key: String,
}

impl std::fmt::Debug for KeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySettings")
            .field(
                "master_key",
                &if self.master_key.is_empty() {
                    ""
                } else {
                    "(set)"
                },
            )
            .finish()
    }
}

impl KeySettings {
    /// The master key ([`MasterKey::load`] with the key file `file_name`), warning when the key
    /// file was made now (fine for the embedded fleet, not for production).
    pub fn load(&self, data_dir: &Path, file_name: &str) -> Result<MasterKey, String> {
        let (master, source) = MasterKey::load(&self.master_key, data_dir, file_name)?;
        match source {
            Source::File(path, true) => tracing::warn!(
                file = %path.display(),
                "generated a master key for secrets at rest; in production set keys.master_key or QTS_MASTER_KEY"
            ),
            Source::File(..) | Source::Settings | Source::Environment => {}
        }
        Ok(master)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_settings_never_show_the_key() {
        let set = KeySettings {
            master_key: "c2VjcmV0LWtleQ==".to_owned(),
        };
        let shown = format!("{set:?}");
        assert!(
            !shown.contains("c2VjcmV0") && shown.contains("(set)"),
            "{shown}"
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(set.load(dir.path(), "x.key").is_err(), "not 32 bytes");
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let key = MasterKey::new(&[7u8; 32]).unwrap();
        let sealed = key.seal(b"private key", "kid-1").unwrap();
        assert!(MasterKey::is_sealed(&sealed));
        assert!(!sealed.windows(11).any(|w| w == b"private key"));
        assert_eq!(key.open(&sealed, "kid-1").unwrap(), b"private key");
        assert!(key.open(&sealed, "kid-2").is_err(), "bound to its row");
        let other = MasterKey::new(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, "kid-1").is_err());
        assert_ne!(
            sealed,
            key.seal(b"private key", "kid-1").unwrap(),
            "random nonces"
        );
        assert!(MasterKey::new(&[1u8; 16]).is_err());

        let dir = tempfile::tempdir().unwrap();
        let (made, source) = MasterKey::load("", dir.path(), "sso-master.key").unwrap();
        assert!(matches!(source, Source::File(_, true)));
        let (again, source) = MasterKey::load("", dir.path(), "sso-master.key").unwrap();
        assert!(matches!(source, Source::File(_, false)));
        let s = made.seal(b"x", "a").unwrap();
        assert_eq!(again.open(&s, "a").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("sso-master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
