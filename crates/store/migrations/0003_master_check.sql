-- Version 3: a check value per master key version, so that opening the store
-- with the wrong master key (a reset keychain, another device's key) is a
-- clear error instead of every row reading as tampered.

CREATE TABLE master_keys (
    version      INTEGER PRIMARY KEY,
    check_value  BLOB NOT NULL          -- HMAC-SHA256(master key, "strongroom/store/master-check")
) STRICT;
