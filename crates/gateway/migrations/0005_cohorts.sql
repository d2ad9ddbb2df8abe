-- Pilot cohorts: named groups of customers whose pilot flags an admin
-- switches together. A flag switched for a cohort is written into each
-- member's own set (customers.flags) and sent to their devices; a customer
-- who joins later receives the cohort's flags then.
CREATE TABLE cohorts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE cohort_members (
    cohort_id INTEGER NOT NULL REFERENCES cohorts(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    PRIMARY KEY (cohort_id, customer_id)
) WITHOUT ROWID;
CREATE TABLE cohort_flags (
    cohort_id INTEGER NOT NULL REFERENCES cohorts(id),
    flag TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (cohort_id, flag)
) WITHOUT ROWID;
