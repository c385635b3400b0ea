-- 0005_streamgrains_archive.sql
--
-- The event archive: one row per valid event the platform read from Kafka, unique on where it was read
-- (topic, partition, offset), so that a replay writes nothing twice. Written for StreamGrains. Idempotent.
--
-- Not time-partitioned: PostgreSQL wants a partitioned table's unique keys to include its partition column, and the
-- archive's key is (topic, partition, offset), which tools outside the platform rely on. Retention deletes old rows
-- in small batches instead (StreamGrains:Archive:Retention), helped by the index on ts.
--
-- Rows arrive by binary COPY straight into the table; a batch that meets rows already there (a replay after a crash)
-- goes again through a staging table and INSERT ... ON CONFLICT DO NOTHING.

CREATE TABLE IF NOT EXISTS events
(
    topic       text             NOT NULL,
    partition   integer          NOT NULL,
    "offset"    bigint           NOT NULL,
    id          text             NULL,
    entity      text             NOT NULL,
    type        text             NOT NULL,
    ts          timestamptz      NOT NULL,
    value       double precision NULL,
    attrs       jsonb            NULL,
    kafka_ts    timestamptz      NULL,
    archived_at timestamptz      NOT NULL DEFAULT now(),

    CONSTRAINT pk_events PRIMARY KEY (topic, partition, "offset")
);

-- GET /api/events?entity=&from=&to=: an entity's events, newest first.
CREATE INDEX IF NOT EXISTS ix_events_entity_ts ON events (entity, ts DESC);

-- The same without an entity, and retention: a BRIN index (event times arrive roughly in order), a fraction of a
-- B-tree's size and of its cost on every insert.
CREATE INDEX IF NOT EXISTS ix_events_ts ON events USING brin (ts);
