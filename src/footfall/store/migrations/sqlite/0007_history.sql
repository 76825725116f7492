-- [T3] History with its own time (docs/import.md). A visitor's current visit is its latest by
-- time, not by number: an imported past visit gets a higher number than the visits after it.
CREATE INDEX sessions_visitor_seen ON sessions (visitor_num, last_seen, num);

-- `footfall import`: one row per file imported into a site, with how far it got. The progress
-- moves in the transaction that writes the events, so a run killed half way resumes exactly where
-- it stopped, and importing the same file again adds nothing.
CREATE TABLE imports (
  id TEXT PRIMARY KEY, -- sha256 of the site, the format and the file's bytes
  site_num INTEGER NOT NULL REFERENCES sites(num),
  source TEXT NOT NULL, -- the file's name, as given
  format TEXT NOT NULL,
  lines_done INTEGER NOT NULL DEFAULT 0,
  imported INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  skipped_reasons TEXT NOT NULL DEFAULT '{}',
  started_at INTEGER NOT NULL,
  finished_at INTEGER
);
