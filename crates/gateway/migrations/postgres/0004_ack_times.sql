-- When a device acknowledged each alert: as ../0004_ack_times.sql.
ALTER TABLE events ADD COLUMN acked_at BIGINT;
