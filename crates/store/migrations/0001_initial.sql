-- Version 1: linked accounts, conversations, messages and the outbox.
-- Columns marked "sealed" hold AES-256-GCM ciphertexts (see crypto.rs); ids,
-- times and states are clear so that SQLite can order and index them.
-- `key_version` names the master key version every sealed field of the row is
-- sealed under. A message's direction, author and body are sealed together:
-- one AEAD operation per message keeps opening a conversation cheap.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,   -- random AccountId, also names the keychain entries
    key_check     BLOB NOT NULL,         -- HMAC proving the right account key was supplied
    bank          BLOB NOT NULL,         -- sealed: issuer URL
    display_name  BLOB NOT NULL,         -- sealed
    linked_at     INTEGER NOT NULL,      -- unix ms
    key_version   INTEGER NOT NULL
) STRICT;

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title         BLOB NOT NULL,         -- sealed
    created_at    INTEGER NOT NULL,
    key_version   INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_by_account ON conversations(account_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    content         BLOB NOT NULL,       -- sealed as one field: direction, author and body
    sent_at         INTEGER NOT NULL,
    received_at     INTEGER,
    delivery        INTEGER NOT NULL,
    client_id_hash  BLOB UNIQUE,         -- HMAC of the idempotency key
    bank_id_hash    BLOB UNIQUE,         -- HMAC of the bank's message id
    key_version     INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_latest ON messages(conversation_id, sent_at DESC, id DESC);
CREATE INDEX messages_by_account ON messages(account_id);

-- The outbox is a source of truth: a row leaves only when the bank has
-- acknowledged the message. Nothing deletes it automatically.
CREATE TABLE outbox (
    message_id      INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,       -- random idempotency key, not secret; resent with every attempt
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_by_account ON outbox(account_id, next_attempt_at);
