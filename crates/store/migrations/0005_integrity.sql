-- Version 5: tamper evidence for whole rows and for the history as a whole.
--
-- `mac` on every table is an HMAC-SHA256 over every column of the row (clear
-- and sealed, in a fixed order), keyed per account: a changed time, delivery
-- state, sequence number or answer, or a sealed field put back to an older
-- ciphertext of the same row, fails it. Rows written before this version get
-- theirs when their account is first unlocked (trust on first use; see
-- docs/security.md).
--
-- `integrity_scopes` keeps, per account and scope (a conversation's messages,
-- or one other table), how many rows there are and a keyed digest of their
-- MACs; `integrity_heads` keeps a per-account write counter and a MAC over the
-- scopes, committed in the same transaction as every write. A deleted, added
-- or rolled-back row no longer adds up; the head, also kept in the keychain,
-- shows a whole file put back to an older copy.

ALTER TABLE accounts ADD COLUMN mac BLOB;
ALTER TABLE conversations ADD COLUMN mac BLOB;
ALTER TABLE messages ADD COLUMN mac BLOB;
ALTER TABLE alerts ADD COLUMN mac BLOB;
ALTER TABLE outbox ADD COLUMN mac BLOB;
ALTER TABLE bank_links ADD COLUMN mac BLOB;

CREATE TABLE integrity_scopes (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scope       INTEGER NOT NULL,      -- a conversation id, or a negative table code
    rows        INTEGER NOT NULL,
    digest      BLOB NOT NULL,         -- XOR of HMAC(set key, table, row, row MAC)
    PRIMARY KEY (account_id, scope)
) STRICT;

CREATE TABLE integrity_heads (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    counter        INTEGER NOT NULL,   -- write transactions since the account was linked (or migrated)
    alarms         INTEGER NOT NULL,   -- damage found at some unlock, kept until the account is erased
    anchored_from  INTEGER NOT NULL,   -- the keychain's counter when a rollback was found, else -1
    mac            BLOB NOT NULL       -- HMAC over the account, counter, alarms and every scope
) STRICT;
