-- [T5] Funnels (docs/api.md, "Funnels"): a site's saved funnels, each an ordered list of 2 to 8
-- steps (JSON: [{"type": "page" | "goal", "value": ...}]).
CREATE TABLE funnels (
  num BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  site_num BIGINT NOT NULL REFERENCES sites(num),
  name TEXT NOT NULL,
  steps TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX funnels_site ON funnels (site_num, num);

-- The rollups keep two more things: entry and exit pages among their breakdowns, and each folded
-- slot's steps (every page view and goal with its time, the rows funnels count). The slots folded
-- before have neither, so the rollups are folded again from the visits (rollups.py starts over
-- from the first slot; until then reads compute the unfolded slots from the rows, exactly).
DELETE FROM rollup_columns;
DELETE FROM rollup_codes;
DELETE FROM rollups;
DELETE FROM rollup_state;

-- The latest refused event of each filtered row (its time in ms and its page): the install page
-- shows the site's latest, the reason in words and what would fix it.
ALTER TABLE filtered ADD COLUMN last_at BIGINT;
ALTER TABLE filtered ADD COLUMN last_url TEXT;
