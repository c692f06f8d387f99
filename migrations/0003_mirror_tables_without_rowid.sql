-- The mirror's entity tables keyed by (tenant, id) only: as rowid tables each insert wrote the row
-- and an entry in the primary key's own index, two billed D1 rows for a new lead or offer. WITHOUT
-- ROWID stores the row in the key's tree: one. Rebuilt in place (copy, drop, rename); run twice
-- (wrangler and the handler, or two isolates) it copies the rebuilt table into a fresh one, the
-- same rows. A one-time cost of one written row per mirrored entity.
CREATE TABLE IF NOT EXISTS leads_next (
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  email TEXT,
  name TEXT,
  status TEXT,
  state TEXT NOT NULL,
  last_event_seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO leads_next (tenant, id, email, name, status, state, last_event_seq, updated_at)
  SELECT tenant, id, email, name, status, state, last_event_seq, updated_at FROM leads;
DROP TABLE leads;
ALTER TABLE leads_next RENAME TO leads;
CREATE TABLE IF NOT EXISTS offers_next (
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  lead_id TEXT,
  amount REAL,
  currency TEXT,
  state TEXT NOT NULL,
  last_event_seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO offers_next (tenant, id, lead_id, amount, currency, state, last_event_seq, updated_at)
  SELECT tenant, id, lead_id, amount, currency, state, last_event_seq, updated_at FROM offers;
DROP TABLE offers;
ALTER TABLE offers_next RENAME TO offers;
