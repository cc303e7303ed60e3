-- +goose Up
-- When a notification is written, its recipient role and scope are resolved
-- to the people who hold that role there at that moment (and, for a notice
-- to an organisation, its contact address): one delivery per recipient, so
-- that who was told what, and when, is on record. Each pending delivery has
-- one River job that sends it; a delivery is sent at most once by the
-- service (state moves pending -> sent or failed exactly once).
ALTER TABLE notifications ADD COLUMN due_on date;

CREATE TABLE notification_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    notification_id bigint NOT NULL REFERENCES notifications (id),
    -- user_id is empty for an organisation's contact address.
    user_id         uuid REFERENCES users (id),
    address         text NOT NULL,
    name            text NOT NULL DEFAULT '',
    -- pending: a job will send it; sent: the SMTP server accepted it;
    -- failed: refused for good (or out of attempts); off: the person turned
    -- reminders off; digest: goes in the person's weekly digest.
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'off', 'digest')),
    attempts        int NOT NULL DEFAULT 0,
    -- last_error is the server's answer (or the connection error) of the
    -- last attempt that failed.
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    failed_at       timestamptz
);
CREATE UNIQUE INDEX notification_deliveries_once ON notification_deliveries (notification_id, lower(address));
CREATE INDEX notification_deliveries_failed ON notification_deliveries (failed_at DESC) WHERE state = 'failed';
CREATE INDEX notification_deliveries_user ON notification_deliveries (user_id, created_at);

-- Who holds a role in a scope, for resolving recipients.
CREATE INDEX casbin_rule_role_scope ON casbin_rule (v1, v2) WHERE ptype = 'g';

-- A person's choices about notifications; no row means the defaults.
CREATE TABLE notification_preferences (
    user_id        uuid PRIMARY KEY REFERENCES users (id),
    reminders      boolean NOT NULL DEFAULT true,
    weekly_digest  boolean NOT NULL DEFAULT false,
    -- calendar_token is the secret in the person's iCalendar feed URL.
    calendar_token text UNIQUE,
    updated_at     timestamptz NOT NULL
);

-- +goose Down
DROP TABLE notification_preferences;
DROP INDEX casbin_rule_role_scope;
DROP TABLE notification_deliveries;
ALTER TABLE notifications DROP COLUMN due_on;
