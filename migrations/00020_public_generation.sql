-- +goose Up
-- public_generation counts the committed changes to the data that answers
-- to anonymous requests can read; the public-read cache
-- (internal/publiccache) keeps an answer only while the number it was
-- computed under is the newest. Every table of the service's own data has a
-- statement trigger (public_data_changed) that marks its transaction; at
-- commit a deferred trigger takes the next number once per transaction,
-- holding an exclusive advisory lock until the commit is done, and NOTIFYs
-- it on samverkan_public. public_generation_now() reads the number under
-- the shared lock, so it never returns the number of a transaction whose
-- changes are not yet visible: an instance that has read n has seen every
-- change committed up to n. Writers hold the lock only while they commit.
-- A sequence, not a row, so that a data-only restore sets it (setval)
-- instead of meeting a row the migration made.
--
-- Not counted (never read by an answer): the goose and River bookkeeping
-- (goose_db_version, river_*), idempotency_keys, rate_limit_hits,
-- web_sessions, policy_version, and the table below. casbin_rule is
-- counted: the policy decides what the anonymous principal may see.
CREATE SEQUENCE public_generation;

-- One row per transaction that changed counted data, removed again by the
-- deferred trigger before the transaction commits.
CREATE TABLE public_generation_pending (
    txid xid8 PRIMARY KEY
);

-- +goose StatementBegin
CREATE FUNCTION public_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('samverkan.public_changed', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('samverkan.public_changed', 'on', true);
        INSERT INTO public_generation_pending (txid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION public_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM public_generation_pending WHERE txid = NEW.txid;
    PERFORM pg_advisory_xact_lock(7370020020);
    n := nextval('public_generation');
    PERFORM pg_notify('samverkan_public', n::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION public_generation_now() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7370020020);
    RETURN (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public_generation);
END
$$;
-- +goose StatementEnd

ALTER FUNCTION public_generation_now() SET search_path FROM CURRENT;
ALTER FUNCTION public_data_changed() SET search_path FROM CURRENT;
ALTER FUNCTION public_generation_bump() SET search_path FROM CURRENT;

CREATE CONSTRAINT TRIGGER public_generation_bump AFTER INSERT ON public_generation_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public_generation_bump();

-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema()
               AND tablename NOT LIKE 'river%'
               AND tablename NOT IN ('goose_db_version', 'idempotency_keys', 'rate_limit_hits', 'web_sessions',
                                     'policy_version', 'public_generation_pending')
    LOOP
        EXECUTE format('CREATE TRIGGER public_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION public_data_changed()', t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
             WHERE g.tgname = 'public_data_changed' AND c.relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP TRIGGER public_data_changed ON %I', t);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP TABLE public_generation_pending;
DROP SEQUENCE public_generation;
DROP FUNCTION public_generation_now();
DROP FUNCTION public_generation_bump();
DROP FUNCTION public_data_changed();
