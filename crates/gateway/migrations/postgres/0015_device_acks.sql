-- A device's acknowledged number moves out of its row, into a table of its
-- own. Several gateways share one PostgreSQL: a gateway's write batch that
-- records acknowledgements (its own devices, coalesced into one statement)
-- and another's that appends events (numbering other devices, under each
-- device's row lock) would otherwise lock the same device rows from both
-- ends, and with no lock that every batch takes first, that is a deadlock.
-- Acknowledgements now lock only these rows; appends only `devices`. The
-- same schema for SQLite, so that both databases read it one way.
CREATE TABLE device_acks (
    device_id TEXT PRIMARY KEY REFERENCES devices(id),
    acked_seq BIGINT NOT NULL
);
INSERT INTO device_acks (device_id, acked_seq)
    SELECT id, acked_seq FROM devices WHERE acked_seq > 0;
ALTER TABLE devices DROP COLUMN acked_seq;
