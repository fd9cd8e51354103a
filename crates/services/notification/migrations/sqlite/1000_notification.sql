-- A user's preferences (the JSON document of domain::Preferences' contacts and choices).
CREATE TABLE notif_preferences (
    user_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    doc TEXT NOT NULL,
    all_accounts INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The accounts whose events reach a user ("*": every account), from their token.
CREATE TABLE notif_follows (
    account TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (account, user_id)
);
CREATE INDEX notif_follows_user ON notif_follows (user_id);

-- One message to one user; rendered from its template and data when sent or read, so a
-- grouped one (the fills of an order) shows everything merged into it.
CREATE TABLE notif_notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    template TEXT NOT NULL,
    severity TEXT NOT NULL,
    lang TEXT NOT NULL,
    data TEXT NOT NULL,
    group_key TEXT NOT NULL,
    open_until INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX notif_notifications_group ON notif_notifications (user_id, group_key, open_until);

-- The idempotency keys of the events behind each notification: the same key twice for a user
-- is one notification.
CREATE TABLE notif_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- One notification on one channel to one target: the queue, the receipts and the dead letter
-- (status 'dead'). Its id is the idempotency key sent to the peer.
CREATE TABLE notif_deliveries (
    id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    critical INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    read_at INTEGER,
    UNIQUE (notification_id, channel, target)
);
CREATE INDEX notif_deliveries_due ON notif_deliveries (status, next_at);
CREATE INDEX notif_deliveries_user ON notif_deliveries (user_id, channel, created_at);
CREATE INDEX notif_deliveries_sent ON notif_deliveries (user_id, channel, sent_at);
