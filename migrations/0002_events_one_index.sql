-- The D1 mirror's events table: its primary key (tenant, entity_type, entity_id, event_id) already
-- serves every per-entity read, so the second index only made each mirrored event cost one more
-- billed row. D1 bills every index entry a write touches.
DROP INDEX IF EXISTS events_by_entity;
