-- +goose Up
-- public_generation counts the committed changes to the data that answers
-- to anonymous requests can read; the public-read cache
-- (internal/publiccache) keeps an answer only while the number it was
-- computed under is the newest. Every table of the service's own data has a
-- statement trigger (public_data_changed) that marks its transaction; at
-- commit a deferred trigger takes the next number once per transaction
-- and NOTIFYs it on samverkan_public. The number is taken at commit, not at
-- the first write, so writers hold the counter's row lock only for the
-- commit itself; numbers become visible in commit order, so an instance
-- that has read number n has seen every change committed up to n.
--
-- Not counted (never read by an answer): the goose and River bookkeeping
-- (goose_db_version, river_*), idempotency_keys, rate_limit_hits,
-- web_sessions, policy_version, and the two tables below. casbin_rule is
-- counted: the policy decides what the anonymous principal may see.
CREATE TABLE public_generation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL
);
INSERT INTO public_generation (singleton, seq) VALUES (true, 0);

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
    UPDATE public_generation SET seq = seq + 1 RETURNING seq INTO n;
    PERFORM pg_notify('samverkan_public', n::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

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
                                     'policy_version', 'public_generation', 'public_generation_pending')
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
DROP TABLE public_generation;
DROP FUNCTION public_generation_bump();
DROP FUNCTION public_data_changed();
