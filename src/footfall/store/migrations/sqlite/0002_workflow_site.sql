-- A workflow made with a site key belongs to that site (docs/workflows.md, "Keys"): a site key
-- reaches its own site's workflows and those fed only by its site's sources, never the rest of the
-- account's. Workflows made before (or with an account key) have none: account-wide.
ALTER TABLE workflows ADD COLUMN site_id TEXT REFERENCES sites(id);
