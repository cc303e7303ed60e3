-- +goose Up
-- The history functions name their tables without a schema; pin the
-- search path they run with to the schema they were created in, so that a
-- restore (which empties search_path) or a caller's own search_path cannot
-- make them resolve other tables.
ALTER FUNCTION history_event_hash(history_events) SET search_path FROM CURRENT;
ALTER FUNCTION history_events_chain() SET search_path FROM CURRENT;
ALTER FUNCTION history_events_append_only() SET search_path FROM CURRENT;

-- +goose Down
ALTER FUNCTION history_event_hash(history_events) RESET search_path;
ALTER FUNCTION history_events_chain() RESET search_path;
ALTER FUNCTION history_events_append_only() RESET search_path;
