-- Every version of every (service, environment) configuration document: values and flags as
-- JSON, who made it, when, why; the highest version is the current one. Never updated.
CREATE TABLE config_versions (
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    author TEXT NOT NULL,
    comment TEXT NOT NULL,
    rolled_back_from BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (service, environment, version)
);

-- Secrets: AES-256-GCM sealed under the master key, bound to (service, name, version); never
-- the plaintext.
CREATE TABLE config_secrets (
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    sealed BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (service, name)
);

-- The audit trail: every secret read (allowed or refused), every change of a secret or a
-- configuration.
CREATE TABLE config_audit (
    id TEXT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    service TEXT NOT NULL,
    target TEXT NOT NULL,
    allowed BOOLEAN NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX config_audit_by_time ON config_audit (at DESC);
