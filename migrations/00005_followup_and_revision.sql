-- +goose Up
-- The action plan (handlingsplan) of an agreement version for a year, with
-- its activities (aktivitetsplan) and their indicators.
CREATE TABLE action_plans (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agreement_version_id uuid NOT NULL REFERENCES agreement_versions (id),
    year                 int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    adopted_on           date NOT NULL,
    instance_id          uuid REFERENCES workflow_instances (id),
    created_at           timestamptz NOT NULL,
    UNIQUE (agreement_version_id, year)
);

CREATE TABLE activities (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    action_plan_id uuid NOT NULL REFERENCES action_plans (id),
    position       int NOT NULL,
    title          text NOT NULL,
    description    text NOT NULL DEFAULT '',
    quarters       int[] NOT NULL,
    responsible    text NOT NULL CHECK (responsible IN ('region', 'sector', 'both')),
    principles     text[] NOT NULL,
    status         text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'ongoing', 'done', 'cancelled')),
    UNIQUE (action_plan_id, position)
);

CREATE TABLE indicators (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    activity_id uuid NOT NULL REFERENCES activities (id),
    name        text NOT NULL,
    unit        text NOT NULL DEFAULT '',
    target      numeric(14, 2)
);

-- Measured values per year; a later report of the same year replaces it.
CREATE TABLE indicator_values (
    indicator_id uuid NOT NULL REFERENCES indicators (id),
    year         int NOT NULL,
    value        numeric(14, 2) NOT NULL,
    reported_by  uuid REFERENCES users (id),
    reported_at  timestamptz NOT NULL,
    PRIMARY KEY (indicator_id, year)
);

-- Each party's report on an activity in a follow-up.
CREATE TABLE activity_reports (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instance_id uuid NOT NULL REFERENCES workflow_instances (id),
    activity_id uuid NOT NULL REFERENCES activities (id),
    party       text NOT NULL CHECK (party IN ('region', 'sector')),
    outcome     text NOT NULL,
    comments    text NOT NULL DEFAULT '',
    reported_by uuid NOT NULL REFERENCES users (id),
    reported_at timestamptz NOT NULL,
    UNIQUE (instance_id, activity_id, party)
);

-- The annual report (årsberättelse), public once published.
CREATE TABLE annual_reports (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agreement_version_id uuid NOT NULL REFERENCES agreement_versions (id),
    year                 int NOT NULL,
    instance_id          uuid NOT NULL REFERENCES workflow_instances (id),
    title                text NOT NULL,
    body                 text NOT NULL,
    published_on         date NOT NULL,
    UNIQUE (agreement_version_id, year)
);

-- One follow-up per agreement version and year, however it is opened.
CREATE UNIQUE INDEX followup_once ON workflow_instances (subject_id, (data ->> 'year'))
    WHERE kind = 'annual_follow_up';

-- One revision per agreement version.
CREATE UNIQUE INDEX revision_once ON workflow_instances (subject_id) WHERE kind = 'revision';

-- Drafts of a revised agreement: versioned texts.
CREATE TABLE revision_drafts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instance_id uuid NOT NULL REFERENCES workflow_instances (id),
    version     int NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    UNIQUE (instance_id, version)
);

-- Organisations the council invites to the consultation round besides the
-- signatories.
CREATE TABLE consultation_invitees (
    instance_id     uuid NOT NULL REFERENCES workflow_instances (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (instance_id, organisation_id)
);

-- Comments of the consultation round (synpunktsrunda) and the council's
-- response to each.
CREATE TABLE consultation_comments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instance_id     uuid NOT NULL REFERENCES workflow_instances (id),
    draft_id        uuid NOT NULL REFERENCES revision_drafts (id),
    section         text NOT NULL,
    body            text NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    author_id       uuid NOT NULL REFERENCES users (id),
    submitted_at    timestamptz NOT NULL,
    response        text,
    responded_by    uuid REFERENCES users (id),
    responded_at    timestamptz
);
CREATE INDEX consultation_comments_instance ON consultation_comments (instance_id, submitted_at);

-- +goose Down
DROP TABLE consultation_comments;
DROP TABLE consultation_invitees;
DROP TABLE revision_drafts;
DROP INDEX revision_once;
DROP INDEX followup_once;
DROP TABLE annual_reports;
DROP TABLE activity_reports;
DROP TABLE indicator_values;
DROP TABLE indicators;
DROP TABLE activities;
DROP TABLE action_plans;
