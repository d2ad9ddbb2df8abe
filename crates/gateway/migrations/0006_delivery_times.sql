-- When a device's stream first sent each event (the console's "delivered"),
-- kept in the database so that every gateway sharing it sees the same
-- answer, whichever one held the device's stream.
ALTER TABLE events ADD COLUMN delivered_at INTEGER;
