-- What must hold across every gateway sharing this database (protocol
-- section 15): each is checked by one atomic statement outside the
-- writers' batches, so no gateway waits for another's lock.

-- DPoP proofs seen (RFC 9449 section 11.1): the SHA-256 of the proof key's
-- thumbprint and the proof's jti, kept until the proof could no longer be
-- accepted anywhere. A proof replayed to another gateway finds its row.
CREATE TABLE dpop_proofs_seen (
    proof TEXT PRIMARY KEY,
    forget_at BIGINT NOT NULL
);
CREATE INDEX dpop_proofs_seen_age ON dpop_proofs_seen(forget_at);

-- Request rate per client address, one token bucket for all gateways;
-- times in milliseconds of the database server's clock, so gateways whose
-- clocks differ count alike.
CREATE TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at_ms BIGINT NOT NULL,
    allowed SMALLINT NOT NULL
);
CREATE INDEX rate_buckets_age ON rate_buckets(at_ms);

-- The verification page's one-time tokens (sign-in forms and consent
-- decisions) that were used, by the SHA-256 of the token, until the token
-- expires: a form shown by one gateway and posted to two works once. The
-- tokens themselves carry their expiry and are signed with the cluster's
-- shared secret, so showing a page writes nothing.
CREATE TABLE page_tokens_used (
    token TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX page_tokens_used_age ON page_tokens_used(expires_at);
