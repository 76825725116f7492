-- [T2] How sure footfall is of a person, and email links that expire (docs/people.md, "How sure").
-- routes: each route that identified the person (api, import, payment, link, identify, form) -> when
-- it first did; a person named by api/import/payment/link is verified. conflict_of: a keyless claim
-- that named a verified person's ids, kept as a person of its own for an explicit merge; claimed:
-- the ids it claimed (so the same claim finds the same person again).
ALTER TABLE people ADD COLUMN routes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE people ADD COLUMN conflict_of INTEGER;
ALTER TABLE people ADD COLUMN claimed TEXT;
CREATE INDEX people_conflicts ON people (site_num, conflict_of, claimed);
-- people of 0.1.0: their routes from the sources of their fields, dated when they were identified
UPDATE people SET routes = COALESCE((SELECT json_group_object(route, people.identified_at)
  FROM (SELECT DISTINCT value AS route FROM json_each(people.sources)
        WHERE value IN ('identify', 'form', 'link', 'payment', 'import'))), '{}');

-- An email-link token's first use: the browser it identified (docs/people.md, "Email links").
CREATE TABLE link_token_uses (
  token_hash TEXT PRIMARY KEY,
  site_num INTEGER NOT NULL,
  person_num INTEGER NOT NULL,
  visitor_num INTEGER NOT NULL,
  first_used_at INTEGER NOT NULL
);

-- A browser matched by its device signals is a presumption: it never carried its visitor's person.
-- Visits of 0.1.0 presumed so are no longer the person's (docs/identity.md).
UPDATE sessions SET person_num = NULL
  WHERE identified = 0 AND visitor_num IN (SELECT num FROM visitors WHERE alias_of IS NOT NULL);
