-- +goose Up
-- unsubscribe_secret is the secret in a reminder's one-click unsubscribe
-- URL (List-Unsubscribe with List-Unsubscribe-Post, RFC 8058):
-- POST /unsubscribe/<delivery id>/<secret> turns the delivery's person's
-- reminders off without signing in. It is read only with its delivery's
-- id, so it needs no index of its own.
ALTER TABLE notification_deliveries ADD COLUMN unsubscribe_secret uuid NOT NULL DEFAULT gen_random_uuid();

-- +goose Down
ALTER TABLE notification_deliveries DROP COLUMN unsubscribe_secret;
