-- Records a write batch's acknowledgements in one round trip, and says
-- whether any bank stream asked for `kind` (an acknowledgement's event),
-- so that the batch looks for the acknowledged alerts only then.
--
-- Why a function: the statement must find each acknowledgement's rows by
-- key, and with the planner's guess of 100 rows for the JSON and a young
-- `events` table's statistics it chose to scan every device and every
-- event instead, so it runs with hash and merge joins off. Set around it
-- from the gateway, that took two more round trips to the server per
-- batch (and a third to ask about the streams), on the one writer each
-- gateway has: a function's SET clauses apply while it runs, and nowhere
-- else. `$1` the acknowledgements, a JSON array of
-- `{id, previous, seq, delivered}`; `$2` the time (ms); `$3` the event
-- kind the streams may ask for.
--
-- "Is an alert" is written so that no index or statistic of `alert_id`
-- can serve it (COALESCE is not strict): with `alert_id IS NOT NULL`,
-- statistics taken before the first alert made the planner walk every
-- alert's entry in `events_alert` for each acknowledgement.
CREATE FUNCTION record_device_acks(acks TEXT, now_ms BIGINT, kind TEXT)
RETURNS BOOLEAN
LANGUAGE sql
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
WITH a AS (SELECT * FROM json_to_recordset($1::json)
            AS a(id TEXT, previous BIGINT, seq BIGINT, delivered BIGINT)),
     device AS (
         INSERT INTO device_acks (device_id, acked_seq)
         SELECT m.id, LEAST(m.seq, d.last_seq)
         FROM (SELECT id, max(seq) AS seq FROM a GROUP BY id) m
         JOIN devices d ON d.id = m.id
         ORDER BY m.id
         ON CONFLICT (device_id) DO UPDATE
         SET acked_seq = GREATEST(device_acks.acked_seq, EXCLUDED.acked_seq))
UPDATE events e SET acked_at = $2, delivered_at = COALESCE(e.delivered_at, a.delivered)
FROM a WHERE e.device_id = a.id AND e.seq > a.previous AND e.seq <= a.seq
    AND COALESCE(e.alert_id, '') <> '';
SELECT EXISTS (
    SELECT 1 FROM ssf_streams
    WHERE status <> 'disabled'
      AND $3 = ANY (regexp_split_to_array(events_requested, '\s+')));
$$;
