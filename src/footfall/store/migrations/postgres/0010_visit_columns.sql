-- [T8] Filtered analytics from the rollups (docs/storage.md): each folded slot now also keeps its
-- visits as columns (rollup_visits.py: one record per visit, one code per visit for each field a
-- filter or breakdown reads, each visit's pages and goals), in rollup_columns under new names.
-- The slots folded before have none, so the rollups are folded again from the visits (rollups.py
-- starts over from the first slot; until then reads compute the unfolded slots from the rows).
DELETE FROM rollup_columns;
DELETE FROM rollup_codes;
DELETE FROM rollups;
DELETE FROM rollup_state;
