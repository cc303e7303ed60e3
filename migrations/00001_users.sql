-- +goose Up
-- People who have signed in. They are created on first sight from their
-- OpenID Connect token; (issuer, subject) identifies them.
CREATE TABLE users (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer     text NOT NULL,
    subject    text NOT NULL,
    name       text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);

-- +goose Down
DROP TABLE users;
