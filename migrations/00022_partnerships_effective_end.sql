-- +goose Up
-- The expiring list (partnershipsExpiring) pages the agreed partnerships by
-- their effective end (the end date, or the day a termination takes effect
-- when sooner) and id: this index answers a page by walking it in order and
-- stopping after the page, instead of reading and sorting every agreed
-- partnership in the period.
CREATE INDEX partnerships_effective_end ON partnerships ((least(end_date, terminated_on)), id) WHERE activated_at IS NOT NULL;

-- +goose Down
DROP INDEX partnerships_effective_end;
