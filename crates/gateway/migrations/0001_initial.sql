-- The gateway's first schema. Secrets are stored only as hashes (tokens,
-- device codes, the bank API key) or, for the alert signing keys, as PKCS#8
-- (a reference gateway keeps its keys in its own database; see README).

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    home_country TEXT NOT NULL,
    purchase_threshold_minor INTEGER NOT NULL DEFAULT 10000,
    balance_low_minor INTEGER NOT NULL DEFAULT 5000,
    flags TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);

-- One device is one grant: its refresh token, its DPoP key, its events.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    jkt TEXT NOT NULL,
    refresh_hash BLOB NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX devices_customer ON devices(customer_id);

CREATE TABLE access_tokens (
    hash BLOB PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX access_tokens_device ON access_tokens(device_id);

CREATE TABLE device_codes (
    hash BLOB PRIMARY KEY,
    user_code TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    jkt TEXT,
    expires_at INTEGER NOT NULL,
    interval_s INTEGER NOT NULL,
    last_poll_ms INTEGER,
    status TEXT NOT NULL,
    customer_id INTEGER,
    device_id TEXT
) WITHOUT ROWID;

-- Every device's events, numbered from 1 without gaps, kept as history.
CREATE TABLE events (
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    alert_id TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_alert ON events(alert_id) WHERE alert_id IS NOT NULL;

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    jws TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_customer ON alerts(customer_id);

CREATE TABLE chat_messages (
    id TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    device_id TEXT,
    client_id TEXT,
    author_role TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    UNIQUE (device_id, client_id)
) WITHOUT ROWID;
CREATE INDEX chat_customer ON chat_messages(customer_id, sent_at);

CREATE TABLE fraud_answers (
    alert_id TEXT PRIMARY KEY REFERENCES alerts(id),
    answer TEXT NOT NULL,
    answered_at INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    device_jkt TEXT NOT NULL,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;

-- `published`: in the set served at jwks_uri (the latest rotation's keys).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    pkcs8 BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    published INTEGER NOT NULL
) WITHOUT ROWID;
