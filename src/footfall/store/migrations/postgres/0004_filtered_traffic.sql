-- [T1] Filtered traffic (docs/bots.md): what collect drops, per site, UTC day, reason and
-- user-agent family, with up to five raw user agents as samples (a JSON array). It replaces
-- drop_counts, whose rows carry over with an unknown family.
CREATE TABLE filtered (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,
  reason TEXT NOT NULL,
  agent TEXT NOT NULL,
  count BIGINT NOT NULL,
  samples TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (site_id, day, reason, agent)
);
INSERT INTO filtered (site_id, day, reason, agent, count, samples)
  SELECT site_id, day, reason, 'unknown', count, '[]' FROM drop_counts;
DROP TABLE drop_counts;

-- Breakdowns now show visits without a device type, browser or OS as "unknown" instead of leaving
-- them out: the rollups are folded again from the visits (rollups.py starts over from the first).
DELETE FROM rollup_columns;
DELETE FROM rollup_codes;
DELETE FROM rollups;
DELETE FROM rollup_state;
