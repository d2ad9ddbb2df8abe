-- Bank staff who use the agent console. Agents answer customers; admins
-- also manage staff and pilot flags. Passwords are Argon2id PHC strings.
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'admin')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);

-- Console sessions. Only a hash of the cookie's token is kept, so a copy of
-- the database signs nobody in. Each session has its own CSRF token.
CREATE TABLE staff_sessions (
    token_hash BLOB PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

-- Every staff action, in order. Append-only: the triggers refuse to change
-- or remove a row, whoever asks.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    staff_id INTEGER REFERENCES staff(id),
    staff_username TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- A conversation a staff member marked resolved. A customer message sent
-- after `resolved_at` puts it back in the queue.
CREATE TABLE conversation_states (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    resolved_at INTEGER NOT NULL,
    resolved_by INTEGER NOT NULL REFERENCES staff(id)
);
