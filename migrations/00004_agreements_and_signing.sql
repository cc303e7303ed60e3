-- +goose Up
-- Organisations: idea-based ones and public bodies. Contact details are
-- private (shown to the organisation's representatives and officials).
CREATE TABLE organisations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    organisation_number text NOT NULL UNIQUE CHECK (organisation_number ~ '^[0-9]{10}$'),
    legal_form          text NOT NULL,
    sector              text NOT NULL CHECK (sector IN ('idea_based', 'public')),
    municipality        text NOT NULL DEFAULT '',
    website             text NOT NULL DEFAULT '',
    description         text NOT NULL DEFAULT '',
    contact_email       text NOT NULL DEFAULT '',
    contact_phone       text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX organisations_name ON organisations (lower(name));

-- An agreement (Överenskommelsen) between a public body and the sector.
CREATE TABLE agreements (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL,
    public_body_id uuid NOT NULL REFERENCES organisations (id),
    created_at     timestamptz NOT NULL
);

-- Each adopted version of an agreement. A revision adopts the next one.
CREATE TABLE agreement_versions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agreement_id       uuid NOT NULL REFERENCES agreements (id),
    number             int NOT NULL,
    title              text NOT NULL,
    body               text NOT NULL DEFAULT '',
    document_url       text NOT NULL DEFAULT '',
    adopted_on         date NOT NULL,
    decision_reference text NOT NULL DEFAULT '',
    principles         text[] NOT NULL,
    valid_from         date NOT NULL,
    revision_due       date NOT NULL,
    scope_note         text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL,
    UNIQUE (agreement_id, number)
);

-- A signing ceremony: approved applications attached to it are signed on
-- its date.
CREATE TABLE ceremonies (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agreement_version_id uuid NOT NULL REFERENCES agreement_versions (id),
    title                text NOT NULL,
    held_on              date NOT NULL,
    place                text NOT NULL DEFAULT '',
    status               text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'held')),
    created_at           timestamptz NOT NULL
);

-- The public list: an organisation's signature on an agreement version.
-- Withdrawn or dropped signatures keep their row with the date they ended.
CREATE TABLE signatories (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agreement_version_id uuid NOT NULL REFERENCES agreement_versions (id),
    organisation_id      uuid NOT NULL REFERENCES organisations (id),
    instance_id          uuid REFERENCES workflow_instances (id),
    ceremony_id          uuid REFERENCES ceremonies (id),
    signed_on            date NOT NULL,
    how                  text NOT NULL CHECK (how IN ('ceremony', 'direct', 'reconfirmed', 'imported')),
    ended_on             date,
    ended_how            text CHECK (ended_how IN ('withdrawn', 'dropped')),
    created_at           timestamptz NOT NULL
);
CREATE UNIQUE INDEX signatories_current ON signatories (agreement_version_id, organisation_id) WHERE ended_on IS NULL;
CREATE INDEX signatories_list ON signatories (agreement_version_id, signed_on, id) WHERE ended_on IS NULL;
CREATE INDEX signatories_organisation ON signatories (organisation_id);

-- One open signing application per organisation and agreement version.
CREATE UNIQUE INDEX signing_one_open_application ON workflow_instances (subject_id, (data ->> 'agreementVersionId'))
    WHERE kind = 'signing' AND NOT final;

-- +goose Down
DROP INDEX signing_one_open_application;
DROP TABLE signatories;
DROP TABLE ceremonies;
DROP TABLE agreement_versions;
DROP TABLE agreements;
DROP TABLE organisations;
