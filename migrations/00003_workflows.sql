-- +goose Up
-- A running workflow (signing application, annual follow-up, revision, IOP).
-- It stays on the definition version it started with. "round" counts the
-- states it has entered: approvals and timers belong to one round, so that
-- leaving a state and coming back starts afresh. "version" is for
-- optimistic concurrency.
CREATE TABLE workflow_instances (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind               text NOT NULL,
    definition_version int NOT NULL,
    subject_type       text NOT NULL,
    subject_id         uuid NOT NULL,
    scopes             text[] NOT NULL,
    state              text NOT NULL,
    state_entered_at   timestamptz NOT NULL,
    round              int NOT NULL DEFAULT 1,
    data               jsonb NOT NULL DEFAULT '{}',
    version            int NOT NULL DEFAULT 1,
    final              boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX workflow_instances_kind_state ON workflow_instances (kind, state);
CREATE INDEX workflow_instances_subject ON workflow_instances (subject_type, subject_id);

-- Approvals towards a quorum. A withdrawn approval keeps its row.
CREATE TABLE workflow_approvals (
    id           bigserial PRIMARY KEY,
    instance_id  uuid NOT NULL REFERENCES workflow_instances (id),
    round        int NOT NULL,
    transition   text NOT NULL,
    requirement  text NOT NULL,
    approver_id  uuid NOT NULL REFERENCES users (id),
    approved_at  timestamptz NOT NULL,
    withdrawn_at timestamptz
);
CREATE UNIQUE INDEX workflow_approvals_once ON workflow_approvals (instance_id, round, transition, approver_id)
    WHERE withdrawn_at IS NULL;

-- What is due: each timer is one River job scheduled at fire_at. A timer
-- whose deadline was changed is 'replaced' and its job does nothing.
CREATE TABLE workflow_timers (
    id          bigserial PRIMARY KEY,
    instance_id uuid NOT NULL REFERENCES workflow_instances (id),
    round       int NOT NULL,
    name        text NOT NULL,
    fire_at     timestamptz NOT NULL,
    transition  text NOT NULL DEFAULT '',
    reminder    text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'skipped', 'replaced')),
    created_at  timestamptz NOT NULL,
    done_at     timestamptz
);
CREATE INDEX workflow_timers_instance ON workflow_timers (instance_id, round) WHERE status = 'pending';

-- The append-only history. Events form hash chains, one per stream (a
-- workflow instance, or "roles" for role changes): each event's hash covers
-- its content and the previous event's hash in the same stream. Chains per
-- stream (rather than one global chain) let transitions on different
-- instances commit in parallel; the instance row lock already orders events
-- within a stream.
CREATE TABLE history_events (
    id            bigserial PRIMARY KEY,
    stream        text NOT NULL,
    seq           int NOT NULL,
    occurred_at   timestamptz NOT NULL,
    actor_id      uuid REFERENCES users (id),
    kind          text NOT NULL,
    instance_id   uuid REFERENCES workflow_instances (id),
    workflow_kind text NOT NULL DEFAULT '',
    transition    text NOT NULL DEFAULT '',
    from_state    text NOT NULL DEFAULT '',
    to_state      text NOT NULL DEFAULT '',
    input         jsonb NOT NULL DEFAULT '{}',
    reason        text NOT NULL DEFAULT '',
    public        boolean NOT NULL DEFAULT false,
    prev_hash     bytea,
    hash          bytea NOT NULL,
    UNIQUE (stream, seq)
);
CREATE INDEX history_events_instance ON history_events (instance_id, seq) WHERE instance_id IS NOT NULL;

-- The canonical text of an event, hashed with SHA-256. Every field is
-- length-prefixed so that no two events share a text. internal/audit
-- recomputes it independently of the database.
-- +goose StatementBegin
CREATE FUNCTION history_event_hash(e history_events) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(
        'samverkan-history-v1' ||
        (SELECT string_agg(octet_length(f)::text || ':' || f, '' ORDER BY ord)
           FROM unnest(ARRAY[
               e.stream,
               e.seq::text,
               to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               coalesce(e.actor_id::text, ''),
               e.kind,
               coalesce(e.instance_id::text, ''),
               e.workflow_kind,
               e.transition,
               e.from_state,
               e.to_state,
               e.input::text,
               e.reason,
               e.public::text,
               coalesce(encode(e.prev_hash, 'hex'), '')
           ]) WITH ORDINALITY AS t(f, ord)),
        'UTF8'))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION history_events_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_seq  int;
    last_hash bytea;
BEGIN
    -- Serialises appends to one stream until commit.
    PERFORM pg_advisory_xact_lock(hashtextextended('history:' || NEW.stream, 0));
    SELECT seq, hash INTO last_seq, last_hash
      FROM history_events WHERE stream = NEW.stream ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := last_hash;
    NEW.hash := history_event_hash(NEW);
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER history_events_chain BEFORE INSERT ON history_events
    FOR EACH ROW EXECUTE FUNCTION history_events_chain();

-- +goose StatementBegin
CREATE FUNCTION history_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER history_events_no_update BEFORE UPDATE OR DELETE ON history_events
    FOR EACH ROW EXECUTE FUNCTION history_events_append_only();
CREATE TRIGGER history_events_no_truncate BEFORE TRUNCATE ON history_events
    FOR EACH STATEMENT EXECUTE FUNCTION history_events_append_only();

-- The outbox for reminders and notices; delivery channels read it.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    dedupe_key      text UNIQUE,
    instance_id     uuid REFERENCES workflow_instances (id),
    organisation_id uuid,
    recipient_role  text NOT NULL DEFAULT '',
    kind            text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz
);

-- +goose Down
DROP TABLE notifications;
DROP FUNCTION history_event_hash(history_events);
DROP TABLE history_events;
DROP FUNCTION history_events_append_only();
DROP FUNCTION history_events_chain();
DROP TABLE workflow_timers;
DROP TABLE workflow_approvals;
DROP TABLE workflow_instances;
