-- +goose Up
-- An in-progress key is held by one request (owner) for a lease: a retry
-- after the lease may take over a key whose holder died (kill -9) before its
-- mutation committed. The mutation's transaction marks the key 'committed'
-- (only while its request still owns it), so a committed effect is never
-- redone and an uncommitted one never blocks a retry for long.
ALTER TABLE idempotency_keys
    ADD COLUMN owner uuid,
    ADD COLUMN lease_until timestamptz,
    DROP CONSTRAINT idempotency_keys_status_check,
    ADD CONSTRAINT idempotency_keys_status_check CHECK (status IN ('in_progress', 'committed', 'done'));
UPDATE idempotency_keys SET lease_until = created_at WHERE status = 'in_progress';

-- +goose Down
DELETE FROM idempotency_keys WHERE status = 'committed';
ALTER TABLE idempotency_keys
    DROP COLUMN owner,
    DROP COLUMN lease_until,
    DROP CONSTRAINT idempotency_keys_status_check,
    ADD CONSTRAINT idempotency_keys_status_check CHECK (status IN ('in_progress', 'done'));
