-- 0002_orleans_clustering.sql
--
-- Provides the membership (clustering) tables, functions, the nine queries that
-- Microsoft.Orleans.Clustering.AdoNet requires in OrleansQuery and the one it uses when present.
-- Written for StreamGrains against the query contract of Orleans 10.4.2. Requires
-- 0001_orleans_main.sql. Idempotent: safe to run any number of times. Plain SQL for PostgreSQL 15.
--
-- Parameters Orleans binds (by name): DeploymentId (the cluster id, text), Address (IP text),
-- Port, Generation, Status (SiloStatus as int; Active = 3, Dead = 6), ProxyPort (int), SiloName,
-- HostName, SuspectTimes (text or NULL), StartTime and IAmAliveTime (UTC, sent as timestamptz),
-- and Version (the table version ETag, int).

-- One row per cluster. Version is the membership table version; Orleans orders versions
-- with '>', so it only ever grows by one (no wrap-around here).
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Version      integer      NOT NULL DEFAULT 0,
    LastChanged  timestamptz  NOT NULL DEFAULT now(),

    CONSTRAINT PK_OrleansMembershipVersionTable PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation (address, port, generation) in a cluster.
-- SiloName, HostName and ProxyPort are read without NULL checks by Orleans, hence NOT NULL.
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      varchar(45)  NOT NULL,
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(256) NOT NULL,
    HostName     varchar(256) NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NOT NULL,
    SuspectTimes text         NULL,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,

    CONSTRAINT PK_OrleansMembershipTable PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_OrleansMembershipTable_Version FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId) ON DELETE CASCADE
);

-- Inserts a silo row if the caller's table version is still current, then bumps the version.
-- The version row is locked first, so concurrent writers for the same cluster are serialised
-- and nothing is written unless the whole operation succeeds. Returns 1 (true) or 0 (false).
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_silo_name      text,
    p_host_name      text,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_version        integer)
    RETURNS integer
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current  integer;
    v_inserted integer;
BEGIN
    SELECT Version INTO v_current
    FROM OrleansMembershipVersionTable
    WHERE DeploymentId = p_deployment_id
    FOR UPDATE;

    IF NOT FOUND OR p_version IS NULL OR v_current <> p_version THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName,
         Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name,
         p_status, p_proxy_port, p_start_time, p_i_am_alive)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;

    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_inserted = 0 THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1,
        LastChanged = now()
    WHERE DeploymentId = p_deployment_id;

    RETURN 1;
END
$fn$;

-- Updates a silo row's status, suspicions and liveness if the caller's table version is
-- still current, then bumps the version. Same locking scheme as the insert. Returns 1 or 0.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  text,
    p_i_am_alive     timestamptz,
    p_version        integer)
    RETURNS integer
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current integer;
    v_updated integer;
BEGIN
    SELECT Version INTO v_current
    FROM OrleansMembershipVersionTable
    WHERE DeploymentId = p_deployment_id
    FOR UPDATE;

    IF NOT FOUND OR p_version IS NULL OR v_current <> p_version THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable
    SET Status = p_status,
        SuspectTimes = p_suspect_times,
        IAmAliveTime = p_i_am_alive
    WHERE DeploymentId = p_deployment_id
      AND Address = p_address
      AND Port = p_port
      AND Generation = p_generation;

    GET DIAGNOSTICS v_updated = ROW_COUNT;
    IF v_updated = 0 THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1,
        LastChanged = now()
    WHERE DeploymentId = p_deployment_id;

    RETURN 1;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- Creates the cluster's version row if missing. One column: 1 if created, 0 if it existed.
(
    'InsertMembershipVersionKey',
    $q$
    WITH created AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer AS "Created" FROM created;
    $q$
),
-- Inserts a silo row, conditional on the table version. One column: 1 or 0.
(
    'InsertMembershipKey',
    $q$
    SELECT orleans_membership_insert(
        @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS "Succeeded";
    $q$
),
-- Updates a silo row, conditional on the table version. One column: 1 or 0.
(
    'UpdateMembershipKey',
    $q$
    SELECT orleans_membership_update(
        @DeploymentId, @Address, @Port, @Generation,
        @Status, @SuspectTimes, @IAmAliveTime, @Version) AS "Succeeded";
    $q$
),
-- Heartbeat. Not versioned and its result is not read. Note the key's lower-case 't'.
(
    'UpdateIAmAlivetimeKey',
    $q$
    UPDATE OrleansMembershipTable
    SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address
      AND Port = @Port
      AND Generation = @Generation;
    $q$
),
-- The cluster's version row joined with one silo row. The version row is always returned
-- (Orleans takes the version from the first row); silo columns are NULL when the silo is
-- unknown, which Orleans detects through a NULL StartTime.
(
    'MembershipReadRowKey',
    $q$
    SELECT
        v.DeploymentId AS "DeploymentId",
        m.Address      AS "Address",
        m.Port         AS "Port",
        m.Generation   AS "Generation",
        m.SiloName     AS "SiloName",
        m.HostName     AS "HostName",
        m.Status       AS "Status",
        m.ProxyPort    AS "ProxyPort",
        m.SuspectTimes AS "SuspectTimes",
        m.StartTime    AS "StartTime",
        m.IAmAliveTime AS "IAmAliveTime",
        v.Version      AS "Version"
    FROM OrleansMembershipVersionTable AS v
    LEFT JOIN OrleansMembershipTable AS m
           ON m.DeploymentId = v.DeploymentId
          AND m.Address = @Address
          AND m.Port = @Port
          AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId;
    $q$
),
-- The cluster's version row joined with all of its silo rows (same columns as above).
(
    'MembershipReadAllKey',
    $q$
    SELECT
        v.DeploymentId AS "DeploymentId",
        m.Address      AS "Address",
        m.Port         AS "Port",
        m.Generation   AS "Generation",
        m.SiloName     AS "SiloName",
        m.HostName     AS "HostName",
        m.Status       AS "Status",
        m.ProxyPort    AS "ProxyPort",
        m.SuspectTimes AS "SuspectTimes",
        m.StartTime    AS "StartTime",
        m.IAmAliveTime AS "IAmAliveTime",
        v.Version      AS "Version"
    FROM OrleansMembershipVersionTable AS v
    LEFT JOIN OrleansMembershipTable AS m
           ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId;
    $q$
),
-- Gateways of a cluster: silos in the requested status (Orleans asks for Active = 3)
-- that expose a gateway port.
(
    'GatewaysQueryKey',
    $q$
    SELECT
        Address    AS "Address",
        ProxyPort  AS "ProxyPort",
        Generation AS "Generation"
    FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
      AND Status = @Status
      AND ProxyPort > 0;
    $q$
),
-- Removes a whole cluster; its silo rows go with it through ON DELETE CASCADE.
(
    'DeleteMembershipTableEntriesKey',
    $q$
    DELETE FROM OrleansMembershipVersionTable
    WHERE DeploymentId = @DeploymentId;
    $q$
),
-- Removes rows of silos that are not Active (3) and have shown no sign of life (neither a
-- start nor a heartbeat) since @IAmAliveTime. The table version is deliberately not bumped.
-- Orleans 10.4.2 requires this key but runs it only when CleanupDefunctSiloEntryKey is absent.
(
    'CleanupDefunctSiloEntriesKey',
    $q$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
      AND Status <> 3
      AND GREATEST(IAmAliveTime, StartTime) < @IAmAliveTime;
    $q$
),
-- Optional key: when it is present, Orleans 10.4.2 uses it instead of the query above. Orleans
-- reads all rows itself, picks the Dead (6) silos whose start, heartbeat and suspicion votes
-- all lie before the cutoff, and sends each one back with the values it read (no Status, no
-- cutoff). The row goes only if none of those values changed since that read. Orleans sends
-- an empty SuspectTimes ('') back as NULL, hence the COALESCE on both sides. The table version
-- is deliberately not bumped.
(
    'CleanupDefunctSiloEntryKey',
    $q$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address
      AND Port = @Port
      AND Generation = @Generation
      AND Status = 6
      AND StartTime = @StartTime
      AND IAmAliveTime = @IAmAliveTime
      AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
    $q$
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
