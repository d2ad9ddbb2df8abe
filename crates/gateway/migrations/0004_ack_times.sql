-- When a device acknowledged each alert (for the console's delivery view);
-- set by the same write that moves the device's acknowledged number.
ALTER TABLE events ADD COLUMN acked_at INTEGER;
