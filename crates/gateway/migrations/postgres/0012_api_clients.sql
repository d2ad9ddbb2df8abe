-- The bank's API clients (bank/clients.rs): named keys with scopes, added
-- and revoked while the gateway runs; only each key's SHA-256 (base64url)
-- is kept. The one key of earlier versions becomes the key named
-- 'initial', with every scope.
CREATE TABLE bank_api_keys (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
INSERT INTO bank_api_keys (name, hash, scopes, created_at)
    SELECT 'initial', value, 'customers alerts chat answers flags keys events', 0
    FROM settings WHERE name = 'bank_api_key_sha256';
DELETE FROM settings WHERE name = 'bank_api_key_sha256';
