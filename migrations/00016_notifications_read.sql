-- +goose Up
-- When the person a notification was delivered to read it in the service.
ALTER TABLE notification_deliveries ADD COLUMN read_at timestamptz;
CREATE INDEX notification_deliveries_inbox ON notification_deliveries (user_id, created_at DESC) WHERE user_id IS NOT NULL;

-- +goose Down
DROP INDEX notification_deliveries_inbox;
ALTER TABLE notification_deliveries DROP COLUMN read_at;
