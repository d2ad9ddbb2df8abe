-- Idempotency-Key on the bank API's POSTs (bank/idempotency.rs): a retried
-- post gets the first answer. Per API client and key: the SHA-256 of the
-- request (method, target, body), when it came (keys are kept a day), how
-- long its request holds the key (and which request: its random owner
-- token), and once it is answered the answer.
CREATE TABLE idempotency_keys (
    client TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body TEXT,
    PRIMARY KEY (client, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at);
