-- Call status and scam-call reports: as ../0008_calls.sql.
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    staff_id BIGINT NOT NULL REFERENCES staff(id),
    agent TEXT NOT NULL,
    reason TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX calls_open ON calls(customer_id, expires_at) WHERE ended_at IS NULL;

CREATE TABLE scam_reports (
    id TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    device_id TEXT NOT NULL,
    device_jkt TEXT NOT NULL,
    called_at BIGINT NOT NULL,
    caller_number TEXT NOT NULL,
    note TEXT NOT NULL,
    shown_status TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    handled_by BIGINT REFERENCES staff(id),
    handled_at BIGINT
);
CREATE INDEX scam_reports_open ON scam_reports(received_at) WHERE handled_at IS NULL;
