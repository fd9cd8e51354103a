-- Two-factor authentication (TOTP, RFC 6238): the secret sealed with the master key (AES-256-GCM,
-- bound to the user id), enabled once a first code confirmed it; the last time step accepted
-- (a code is good once); SHA-256 hashes of the unused recovery codes (JSON array).
CREATE TABLE sso_totp (
    user_id TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    enabled BOOLEAN NOT NULL,
    last_step INTEGER NOT NULL,
    recovery TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
