-- [T5] Entry and exit pages are breakdowns of their own (analytics `entry-pages`, `exit-pages`,
-- the overview's panels), kept in the rollups' columns like the others: the slots folded before
-- have none, so the rollups are folded again from the visits (rollups.py starts over from the
-- first slot; until then reads compute the unfolded slots from the rows, exactly).
DELETE FROM rollup_columns;
DELETE FROM rollup_codes;
DELETE FROM rollups;
DELETE FROM rollup_state;
