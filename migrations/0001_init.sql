-- D1 schema for the `database` handler. Append new numbered files; never edit an applied one.
-- The handler also applies these idempotently on first use, so local runs need no set-up step.
CREATE TABLE IF NOT EXISTS leads (
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  email TEXT,
  name TEXT,
  status TEXT,
  state TEXT NOT NULL,
  last_event_seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS offers (
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  lead_id TEXT,
  amount REAL,
  currency TEXT,
  state TEXT NOT NULL,
  last_event_seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS events (
  tenant TEXT NOT NULL,
  event_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (tenant, entity_type, entity_id, event_id)
);
CREATE INDEX IF NOT EXISTS events_by_entity ON events (tenant, entity_type, entity_id, seq);
