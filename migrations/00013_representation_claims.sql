-- +goose Up
-- A person's claim to represent an organisation: a request that an official
-- (or an admin) confirms before the person may act on the organisation's
-- behalf. Registering an organisation grants nothing by itself.
CREATE TABLE representation_claims (
    id              uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    user_id         uuid NOT NULL REFERENCES users (id),
    status          text NOT NULL CHECK (status IN ('requested', 'confirmed', 'declined')),
    requested_at    timestamptz NOT NULL,
    decided_by      uuid REFERENCES users (id),
    decided_at      timestamptz,
    reason          text NOT NULL DEFAULT ''
);
-- One open request per person and organisation.
CREATE UNIQUE INDEX representation_claims_open ON representation_claims (organisation_id, user_id) WHERE status = 'requested';
CREATE INDEX representation_claims_status ON representation_claims (status, requested_at);
CREATE INDEX representation_claims_user ON representation_claims (user_id);

-- +goose Down
DROP TABLE representation_claims;
