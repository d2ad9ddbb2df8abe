-- Audience subjects and demo marks: as ../0007_audience_and_demo.sql.
ALTER TABLE customers ADD COLUMN subject TEXT;
UPDATE customers SET subject = md5(random()::text || clock_timestamp()::text || id::text)
    WHERE subject IS NULL;
CREATE UNIQUE INDEX customers_subject ON customers(subject);
ALTER TABLE customers ADD COLUMN demo BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN demo BIGINT NOT NULL DEFAULT 0;
CREATE TABLE spent_refresh_tokens (
    hash BYTEA PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    spent_at BIGINT NOT NULL
);
CREATE INDEX spent_refresh_tokens_device ON spent_refresh_tokens(device_id);
CREATE TABLE pending_alerts (
    id TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    composed_by BIGINT NOT NULL REFERENCES staff(id),
    composed_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by BIGINT REFERENCES staff(id),
    decided_at BIGINT,
    alert_id TEXT
);
CREATE INDEX pending_alerts_status ON pending_alerts(status, composed_at);
