-- +goose Up
-- IOP, idéburet offentligt partnerskap: an agreement between one public body
-- and one or more idea-based organisations to reach a public-benefit goal
-- when neither a grant nor procurement fits. Its workflow instance
-- (kind 'partnership', subject the partnership) carries the state; these
-- tables carry the record. Money and amounts are numeric(14, 2) with a sane
-- upper bound (ten billion) so that a typo cannot overflow a sum.
--
-- Openness: that an IOP exists, its parties, purpose, duration and total
-- public contribution are public once it is agreed (activated_at); the rest
-- (drafts, notes, documents, reports) is for the parties and officials.

-- The record. instance_id is set in the transaction that proposes it, right
-- after the workflow instance is started.
CREATE TABLE partnerships (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instance_id              uuid UNIQUE REFERENCES workflow_instances (id),
    title                    text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    purpose                  text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 5000),
    background               text NOT NULL DEFAULT '',
    preconditions            text NOT NULL DEFAULT '',
    -- The value base: the agreement (Överenskommelsen) version it rests on.
    value_base_version_id    uuid REFERENCES agreement_versions (id),
    own_initiative           boolean NOT NULL,
    initiated_by             uuid REFERENCES users (id),
    steering_group           text NOT NULL DEFAULT '',
    working_group            text NOT NULL DEFAULT '',
    responsibilities         text NOT NULL DEFAULT '',
    goals                    text NOT NULL DEFAULT '',
    target_group             text NOT NULL DEFAULT '',
    followup_indicators      text NOT NULL DEFAULT '',
    report_due_month         int NOT NULL CHECK (report_due_month BETWEEN 1 AND 12),
    report_due_day           int NOT NULL CHECK (report_due_day BETWEEN 1 AND 31),
    budget                   numeric(14, 2) NOT NULL DEFAULT 0 CHECK (budget BETWEEN 0 AND 10000000000),
    expected_gains           text NOT NULL DEFAULT '',
    start_date               date NOT NULL,
    end_date                 date NOT NULL,
    notice_months            int NOT NULL CHECK (notice_months BETWEEN 0 AND 36),
    change_handling          text NOT NULL DEFAULT '',
    renegotiation            text NOT NULL DEFAULT '',
    rescission               text NOT NULL DEFAULT '',
    dispute_resolution       text NOT NULL DEFAULT '',
    -- Set when both parties have approved.
    activated_at             timestamptz,
    decision_draft_version   int,
    -- Early termination by one party: when it was given notice, by which
    -- party, why, and the date from which it no longer applies.
    termination_requested_on date,
    terminated_by            uuid REFERENCES organisations (id),
    termination_reason       text NOT NULL DEFAULT '',
    terminated_on            date,
    -- When the partnership ended or was terminated.
    ended_at                 timestamptz,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    CHECK (end_date > start_date)
);
-- The annual fan-out walks the partnerships that have been agreed, by id.
CREATE INDEX partnerships_activated ON partnerships (id) WHERE activated_at IS NOT NULL;
CREATE INDEX partnerships_end_date ON partnerships (end_date) WHERE activated_at IS NOT NULL;

-- A party's role is its organisation's sector: the foreign key to
-- (id, sector) makes a party with the wrong sector impossible.
CREATE UNIQUE INDEX organisations_id_sector ON organisations (id, sector);

CREATE TABLE partnership_parties (
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    organisation_id uuid NOT NULL,
    role            text NOT NULL CHECK (role IN ('public', 'idea_based')),
    PRIMARY KEY (partnership_id, organisation_id),
    FOREIGN KEY (organisation_id, role) REFERENCES organisations (id, sector)
);
-- Exactly one public body (at least one is checked by the service).
CREATE UNIQUE INDEX partnership_one_public_party ON partnership_parties (partnership_id) WHERE role = 'public';
CREATE INDEX partnership_parties_organisation ON partnership_parties (organisation_id);

-- What each party contributes per year.
CREATE TABLE partnership_contributions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id  uuid NOT NULL,
    organisation_id uuid NOT NULL,
    year            int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    kind            text NOT NULL CHECK (kind IN ('money', 'staff_hours', 'premises', 'volunteer_hours', 'other')),
    amount          numeric(14, 2) NOT NULL CHECK (amount BETWEEN 0 AND 10000000000),
    unit            text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    FOREIGN KEY (partnership_id, organisation_id) REFERENCES partnership_parties (partnership_id, organisation_id)
);
CREATE INDEX partnership_contributions_partnership ON partnership_contributions (partnership_id, organisation_id, year);

-- Each period the partnership is in force: the first from the decision,
-- one more for every renewal. partnerships.end_date is the last period's.
CREATE TABLE partnership_periods (
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    number         int NOT NULL CHECK (number >= 1),
    start_date     date NOT NULL,
    end_date       date NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (partnership_id, number),
    CHECK (end_date > start_date)
);

-- The official's assessment of whether an IOP fits (or a grant or
-- procurement instead).
CREATE TABLE partnership_assessments (
    partnership_id          uuid PRIMARY KEY REFERENCES partnerships (id),
    economic_activity       boolean NOT NULL,
    economic_activity_note  text NOT NULL,
    market_or_competition   boolean NOT NULL,
    market_note             text NOT NULL,
    possible_state_aid      boolean NOT NULL,
    state_aid_note          text NOT NULL,
    idea_based_organisation boolean NOT NULL,
    idea_based_note         text NOT NULL,
    suitable                boolean NOT NULL,
    recommendation          text NOT NULL CHECK (recommendation IN ('iop', 'grant', 'procurement')),
    assessed_by             uuid REFERENCES users (id),
    assessed_at             timestamptz NOT NULL
);

-- Attached documents: a link or the file itself (at most 5 MB).
CREATE TABLE partnership_documents (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    kind           text NOT NULL CHECK (kind IN ('initiative', 'organisation_description', 'annual_accounts', 'other')),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    url            text NOT NULL DEFAULT '',
    content        bytea CHECK (octet_length(content) <= 5242880),
    media_type     text NOT NULL DEFAULT '',
    uploaded_by    uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    CHECK ((url <> '') <> (content IS NOT NULL))
);
CREATE INDEX partnership_documents_partnership ON partnership_documents (partnership_id, created_at);

-- Drafts of the agreement text, versioned, and the parties' comments.
CREATE TABLE partnership_drafts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    version        int NOT NULL,
    body           text NOT NULL,
    created_by     uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    UNIQUE (partnership_id, version)
);

CREATE TABLE partnership_draft_comments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    draft_id        uuid NOT NULL REFERENCES partnership_drafts (id),
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    body            text NOT NULL,
    -- The party the author spoke for; NULL for the public body's side.
    organisation_id uuid REFERENCES organisations (id),
    author_id       uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL
);
CREATE INDEX partnership_draft_comments_draft ON partnership_draft_comments (draft_id, created_at);

-- Internal notes (private).
CREATE TABLE partnership_notes (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    body           text NOT NULL,
    author_id      uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL
);
CREATE INDEX partnership_notes_partnership ON partnership_notes (partnership_id, created_at);

-- Amendments during the active period, versioned; one open at a time.
CREATE TABLE partnership_amendments (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    version        int NOT NULL,
    description    text NOT NULL,
    changes        jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'adopted', 'rejected', 'lapsed')),
    proposed_by    uuid REFERENCES users (id),
    proposed_at    timestamptz NOT NULL,
    decided_at     timestamptz,
    UNIQUE (partnership_id, version)
);
CREATE UNIQUE INDEX partnership_one_open_amendment ON partnership_amendments (partnership_id) WHERE status = 'proposed';

-- Yearly follow-up reports: one per partnership and year however it is
-- opened (a job per partnership-year or the annual fan-out, both INSERT ...
-- ON CONFLICT DO NOTHING). Overdue is computed by queries: due_on < today
-- AND submitted_at IS NULL. The natural key is the only unique index, so
-- that opening 100,000 reports stays cheap.
CREATE TABLE partnership_reports (
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    year           int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    due_on         date NOT NULL,
    opened_at      timestamptz NOT NULL,
    submitted_at   timestamptz,
    submitted_by   uuid REFERENCES users (id),
    body           text NOT NULL DEFAULT '',
    PRIMARY KEY (partnership_id, year)
);
-- Reminders and overdue notices look for unsubmitted reports by due date.
CREATE INDEX partnership_reports_unsubmitted ON partnership_reports (due_on, partnership_id, year) WHERE submitted_at IS NULL;

-- +goose Down
DROP TABLE partnership_reports;
DROP TABLE partnership_amendments;
DROP TABLE partnership_notes;
DROP TABLE partnership_draft_comments;
DROP TABLE partnership_drafts;
DROP TABLE partnership_documents;
DROP TABLE partnership_assessments;
DROP TABLE partnership_periods;
DROP TABLE partnership_contributions;
DROP TABLE partnership_parties;
DROP INDEX organisations_id_sector;
DROP TABLE partnerships;
