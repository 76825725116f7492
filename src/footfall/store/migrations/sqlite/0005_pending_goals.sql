-- [T6] PostMetric's POST /api/v1/goal accepts a goal with only a session, or for a visitor not
-- seen yet (docs/api.md). Such a goal waits here until its visitor's page view arrives
-- (pending_goals.py attaches it to that visit); one that names nobody stays here and counts only
-- in the site's goal totals.
CREATE TABLE pending_goals (
  num INTEGER PRIMARY KEY,
  site_num INTEGER NOT NULL REFERENCES sites(num),
  ts INTEGER NOT NULL,
  name TEXT NOT NULL,
  visitor_key TEXT, -- the visitorId as sent
  session_key TEXT, -- the sessionId as sent
  extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX pending_goals_site_ts ON pending_goals (site_num, ts);
