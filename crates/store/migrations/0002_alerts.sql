-- Version 2: alerts signed by the bank, and fraud-check answers.
-- Everything a tampered file could use to mislead the customer (the kind, the
-- amount, the verification result, the answer) is sealed.

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    details         BLOB NOT NULL,       -- sealed JSON: kind, severity, amount, currency, merchant, account reference, text, verification
    payload         BLOB NOT NULL,       -- sealed: the raw signed JWS as received
    answer          BLOB,                -- sealed: fraud-check answer and when
    issued_at       INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    alert_id_hash   BLOB NOT NULL UNIQUE, -- HMAC of the bank's alert id (SET jti)
    key_version     INTEGER NOT NULL
) STRICT;
CREATE INDEX alerts_latest ON alerts(account_id, received_at DESC, id DESC);
