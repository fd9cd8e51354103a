-- Rule sets: one row per set, its active version (0: none) and the revision of its state
-- (increases with every activation, rollback and retirement; rule.set.v1 carries it).
CREATE TABLE rule_sets (
    name TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    active_version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every version of every set: draft -> review -> active -> superseded (or retired); who wrote,
-- submitted and approved it, and when.
CREATE TABLE rule_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    document TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at INTEGER,
    approved_by TEXT NOT NULL,
    approved_at INTEGER,
    comment TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

-- Every change of a set: created, edited, submitted, returned, activated, rolled back, retired.
CREATE TABLE rule_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX rule_history_by_name ON rule_history (name, seq);

-- Evaluations reported by the services that evaluate (rule.evaluation.v1): with rejections
-- they are the audit trail; all are what a what-if replays.
CREATE TABLE rule_evaluations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    service TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    owner TEXT NOT NULL,
    allowed BOOLEAN NOT NULL,
    findings TEXT NOT NULL,
    sets TEXT NOT NULL,
    inputs TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX rule_evaluations_by_target ON rule_evaluations (target, seq);
CREATE INDEX rule_evaluations_refused ON rule_evaluations (allowed, seq);
