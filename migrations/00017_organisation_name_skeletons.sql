-- +goose Up
-- The skeleton of an organisation's name (internal/registry Skeleton): two
-- names that look alike share it, so that a new name confusable with an
-- existing organisation's is refused with one indexed lookup. Rows stored
-- before get the same skeleton computed here (the service computes it in
-- Go whenever it stores a name); lower() follows the database's collation.
ALTER TABLE organisations ADD COLUMN name_skeleton text NOT NULL DEFAULT '';
UPDATE organisations SET name_skeleton = replace(replace(translate(
    regexp_replace(lower(translate(normalize(btrim(name), NFKC), 'ΗΝ', 'hn')), '\s+', ' ', 'g'),
    'авекмнорстухіјѕԁһӏԛԝёїӧӓүьгплαβεηικμνορτυχζωϲϳıi1|ǀɩ0ø‐‑‒–—―−',
    'abekmhopctyxljsdhlqwëïöäybrnnabenlkuvoptuxzwcjlllllloö-------'), 'rn', 'm'), 'vv', 'w');
CREATE INDEX organisations_name_skeleton ON organisations (name_skeleton);

-- +goose Down
DROP INDEX organisations_name_skeleton;
ALTER TABLE organisations DROP COLUMN name_skeleton;
