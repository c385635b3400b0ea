-- 0007_streamgrains_aggregates.sql
--
-- Final windows and closed sessions of the aggregations (StreamGrains:Aggregations), written by the silos with
-- PostgreSQL storage as they become final, so that SQL reaches them. A window or session published again after a
-- failure has identical content: rows are keyed by aggregation, key and start, and written again they change nothing.
-- Written for StreamGrains. Idempotent.

CREATE TABLE IF NOT EXISTS aggregates
(
    aggregation       text             NOT NULL,
    key               text             NOT NULL,
    window_start      timestamptz      NOT NULL,
    window_end        timestamptz      NOT NULL,
    count             bigint           NOT NULL,
    sum               double precision NULL,
    min               double precision NULL,
    max               double precision NULL,
    avg               double precision NULL,
    distinct_entities bigint           NOT NULL,
    p50               double precision NULL,
    p95               double precision NULL,
    p99               double precision NULL,
    written_at        timestamptz      NOT NULL DEFAULT now(),

    CONSTRAINT pk_aggregates PRIMARY KEY (aggregation, key, window_start)
);

CREATE INDEX IF NOT EXISTS ix_aggregates_window ON aggregates (aggregation, window_end);

CREATE TABLE IF NOT EXISTS sessions
(
    aggregation text        NOT NULL,
    key         text        NOT NULL,
    session_start timestamptz NOT NULL,
    session_end   timestamptz NOT NULL,
    count       bigint      NOT NULL,
    duration_ms bigint      NOT NULL,
    types       text[]      NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT pk_sessions PRIMARY KEY (aggregation, key, session_start)
);

CREATE INDEX IF NOT EXISTS ix_sessions_end ON sessions (aggregation, session_end);
