-- +goose Up
-- Each party keeps its own measured value of an indicator for a year (two
-- parties reporting on a shared activity used to overwrite each other).
-- The values stored before are given to the party of the person who last
-- reported on the activity, or else to the party responsible for it.
ALTER TABLE indicator_values ADD COLUMN party text;
UPDATE indicator_values v SET party = coalesce(
    (SELECT r.party FROM activity_reports r JOIN indicators i ON i.activity_id = r.activity_id
      WHERE i.id = v.indicator_id AND r.reported_by = v.reported_by ORDER BY r.reported_at DESC LIMIT 1),
    (SELECT CASE a.responsible WHEN 'sector' THEN 'sector' ELSE 'region' END
       FROM indicators i JOIN activities a ON a.id = i.activity_id WHERE i.id = v.indicator_id));
ALTER TABLE indicator_values ALTER COLUMN party SET NOT NULL,
    ADD CONSTRAINT indicator_values_party CHECK (party IN ('region', 'sector')),
    DROP CONSTRAINT indicator_values_pkey,
    ADD PRIMARY KEY (indicator_id, year, party);

-- +goose Down
-- Back to one value a year: the parties' sum.
CREATE TABLE indicator_values_summed AS
    SELECT indicator_id, year, sum(value) AS value, (array_agg(reported_by ORDER BY reported_at DESC))[1] AS reported_by,
           max(reported_at) AS reported_at
      FROM indicator_values GROUP BY indicator_id, year;
DELETE FROM indicator_values;
ALTER TABLE indicator_values DROP CONSTRAINT indicator_values_pkey, DROP CONSTRAINT indicator_values_party, DROP COLUMN party;
INSERT INTO indicator_values (indicator_id, year, value, reported_by, reported_at)
    SELECT indicator_id, year, value, reported_by, reported_at FROM indicator_values_summed;
DROP TABLE indicator_values_summed;
ALTER TABLE indicator_values ADD PRIMARY KEY (indicator_id, year);
