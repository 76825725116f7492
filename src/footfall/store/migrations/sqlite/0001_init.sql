-- footfall schema v1 (SQLite). Times are integer milliseconds since the epoch (UTC).
-- Secrets shared by every instance on this database (the visitor-id signing key).
CREATE TABLE instance_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Public ids are TEXT; rows refer to each other by INTEGER `num` keys, which keep
-- the hot indexes (events by visitor, events by site and time) small and fast.
CREATE TABLE sites (
  num INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  domain TEXT NOT NULL,
  allowed_hostnames TEXT NOT NULL DEFAULT '[]',
  timezone TEXT NOT NULL DEFAULT 'UTC',
  settings TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  UNIQUE (account_id, domain)
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  site_id TEXT REFERENCES sites(id),
  name TEXT NOT NULL DEFAULT '',
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

-- People: someone who identified themselves to a site (docs/people.md). Facts as given, each with
-- its source in `sources`; derived fields (department, seniority, email kind, company) are computed
-- from them when read.
CREATE TABLE people (
  num INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  site_num INTEGER NOT NULL REFERENCES sites(num),
  created_at INTEGER NOT NULL,
  identified_at INTEGER NOT NULL, -- the last time an identification added to or confirmed this person
  user_id TEXT, -- the first user id given (every id is in person_ids)
  email TEXT, -- the first email given
  name TEXT,
  first_name TEXT,
  last_name TEXT,
  title TEXT,
  company TEXT,
  phone TEXT,
  image TEXT,
  location TEXT,
  metadata TEXT NOT NULL DEFAULT '{}', -- other properties given with an identification
  sources TEXT NOT NULL DEFAULT '{}', -- field -> where it came from (identify, form, link, payment, import)
  enriched_at INTEGER -- when the enrichment provider was last asked about this person (null: not yet)
);
CREATE INDEX people_site ON people (site_num, num);

-- The strong ids that name a person: user ids and emails, unique per site.
CREATE TABLE person_ids (
  site_num INTEGER NOT NULL,
  kind TEXT NOT NULL, -- user_id | email
  value TEXT NOT NULL,
  person_num INTEGER NOT NULL REFERENCES people(num),
  PRIMARY KEY (site_num, kind, value)
);
CREATE INDEX person_ids_person ON person_ids (person_num);

-- Companies the owner imported (by domain): what people with that email domain, and visits from
-- that company, are shown with.
CREATE TABLE companies (
  num INTEGER PRIMARY KEY,
  site_num INTEGER NOT NULL REFERENCES sites(num),
  domain TEXT NOT NULL,
  name TEXT,
  industry TEXT,
  size TEXT,
  linkedin_url TEXT,
  country TEXT,
  source TEXT NOT NULL DEFAULT 'import', -- import | provider
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (site_num, domain)
);

-- Answers of the enrichment provider (docs/people.md), by what was asked, for FOOTFALL_ENRICHMENT_TTL_DAYS.
CREATE TABLE enrichment_cache (
  key TEXT PRIMARY KEY,
  found INTEGER NOT NULL, -- 0: the provider knows nothing about it
  answer TEXT NOT NULL,
  fetched_at INTEGER NOT NULL
);

-- Segments: named rules over people (queries/segments.py), evaluated when people are read.
CREATE TABLE segments (
  num INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  site_num INTEGER NOT NULL REFERENCES sites(num),
  name TEXT NOT NULL,
  rules TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- A person merged into another: its old id still finds the one it became.
CREATE TABLE merged_people (
  id TEXT PRIMARY KEY,
  into_num INTEGER NOT NULL
);

CREATE TABLE visitors (
  num INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  site_id TEXT NOT NULL REFERENCES sites(id),
  client_key TEXT,
  created_at INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  -- written once: visits, page views and last activity are read from `sessions`
  first_params TEXT NOT NULL DEFAULT '{}',
  first_click_ids TEXT NOT NULL DEFAULT '{}',
  -- a browser matched to this site's visitor `alias_of` by its device signals (docs/identity.md):
  -- its events are that visitor's until the two are seen alive side by side, then it stands alone
  alias_of INTEGER REFERENCES visitors(num),
  person_num INTEGER REFERENCES people(num), -- who this browser was last identified as
  alias_confidence REAL,
  UNIQUE (site_id, client_key)
);
CREATE INDEX visitors_alias_of ON visitors (alias_of) WHERE alias_of IS NOT NULL;
CREATE INDEX visitors_person ON visitors (person_num) WHERE person_num IS NOT NULL;

CREATE TABLE sessions (
  num INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  site_num INTEGER NOT NULL REFERENCES sites(num),
  visitor_num INTEGER NOT NULL REFERENCES visitors(num),
  person_num INTEGER, -- the person this visit belongs to (set when its visitor identifies: a shared
                    -- computer's visits stay with whoever was identified then)
  identified INTEGER NOT NULL DEFAULT 0, -- 1 once someone identified in this visit (else its person is presumed)
  started_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  pageviews INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  entry_path TEXT,
  exit_path TEXT,
  -- where the visit came from and on what: the session's first event, enriched (events keep the
  -- raw facts, ip and user agent, so each event's own context can be derived again)
  hostname TEXT,
  referrer TEXT,
  referrer_source TEXT,
  channel TEXT,
  utm_source TEXT,
  utm_medium TEXT,
  utm_campaign TEXT,
  params TEXT NOT NULL DEFAULT '{}',
  browser TEXT,
  browser_version TEXT,
  os TEXT,
  os_version TEXT,
  device_type TEXT,
  device_vendor TEXT,
  device_model TEXT,
  country_code TEXT,
  country TEXT,
  region TEXT,
  city TEXT,
  latitude REAL,
  longitude REAL,
  postal_code TEXT,
  geo_timezone TEXT,
  accuracy_radius INTEGER,
  asn INTEGER,
  as_organization TEXT,
  device_hash TEXT, -- the tracker's device signals (docs/tracker.md): signature and components
  device TEXT,
  screen_width INTEGER,
  screen_height INTEGER,
  language TEXT,
  timezone TEXT
);
CREATE INDEX sessions_site_started ON sessions (site_num, started_at);
CREATE INDEX sessions_visitor ON sessions (visitor_num, num);
CREATE INDEX sessions_person ON sessions (person_num, num) WHERE person_num IS NOT NULL;

-- Narrow on purpose: one row per event is the hot path (measured: a 42-column row cost 2.5x a 20-column
-- one to insert, docs/benchmarks.md); the enrichment lives once per session.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL, -- `<ts>.<6 chars>`: found through events_site_ts with the ms part
  site_num INTEGER NOT NULL,
  visitor_num INTEGER NOT NULL,
  session_num INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  type TEXT NOT NULL,
  name TEXT,
  href TEXT NOT NULL,
  hostname TEXT NOT NULL,
  path TEXT NOT NULL,
  title TEXT,
  referrer TEXT,
  params TEXT NOT NULL DEFAULT '{}',
  click_ids TEXT NOT NULL DEFAULT '{}',
  viewport_width INTEGER, -- per event: the window changes within a visit
  viewport_height INTEGER,
  user_agent TEXT NOT NULL,
  ip TEXT,
  extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_visitor_ts ON events (visitor_num, ts);
CREATE INDEX events_site_ts ON events (site_num, ts);
-- the goals of the analytics API: custom events only, a small index
CREATE INDEX events_goals ON events (site_num, ts) WHERE type = 'custom';

-- Payments (DataFast's POST /api/v1/payments, payment webhooks): idempotent on the transaction id,
-- attributed to a visitor (by its id) or a person (by the customer's email), or to nobody.
CREATE TABLE payments (
  num INTEGER PRIMARY KEY,
  site_num INTEGER NOT NULL REFERENCES sites(num),
  transaction_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  amount REAL NOT NULL, -- in the currency's major units, as given
  currency TEXT NOT NULL,
  visitor_num INTEGER, -- the browser it was attributed to (null: by email only, or nobody)
  person_num INTEGER, -- the person, when the visitor is identified or the email names one
  email TEXT,
  name TEXT,
  customer_id TEXT,
  renewal INTEGER NOT NULL DEFAULT 0,
  refunded INTEGER NOT NULL DEFAULT 0,
  free_trial INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL, -- api | stripe | lemonsqueezy
  created_at INTEGER NOT NULL,
  UNIQUE (site_num, transaction_id)
);
CREATE INDEX payments_site_ts ON payments (site_num, ts);
CREATE INDEX payments_visitor ON payments (visitor_num, ts) WHERE visitor_num IS NOT NULL;
CREATE INDEX payments_person ON payments (person_num, ts) WHERE person_num IS NOT NULL;

-- One row per identification request: an event that carried device signals (the first of each
-- page load) or a footfall('device') call. Facts only; verdicts (incognito, bot) are read off them.
CREATE TABLE identifications (
  request_id TEXT PRIMARY KEY,
  site_num INTEGER NOT NULL,
  visitor_num INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  url TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT NOT NULL,
  linked_id TEXT,
  tag TEXT NOT NULL DEFAULT '{}',
  visitor_found INTEGER NOT NULL, -- 1 when the visitor existed before this request
  confidence REAL NOT NULL,
  device_hash TEXT,
  core_hash TEXT, -- the device signature without canvas and audio (docs/identity.md)
  quota_mb INTEGER, -- storage quota the browser reported (small in private windows)
  heap_mb INTEGER, -- the JavaScript heap limit it reported (Chromium), which private-window quotas are compared with
  asn INTEGER, -- the network the request came from (its owner tells hosting providers)
  webdriver INTEGER, -- automation signals the browser reported (1/0), null when not sent
  headless INTEGER,
  suspect INTEGER -- set through PUT /events/{request_id} (1/0), null until then
);
CREATE INDEX identifications_visitor_ts ON identifications (visitor_num, ts);
CREATE INDEX identifications_device ON identifications (site_num, device_hash, ts) WHERE device_hash IS NOT NULL;
CREATE INDEX identifications_core ON identifications (site_num, core_hash, ts) WHERE core_hash IS NOT NULL;

-- Ids of deleted visitors: a browser still holding one gets a new visitor, not its old id back.
CREATE TABLE deleted_visitor_ids (
  id TEXT PRIMARY KEY,
  deleted_at INTEGER NOT NULL
);

-- Analytics rollups (docs/storage.md): for each 15-minute slot of visit starts whose visits are over,
-- the counts and the set of visitors (a roaring bitmap of root visitor nums). Kept by a background
-- job (rollups.py), dropped for the slots whose visits change (a split, an erasure) and folded again.
CREATE TABLE rollups (
  site_num INTEGER NOT NULL,
  slot INTEGER NOT NULL, -- start of the slot, ms since the epoch
  sessions INTEGER NOT NULL,
  bounces INTEGER NOT NULL, -- visits with at most one page view
  pageviews INTEGER NOT NULL,
  duration INTEGER NOT NULL, -- sum of (last_seen - started_at)
  visitors BLOB NOT NULL,
  PRIMARY KEY (site_num, slot)
);

-- A folded slot's breakdowns: for each (devices, countries, pages...), two arrays of little-endian
-- uint32, the root visitor of each visit's value and the value's code in rollup_codes.
CREATE TABLE rollup_columns (
  site_num INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  name TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (site_num, name, slot)
);

-- The breakdown keys of a site (JSON text) and their codes.
CREATE TABLE rollup_codes (
  site_num INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  code INTEGER NOT NULL,
  PRIMARY KEY (site_num, name, value)
);

-- Per site: the slots before folded_upto all have rollups, but those of visits still going, and
-- generation changes with every invalidation, so a fold computed from older rows is not stored.
CREATE TABLE rollup_state (
  site_num INTEGER PRIMARY KEY,
  folded_upto INTEGER NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0
);

-- Floqer sources (docs/workflows.md): a source of person rows or company rows for one site (its
-- pixel), active or paused.
CREATE TABLE sources (
  num INTEGER PRIMARY KEY, -- creation order
  id TEXT NOT NULL UNIQUE, -- source_instance_id (a UUID)
  account_id TEXT NOT NULL REFERENCES accounts(id),
  site_id TEXT NOT NULL REFERENCES sites(id),
  kind TEXT NOT NULL, -- track_personal_website_visitors | track_website_visitors
  name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active', -- active | paused
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX sources_site ON sources (site_id, status);

-- A source's rows: one per person (personal) or company (company-level), kept current while the
-- source is active. `data` holds the row's fields as the data endpoint shows them.
CREATE TABLE source_rows (
  num INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL REFERENCES sources(id),
  row_key TEXT NOT NULL, -- person:<num> or company:<key>
  person_num INTEGER, -- the person of a personal row (deleted with them)
  data TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT '{}', -- what keeps a company row's counts exact: its visits and people
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (source_id, row_key)
);
CREATE INDEX source_rows_person ON source_rows (person_num) WHERE person_num IS NOT NULL;

-- Credits: a ledger per account (grants positive, spending negative).
CREATE TABLE credit_ledger (
  num INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  delta INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX credit_ledger_account ON credit_ledger (account_id);

-- Workflows: where rows go. inputs: the declared input references (snake_case). config: the
-- webhook (url, secret, headers) or Slack (url, template) settings.
CREATE TABLE workflows (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL, -- webhook | slack
  inputs TEXT NOT NULL,
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- A source synced into a workflow, with its field mapping (input reference -> source field).
CREATE TABLE syncs (
  id TEXT PRIMARY KEY,
  source_id TEXT NOT NULL REFERENCES sources(id),
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  field_mapping TEXT NOT NULL,
  push_existing INTEGER NOT NULL,
  run TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (source_id, workflow_id)
);

-- The outbox: one delivery per row and workflow, written in the transaction that made the row,
-- before any attempt. status: pending | delivered | failed | skipped (pushed without a run).
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  source_id TEXT NOT NULL,
  row_num INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE, -- <row>:<workflow>
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  leased_until INTEGER NOT NULL DEFAULT 0, -- a sender holds it until then (two instances never both send)
  last_status INTEGER, -- the receiver's HTTP status
  last_error TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, -- retried until then (a replay starts a new window)
  delivered_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_workflow ON deliveries (workflow_id, created_at);
CREATE INDEX deliveries_row ON deliveries (row_num);

CREATE TABLE drop_counts (
  site_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  day TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site_id, reason, day)
);

-- Lead scoring (docs/scoring.md): each site's current model, kept by the scoring job. kind: model
-- (trained) | baseline (conversion rates by dimension). Quality is measured on held-out visitors.
CREATE TABLE score_models (
  site_num INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  trained_at INTEGER NOT NULL,
  conversions INTEGER NOT NULL, -- outcomes recorded when it was trained (retrained as new ones come)
  goals TEXT NOT NULL, -- the conversion goals it was trained with (JSON list)
  visitors INTEGER NOT NULL, -- rows it learned from
  positives INTEGER NOT NULL,
  site_rate REAL NOT NULL, -- conversion rate of those visitors
  average_value REAL, -- USD per conversion, from payments (null: no payments in a known currency)
  holdout_rows INTEGER NOT NULL,
  holdout_auc REAL, -- null: too few conversions to hold any out
  holdout_log_loss REAL,
  confidence REAL NOT NULL,
  dimensions TEXT NOT NULL, -- the baseline's rates by dimension (JSON)
  model BLOB NOT NULL, -- the pickled scorer
  scored_upto INTEGER NOT NULL -- visitors active since then are scored at the next run
);

-- Each visitor's latest score (visitor_num: the root browser).
CREATE TABLE visitor_scores (
  visitor_num INTEGER PRIMARY KEY,
  site_num INTEGER NOT NULL,
  probability REAL, -- null: a customer (converted), who gets no prediction
  dimensions TEXT NOT NULL, -- its values along the baseline's dimensions (JSON)
  scored_at INTEGER NOT NULL
);
CREATE INDEX visitor_scores_site ON visitor_scores (site_num, probability);

-- Dashboard users (docs/dashboard.md): people who log in to an account. Passwords are kept as
-- scrypt hashes. A session is kept by the hash of its cookie's token, with its CSRF token.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE user_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- Background jobs that must run once however many instances share the database (rollups,
-- scoring, enrichment): the instance holding a job's lease runs it (docs/deploy.md).
CREATE TABLE job_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until INTEGER NOT NULL
);

-- The cookieless script's salts (ingest/cookieless.py): one per UTC day, shared by every instance.
-- Older than yesterday they are deleted, so a past day's visitor keys cannot be made again.
CREATE TABLE daily_salts (
  day TEXT PRIMARY KEY,
  salt TEXT NOT NULL
);
