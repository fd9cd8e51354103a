-- Users: a password hash (Argon2id, PHC string), roles and the broker sub-accounts they may
-- trade (comma-separated), lockout state.
CREATE TABLE sso_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    accounts TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Service accounts (OAuth client credentials): a secret hash and roles.
CREATE TABLE sso_clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Signing keys (Ed25519, PKCS#8): the newest unretired signs; a superseded key stays published
-- in the JWKS until the tokens it signed have expired.
CREATE TABLE sso_keys (
    kid TEXT PRIMARY KEY,
    private_pkcs8 BYTEA NOT NULL,
    public_key BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    superseded_at TIMESTAMPTZ
);

-- Refresh tokens by SHA-256 of the token: one row per rotation, a family per login. A used
-- token presented again revokes its family (reuse detection).
CREATE TABLE sso_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sso_refresh_by_family ON sso_refresh_tokens (family);
CREATE INDEX sso_refresh_by_user ON sso_refresh_tokens (user_id);

-- Password reset tokens by SHA-256 of the token, used once.
CREATE TABLE sso_reset_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

-- Every authentication event: logins (ok, failed, locked), token refreshes and reuse,
-- revocations, password changes and resets, users created and changed, keys rotated.
CREATE TABLE sso_audit (
    seq BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX sso_audit_by_time ON sso_audit (at DESC);
