-- When a device's stream first sent each event: as ../0006_delivery_times.sql.
ALTER TABLE events ADD COLUMN delivered_at BIGINT;
