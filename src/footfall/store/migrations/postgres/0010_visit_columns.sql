-- [T8] Filtered analytics from the rollups (docs/storage.md): each folded slot now also keeps its
-- visits as columns (rollup_visits.py: one record per visit, one code per visit for each field a
-- filter or breakdown reads, each visit's pages and goals), in rollup_columns under new names.
-- The slots folded before have none, so the rollups are folded again from the visits (rollups.py
-- starts over from the first slot; until then reads compute the unfolded slots from the rows).
DELETE FROM rollup_columns;
DELETE FROM rollup_codes;
DELETE FROM rollups;
DELETE FROM rollup_state;

-- The columns are read whole by every analytics request: compressed with lz4 (PostgreSQL 14 and
-- later, when built with it) they read in about two thirds of pglz's time (visit columns of a month,
-- 18 MB: 60 ms with pglz, 37 ms with lz4). Where lz4 is missing, pglz stays.
DO $$
BEGIN
  ALTER TABLE rollup_columns ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'rollup_columns.data keeps the default compression: %', SQLERRM;
END
$$;
