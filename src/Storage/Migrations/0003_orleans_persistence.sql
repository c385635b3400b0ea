-- 0003_orleans_persistence.sql
--
-- Provides the grain state table, its write function and the four queries that
-- Microsoft.Orleans.Persistence.AdoNet asks OrleansQuery for.
-- Written for StreamGrains against the query contract of Orleans 10.4.2. Requires
-- 0001_orleans_main.sql. Idempotent: safe to run any number of times. Plain SQL for PostgreSQL 15.
--
-- Parameters Orleans binds (by name): GrainIdHash and GrainTypeHash (int), GrainIdN0 and
-- GrainIdN1 (bigint), GrainTypeString (text), GrainIdExtensionString (text or NULL),
-- ServiceId (text), GrainStateVersion (int, NULL when the grain holds no ETag) and, for
-- writes only, PayloadBinary (bytea).
--
-- The ETag of a grain state is the Version column. Orleans treats a write or clear as failed
-- (InconsistentStateException) when the version it gets back is unchanged, empty (NULL) or
-- missing while the grain had an ETag.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        text         NOT NULL,
    GrainIdExtensionString text         NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NOT NULL
);

-- One row per grain state. Lookups use the leading equality columns; the two strings are
-- covered through md5 so that long keys never exceed the b-tree entry size limit, and
-- NULLS NOT DISTINCT (PostgreSQL 15) makes a NULL key extension count as one value.
-- This index is also the arbiter that makes concurrent first writes of one grain conflict
-- instead of producing duplicate rows.
CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_Grain
    ON OrleansStorage (GrainIdHash, GrainTypeHash, ServiceId, GrainIdN0, GrainIdN1,
                       md5(GrainTypeString), md5(GrainIdExtensionString))
    NULLS NOT DISTINCT;

-- Writes a grain state. Without a version the row must not exist yet: it is created with
-- version 1, or NULL is returned when it already exists. With a version the row is updated
-- only if its version still matches: the new version is returned, or the caller's own
-- version when it does not match. Orleans reads the result as NewGrainStateVersion.
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_grain_id_hash          integer,
    p_grain_id_n0            bigint,
    p_grain_id_n1            bigint,
    p_grain_type_hash        integer,
    p_grain_type_string      text,
    p_grain_id_extension     text,
    p_service_id             text,
    p_grain_state_version    integer,
    p_payload_binary         bytea)
    RETURNS integer
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new_version integer;
BEGIN
    IF p_grain_state_version IS NULL THEN
        INSERT INTO OrleansStorage
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
             GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        VALUES
            (p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type_string,
             p_grain_id_extension, p_service_id, p_payload_binary, now(), 1)
        ON CONFLICT DO NOTHING
        RETURNING Version INTO v_new_version;

        RETURN v_new_version;
    END IF;

    UPDATE OrleansStorage
    SET PayloadBinary = p_payload_binary,
        ModifiedOn = now(),
        Version = orleans_next_version(Version)
    WHERE GrainIdHash = p_grain_id_hash
      AND GrainTypeHash = p_grain_type_hash
      AND ServiceId = p_service_id
      AND GrainIdN0 = p_grain_id_n0
      AND GrainIdN1 = p_grain_id_n1
      AND GrainTypeString = p_grain_type_string
      AND GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_extension
      AND Version = p_grain_state_version
    RETURNING Version INTO v_new_version;

    RETURN COALESCE(v_new_version, p_grain_state_version);
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- Reads a grain state: zero or one row. A row with a NULL payload is a cleared state whose
-- version is still the grain's ETag.
(
    'ReadFromStorageKey',
    $q$
    SELECT
        PayloadBinary AS "PayloadBinary",
        Version       AS "Version"
    FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString;
    $q$
),
-- Writes a grain state; exactly one row with one column, NewGrainStateVersion.
(
    'WriteToStorageKey',
    $q$
    SELECT orleans_storage_write(
        @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary)
        AS "NewGrainStateVersion";
    $q$
),
-- Clears a grain state (DeleteStateOnClear = false): keeps the row with a NULL payload and
-- a new version. Orleans reads the first column; no row means a version conflict.
(
    'ClearStorageKey',
    $q$
    UPDATE OrleansStorage
    SET PayloadBinary = NULL,
        ModifiedOn = now(),
        Version = orleans_next_version(Version)
    WHERE GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING Version AS "NewGrainStateVersion";
    $q$
),
-- Deletes a grain state (DeleteStateOnClear = true). Orleans reads the first column and
-- needs a value different from the ETag it sent, so the next version is returned; no row
-- means a version conflict.
(
    'DeleteStorageKey',
    $q$
    DELETE FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING orleans_next_version(Version) AS "NewGrainStateVersion";
    $q$
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
