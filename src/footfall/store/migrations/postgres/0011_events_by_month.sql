-- [T8] Events partitioned by month of their time (UTC), declaratively (docs/storage.md,
-- "Partitions"): retention drops a whole month's partition instead of deleting its rows one by one.
-- A default partition takes any event no month partition holds yet (history older than the
-- first, a clock far ahead), so nothing is ever refused for want of a partition; creating a
-- month moves its rows out of the default partition first. The background job creates the
-- coming months ahead (retention.py, under its lease). SQLite is unchanged.

-- footfall_event_month(ms): the partition of the month holding `ms` exists (created if missing,
-- with the rows the default partition held for it); answers its name.
CREATE FUNCTION footfall_event_month(ms BIGINT) RETURNS TEXT AS $$
DECLARE
  month_start TIMESTAMP := date_trunc('month', to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC');
  lo BIGINT := (extract(epoch FROM month_start) * 1000)::BIGINT;
  hi BIGINT := (extract(epoch FROM month_start + INTERVAL '1 month') * 1000)::BIGINT;
  part TEXT := 'events_' || to_char(month_start, 'YYYY_MM');
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN part;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXECUTE format(
    'WITH moved AS (DELETE FROM events_default WHERE ts >= %s AND ts < %s RETURNING *) '
    'INSERT INTO %I SELECT * FROM moved', lo, hi, part);
  EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', part, lo, hi);
  RETURN part;
END
$$ LANGUAGE plpgsql;

ALTER TABLE events RENAME TO events_unpartitioned;
ALTER INDEX events_pkey RENAME TO events_unpartitioned_pkey;
ALTER INDEX events_visitor_ts RENAME TO events_unpartitioned_visitor_ts;
ALTER INDEX events_site_ts RENAME TO events_unpartitioned_site_ts;
ALTER INDEX events_goals RENAME TO events_unpartitioned_goals;

-- the same columns, defaults (the id sequence) and NOT NULLs; a partitioned table's keys hold its
-- partition key
CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (ts);
ALTER TABLE events ADD PRIMARY KEY (id, ts);
CREATE INDEX events_visitor_ts ON events (visitor_num, ts);
CREATE INDEX events_site_ts ON events (site_num, ts);
CREATE INDEX events_goals ON events (site_num, ts) WHERE type = 'custom';
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- the months the events already span, and the current one (empty partitions cost nothing)
SELECT footfall_event_month(m) FROM (
  SELECT DISTINCT ts - ts % 86400000 AS m FROM events_unpartitioned
  UNION SELECT (extract(epoch FROM now()) * 1000)::BIGINT
) AS days;
INSERT INTO events SELECT * FROM events_unpartitioned;
ALTER SEQUENCE events_id_seq OWNED BY NONE;
DROP TABLE events_unpartitioned;
ALTER SEQUENCE events_id_seq OWNED BY events.id;
