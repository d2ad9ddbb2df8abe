-- Every alert names its audience: the customer's subject identifier, an
-- opaque random value that is never reused (row ids can be, after a
-- deletion) and that says nothing about the customer. Devices learn it from
-- the token endpoint at link time.
ALTER TABLE customers ADD COLUMN subject TEXT;
UPDATE customers SET subject = lower(hex(randomblob(16))) WHERE subject IS NULL;
CREATE UNIQUE INDEX customers_subject ON customers(subject);

-- Accounts the demo bank seeded, with published passwords. A gateway started
-- without --demo refuses to run while any of them can still sign in.
ALTER TABLE customers ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;

-- Refresh tokens rotate on every use (RFC 9700 section 4.14): the hashes of
-- a device's spent refresh tokens, so that presenting one again is seen as
-- what it is (a stolen copy, or the real device after a thief used it) and
-- revokes the whole grant.
CREATE TABLE spent_refresh_tokens (
    hash BLOB PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    spent_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX spent_refresh_tokens_device ON spent_refresh_tokens(device_id);

-- Four eyes: an alert that asks the customer to act (a fraud check, a
-- security or sign-in warning, a payment reminder, free text), composed in
-- the agent console, waits here unsigned until a second staff member
-- approves it; only then is it signed and delivered.
CREATE TABLE pending_alerts (
    id TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    composed_by INTEGER NOT NULL REFERENCES staff(id),
    composed_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by INTEGER REFERENCES staff(id),
    decided_at INTEGER,
    alert_id TEXT
) WITHOUT ROWID;
CREATE INDEX pending_alerts_status ON pending_alerts(status, composed_at);
