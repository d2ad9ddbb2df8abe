-- Call status: an agent who phones a customer opens a call here; each
-- start, renewal and end is signed as a call statement and delivered to
-- every device of the customer. A call counts until it is ended or
-- `expires_at` passes (30 minutes after its last renewal).
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    agent TEXT NOT NULL,
    reason TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
) WITHOUT ROWID;
CREATE INDEX calls_open ON calls(customer_id, expires_at) WHERE ended_at IS NULL;

-- Scam-call reports from customers' devices: someone called claiming to be
-- the bank while the app said the bank was not calling (or could not
-- check). They wait in the console's queue until a staff member handles
-- them, and the bank reads them through its API.
CREATE TABLE scam_reports (
    id TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    device_id TEXT NOT NULL,
    device_jkt TEXT NOT NULL,
    called_at INTEGER NOT NULL,
    caller_number TEXT NOT NULL,
    note TEXT NOT NULL,
    shown_status TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    handled_by INTEGER REFERENCES staff(id),
    handled_at INTEGER
) WITHOUT ROWID;
CREATE INDEX scam_reports_open ON scam_reports(received_at) WHERE handled_at IS NULL;
