-- +goose Up
-- policy_version counts the changes to casbin_rule. Every change takes the
-- next number in its own transaction (UPDATE ... RETURNING holds the row
-- until commit), so numbers become visible in commit order without gaps,
-- which is also the order NOTIFY delivers them: an instance that sees
-- number n+2 after n knows it missed one and reloads everything. The one
-- row is created by the first change (no row: version 0), so that a
-- data-only restore does not meet a row the migration made.
CREATE TABLE policy_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL
);

-- rate_limit_hits: one row per counted write of a person (e.g. an
-- organisation registration), kept for the limit's window. Written in the
-- same transaction as the write it counts, so a refused or failed write
-- counts nothing.
CREATE TABLE rate_limit_hits (
    action    text NOT NULL,
    person_id uuid NOT NULL,
    at        timestamptz NOT NULL
);
CREATE INDEX rate_limit_hits_person ON rate_limit_hits (action, person_id, at);

-- +goose Down
DROP TABLE rate_limit_hits;
DROP TABLE policy_version;
