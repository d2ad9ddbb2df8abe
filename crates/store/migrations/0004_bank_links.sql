-- Version 4: how each account is linked to its bank, and where its delivery
-- stream stands. The endpoints, bank name, chat conversation and pilot flags
-- are sealed as one field; the acknowledged sequence number is a counter with
-- nothing to hide, kept in clear so it can be advanced without a re-seal.

CREATE TABLE bank_links (
    id           INTEGER PRIMARY KEY,   -- the account id: one link per account
    account_id   INTEGER NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
    details      BLOB NOT NULL,         -- sealed JSON: issuer, endpoints, bank name, conversation, flags
    acked_seq    INTEGER NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
    key_version  INTEGER NOT NULL
) STRICT;
