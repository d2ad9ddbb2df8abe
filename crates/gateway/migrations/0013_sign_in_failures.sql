-- Failed sign-ins and wrong user codes (sign_ins.rs), by key, kept for the
-- 15-minute window: gateways sharing this database count one guesser's
-- passwords together. One gateway on its SQLite file counts in memory;
-- the table is here so that both schemas stay the same.
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures(key, at_ms);
CREATE INDEX sign_in_failures_age ON sign_in_failures(at_ms);
