-- The bank's own authorization server (protocol version 2): a customer may
-- be known to the bank's identity provider by a subject identifier of its
-- own (the access tokens' `sub`), mapped here to the customer's row. A
-- customer made for such a bank has no gateway password: its hash is '!',
-- which no password verifies.
ALTER TABLE customers ADD COLUMN idp_subject TEXT;
-- When the bank's identity provider last revoked the customer's sessions
-- (seconds): a token of its server issued before then is refused, even for
-- a device key the gateway has not seen yet.
ALTER TABLE customers ADD COLUMN idp_sessions_revoked_at BIGINT;
CREATE UNIQUE INDEX customers_idp_subject ON customers(idp_subject) WHERE idp_subject IS NOT NULL;

-- A device linked through the bank's authorization server is first seen at
-- its first request: the issuer of its tokens and its DPoP key (`jkt`) name
-- it, once. Its refresh token lives at that server, so `refresh_hash` holds
-- random bytes that match no token here.
ALTER TABLE devices ADD COLUMN via_issuer TEXT;
CREATE UNIQUE INDEX devices_via_issuer_jkt ON devices(via_issuer, jkt) WHERE via_issuer IS NOT NULL;

-- Security Event Tokens received from the bank's signal transmitter (SSF
-- 1.0, RFC 8935): the hash of each issuer and jti, so that a replayed SET
-- acts once. Kept two days; a SET older than one day is refused anyway.
CREATE TABLE received_sets (
    hash BYTEA PRIMARY KEY,
    issuer TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX received_sets_age ON received_sets(received_at);

-- Staff who sign in through the bank's identity provider: their `sub`
-- there. Such an account has no password here ('!').
ALTER TABLE staff ADD COLUMN idp_subject TEXT;
CREATE UNIQUE INDEX staff_idp_subject ON staff(idp_subject) WHERE idp_subject IS NOT NULL;
