-- The gateway as a Shared Signals transmitter (transmitter/): the bank's
-- streams, and the outbox of events not yet delivered to them.

-- A stream of an API client (the bank API key's name): how its events are
-- delivered (RFC 8935 push to endpoint_url with authorization_header, or
-- RFC 8936 poll), which events it asked for (space-separated URIs), and
-- whether it is enabled, paused (events kept) or disabled (dropped).
CREATE TABLE ssf_streams (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    aud TEXT NOT NULL,
    method TEXT NOT NULL,
    endpoint_url TEXT,
    authorization_header TEXT,
    events_requested TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ssf_streams_client ON ssf_streams(client);

-- Events waiting for their stream: written in the transaction of what they
-- report, deleted when the receiver accepted (push) or acknowledged (poll)
-- them. The claims are signed when sent.
CREATE TABLE ssf_outbox (
    id BIGSERIAL PRIMARY KEY,
    stream_id TEXT NOT NULL REFERENCES ssf_streams(id),
    jti TEXT NOT NULL UNIQUE,
    claims TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX ssf_outbox_due ON ssf_outbox(stream_id, next_attempt_at);
