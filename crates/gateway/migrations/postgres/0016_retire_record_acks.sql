-- A build between two releases defined the function that records a
-- batch's acknowledgements here, in the schema; it now lives in each
-- writer session's temporary schema (see `acks::pg_define_record_acks`),
-- which needs no migration and changes with the gateway. This migration
-- only removes that interim function, so a database it reached opens
-- like any other.
DROP FUNCTION IF EXISTS record_device_acks(TEXT, BIGINT, TEXT);
