-- 0006_streamgrains_entity_context.sql
--
-- The external context of entities that profile grains load (StreamGrains:Context:Kind Postgres): one row per entity,
-- its attributes a flat JSON object of strings, numbers and booleans. Written by whoever owns the context (a CRM
-- export, a nightly job); the platform only reads it. Written for StreamGrains. Idempotent.

CREATE TABLE IF NOT EXISTS entity_context
(
    entity     text        NOT NULL,
    attrs      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT pk_entity_context PRIMARY KEY (entity)
);
