//! The use cases: configuration documents (change, roll back, read, history, diff) and secrets
//! (set, delete, list, reveal to the owner), each audited. Every new version is published on
//! `config.changed.v1` through the outbox, in the transaction that stores it.

use std::sync::Arc;

use common::auth::Principal;
use common::bus::Envelope;
use common::bus::topics::CONFIG_CHANGED;
use common::crypto::MasterKey;
use common::error::{Classify, Kind};
use common::store::{Db, Outbox, Timestamp};
use secrecy::{ExposeSecret as _, SecretString};
use time::OffsetDateTime;

use crate::domain::{
    self, AuditEntry, Change, Document, Invalid, MAX_SECRET_BYTES, MAX_SECRETS_PER_SERVICE, Scope,
    SecretMeta, Version,
};
use crate::store;

/// What a use case can fail with. Messages never carry a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request breaks a rule.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such document, version or secret.
    #[error("{0}")]
    NotFound(String),
    /// The expected version is not the current one (someone changed it meanwhile).
    #[error("expected version {expected} but the current version is {current}; read it and retry")]
    Conflict {
        /// What the caller expected.
        expected: u64,
        /// What it is.
        current: u64,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many of something.
    #[error("{0}")]
    Exhausted(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Sealing or opening a secret (the master key, a corrupt row).
    #[error("secret {0}: {1}")]
    Seal(String, String),
}

impl From<common::store::Error> for Error {
    fn from(e: common::store::Error) -> Self {
        Error::Store(e.into())
    }
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::InvalidArgument,
            Error::NotFound(_) => Kind::NotFound,
            Error::Conflict { .. } => Kind::Aborted,
            Error::Forbidden(_) => Kind::PermissionDenied,
            Error::Exhausted(_) => Kind::ResourceExhausted,
            Error::Store(e) => e.kind(),
            Error::Seal(..) => Kind::Internal,
        }
    }
}

/// The caller: the verified token's principal, `None` when tokens are not checked.
pub type Caller<'a> = Option<&'a Principal>;

fn actor(caller: Caller<'_>) -> String {
    caller.map_or_else(|| "anonymous".to_owned(), |p| p.username.clone())
}

/// A service account reads only its own configuration; ops and admins read all.
fn may_read(caller: Caller<'_>, service: &str) -> Result<(), Error> {
    match caller {
        Some(p)
            if !p.has_role("ops")
                && p.roles.iter().any(|r| r == "service")
                && p.username != service =>
        {
            Err(Error::Forbidden(format!(
                "service {} may read only its own configuration, not {service}'s",
                p.username
            )))
        }
        _ => Ok(()),
    }
}

/// Why `caller` may not have the plaintext of `service`'s secrets; `None`: it may.
fn refusal(caller: Caller<'_>, service: &str) -> Option<String> {
    match caller {
        None => Some("tokens are not checked, so no caller can be the owner".to_owned()),
        Some(p) if !p.roles.iter().any(|r| r == "service") => Some(format!(
            "{} is not a service account; only {service}'s own token reads its secrets",
            p.username
        )),
        Some(p) if p.username != service => Some(format!(
            "{} is not {service}; only {service}'s own token reads its secrets",
            p.username
        )),
        Some(_) => None,
    }
}

fn secret_aad(service: &str, name: &str, version: u64) -> String {
    format!("config-secret/{service}/{name}/{version}")
}

/// The config service's behaviour.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    master: MasterKey,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config").finish_non_exhaustive()
    }
}

impl Config {
    /// The service on `db`, sealing secrets under `master`.
    pub fn new(db: Db, master: MasterKey) -> Self {
        Self {
            inner: Arc::new(Inner { db, master }),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The config service's own secret `name` and its version, opened for the service's own
    /// use (the SSI credentials it logs in with); `None` when not set. The caller audits the
    /// use.
    pub(crate) async fn own_secret(
        &self,
        name: &str,
    ) -> Result<Option<(u64, SecretString)>, Error> {
        let Some((meta, sealed)) = store::secret(self.db(), crate::SPEC.name, name).await? else {
            return Ok(None);
        };
        let plain = self
            .inner
            .master
            .open(&sealed, &secret_aad(crate::SPEC.name, name, meta.version))
            .map_err(|e| Error::Seal(name.to_owned(), e))?;
        let value = String::from_utf8(plain)
            .map_err(|_| Error::Seal(name.to_owned(), "not UTF-8".to_owned()))?;
        Ok(Some((meta.version, SecretString::from(value))))
    }

    // ----- configuration ---------------------------------------------------------------------

    /// The current document of `scope`.
    #[tracing::instrument(skip_all, fields(scope = %scope.key()), err(level = "debug"))]
    pub async fn current(&self, caller: Caller<'_>, scope: &Scope) -> Result<Version, Error> {
        may_read(caller, scope.service())?;
        store::current(self.db(), scope).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "no configuration saved for {} yet (the service runs on its defaults)",
                scope.key()
            ))
        })
    }

    /// Version `version` of `scope`.
    pub async fn version(
        &self,
        caller: Caller<'_>,
        scope: &Scope,
        version: u64,
    ) -> Result<Version, Error> {
        may_read(caller, scope.service())?;
        store::version(self.db(), scope, version)
            .await?
            .ok_or_else(|| Error::NotFound(format!("{} has no version {version}", scope.key())))
    }

    /// Up to `limit` versions below `before`, newest first.
    pub async fn history(
        &self,
        caller: Caller<'_>,
        scope: &Scope,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Version>, Error> {
        may_read(caller, scope.service())?;
        Ok(store::history(self.db(), scope, before, limit).await?)
    }

    /// What changed from version `from` to version `to` (0 is the empty document).
    pub async fn diff(
        &self,
        caller: Caller<'_>,
        scope: &Scope,
        from: u64,
        to: u64,
    ) -> Result<Vec<Change>, Error> {
        let doc = |v: u64| async move {
            if v == 0 {
                Ok(Document::default())
            } else {
                self.version(caller, scope, v).await.map(|v| v.document)
            }
        };
        let (a, b) = (doc(from).await?, doc(to).await?);
        Ok(domain::diff(&a, &b))
    }

    /// Every scope with a document: service, environment, current version, when.
    pub async fn scopes(&self) -> Result<Vec<(String, String, u64, OffsetDateTime)>, Error> {
        Ok(store::scopes(self.db())
            .await?
            .into_iter()
            .map(|(s, e, v, at)| (s, e, v, at.into()))
            .collect())
    }

    /// Saves `document` as the next version of `scope`, if `expected` is the current version
    /// (0: none yet); audited and published.
    #[tracing::instrument(skip_all, fields(scope = %scope.key(), expected = expected), err(level = "info"))]
    pub async fn change(
        &self,
        caller: Caller<'_>,
        scope: &Scope,
        expected: u64,
        document: Document,
        comment: &str,
    ) -> Result<Version, Error> {
        document.validate()?;
        let comment = domain::comment(comment)?;
        self.save(caller, scope, Some(expected), document, comment, None)
            .await
    }

    /// Makes a new version of `scope` equal to version `to` (checked against `expected` when
    /// given); audited and published.
    #[tracing::instrument(skip_all, fields(scope = %scope.key(), to = to), err(level = "info"))]
    pub async fn rollback(
        &self,
        caller: Caller<'_>,
        scope: &Scope,
        to: u64,
        expected: Option<u64>,
        comment: &str,
    ) -> Result<Version, Error> {
        let comment = domain::comment(comment)?;
        let old = store::version(self.db(), scope, to)
            .await?
            .ok_or_else(|| Error::NotFound(format!("{} has no version {to}", scope.key())))?;
        let comment = if comment.is_empty() {
            format!("rollback to version {to}")
        } else {
            comment
        };
        self.save(caller, scope, expected, old.document, comment, Some(to))
            .await
    }

    async fn save(
        &self,
        caller: Caller<'_>,
        scope: &Scope,
        expected: Option<u64>,
        document: Document,
        comment: String,
        rolled_back_from: Option<u64>,
    ) -> Result<Version, Error> {
        let mut tx = self.db().begin().await?;
        let current = store::current_number_in(&mut tx, scope).await?;
        if let Some(expected) = expected
            && expected != current
        {
            return Err(Error::Conflict { expected, current });
        }
        let version = Version {
            scope: scope.clone(),
            version: current + 1,
            document,
            author: actor(caller),
            comment,
            rolled_back_from,
            created_at: Timestamp::now().into(),
        };
        store::insert_version(&mut tx, &version)
            .await
            .map_err(|e| match e {
                store::Error::Taken(_) => Error::Conflict {
                    expected: current,
                    current: current + 1,
                },
                other @ (store::Error::Store(_) | store::Error::Corrupt { .. }) => {
                    Error::Store(other)
                }
            })?;
        let (action, detail) = match rolled_back_from {
            Some(from) => (
                "config.rollback",
                format!("version {} = version {from}", version.version),
            ),
            None => ("config.change", format!("version {}", version.version)),
        };
        store::audit_in(
            &mut tx,
            &AuditEntry {
                at: version.created_at,
                actor: version.author.clone(),
                action: action.to_owned(),
                service: scope.service().to_owned(),
                target: scope.environment().to_owned(),
                allowed: true,
                detail,
            },
        )
        .await?;
        let event = crate::events::changed(&version);
        Outbox::enqueue(
            &mut tx,
            CONFIG_CHANGED.static_name(),
            &Envelope::new(crate::SPEC.name, scope.key(), &event),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(scope = %scope.key(), version = version.version, author = %version.author, "configuration changed");
        Ok(version)
    }

    // ----- secrets ---------------------------------------------------------------------------

    /// Sets (or rotates) `service`'s secret `name`: a new version, sealed; audited.
    #[tracing::instrument(skip_all, fields(service = %service, name = %name), err(level = "info"))]
    pub async fn set_secret(
        &self,
        caller: Caller<'_>,
        service: &str,
        name: &str,
        value: &SecretString,
    ) -> Result<SecretMeta, Error> {
        let service = domain::service_name(service)?;
        domain::secret_name(name)?;
        let size = value.expose_secret().len();
        if size == 0 || size > MAX_SECRET_BYTES {
            return Err(Invalid(format!(
                "a secret's value is 1 to {MAX_SECRET_BYTES} bytes, not {size}"
            ))
            .into());
        }
        let mut tx = self.db().begin().await?;
        let (current, count) = store::secret_number_in(&mut tx, &service, name).await?;
        if current == 0 && count >= MAX_SECRETS_PER_SERVICE as u64 {
            return Err(Error::Exhausted(format!(
                "{service} has {count} secrets; at most {MAX_SECRETS_PER_SERVICE}"
            )));
        }
        let meta = SecretMeta {
            service: service.clone(),
            name: name.to_owned(),
            version: current + 1,
            updated_at: Timestamp::now().into(),
            updated_by: actor(caller),
        };
        let sealed = self
            .inner
            .master
            .seal(
                value.expose_secret().as_bytes(),
                &secret_aad(&service, name, meta.version),
            )
            .map_err(|e| Error::Seal(name.to_owned(), e))?;
        store::put_secret(&mut tx, &meta, &sealed).await?;
        store::audit_in(
            &mut tx,
            &AuditEntry {
                at: meta.updated_at,
                actor: meta.updated_by.clone(),
                action: "secret.set".to_owned(),
                service: service.clone(),
                target: name.to_owned(),
                allowed: true,
                detail: format!("version {}", meta.version),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(service = %service, name, version = meta.version, "secret set");
        Ok(meta)
    }

    /// Deletes `service`'s secret `name`; audited.
    #[tracing::instrument(skip_all, fields(service = %service, name = %name), err(level = "info"))]
    pub async fn delete_secret(
        &self,
        caller: Caller<'_>,
        service: &str,
        name: &str,
    ) -> Result<(), Error> {
        let service = domain::service_name(service)?;
        domain::secret_name(name)?;
        let mut tx = self.db().begin().await?;
        if !store::delete_secret(&mut tx, &service, name).await? {
            return Err(Error::NotFound(format!("{service} has no secret {name}")));
        }
        store::audit_in(
            &mut tx,
            &AuditEntry {
                at: Timestamp::now().into(),
                actor: actor(caller),
                action: "secret.delete".to_owned(),
                service,
                target: name.to_owned(),
                allowed: true,
                detail: String::new(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The secrets' metadata (never values), of one service or all.
    pub async fn secrets(&self, service: Option<&str>) -> Result<Vec<SecretMeta>, Error> {
        if let Some(s) = service {
            domain::service_name(s)?;
        }
        Ok(store::secrets(self.db(), service).await?)
    }

    /// The plaintext of `service`'s secret `name`, only to that service's own token; every
    /// call, allowed or refused, is audited (`via`: `http` or `grpc`).
    #[tracing::instrument(skip_all, fields(service = %service, name = %name, via = via), err(level = "info"))]
    pub async fn reveal_secret(
        &self,
        caller: Caller<'_>,
        service: &str,
        name: &str,
        via: &str,
    ) -> Result<(SecretMeta, SecretString), Error> {
        let service = domain::service_name(service)?;
        domain::secret_name(name)?;
        let mut entry = AuditEntry {
            at: Timestamp::now().into(),
            actor: actor(caller),
            action: "secret.read".to_owned(),
            service: service.clone(),
            target: name.to_owned(),
            allowed: false,
            detail: String::new(),
        };
        if let Some(why) = refusal(caller, &service) {
            entry.detail = format!("refused ({via}): {why}");
            store::audit(self.db(), &entry).await?;
            return Err(Error::Forbidden(why));
        }
        entry.allowed = true;
        let Some((meta, sealed)) = store::secret(self.db(), &service, name).await? else {
            entry.detail = format!("{via}: no such secret");
            store::audit(self.db(), &entry).await?;
            return Err(Error::NotFound(format!("{service} has no secret {name}")));
        };
        let plain = self
            .inner
            .master
            .open(&sealed, &secret_aad(&service, name, meta.version))
            .map_err(|e| Error::Seal(name.to_owned(), e))?;
        let value = String::from_utf8(plain)
            .map_err(|_| Error::Seal(name.to_owned(), "not UTF-8".to_owned()))?;
        entry.detail = format!("{via}: version {}", meta.version);
        store::audit(self.db(), &entry).await?;
        Ok((meta, SecretString::from(value)))
    }

    /// Up to `limit` audit entries, of one service or all, newest first.
    pub async fn audit(&self, service: Option<&str>, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        if let Some(s) = service {
            domain::service_name(s)?;
        }
        Ok(store::audit_trail(self.db(), service, limit).await?)
    }
}
