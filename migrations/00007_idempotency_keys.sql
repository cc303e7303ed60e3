-- +goose Up
-- Idempotency-Key: a retried request with the same key (per person) and
-- the same body gets the first response; a different body is refused.
CREATE TABLE idempotency_keys (
    principal       text NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash    bytea NOT NULL,
    status          text NOT NULL CHECK (status IN ('in_progress', 'done')),
    response_status int,
    response_body   bytea,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
