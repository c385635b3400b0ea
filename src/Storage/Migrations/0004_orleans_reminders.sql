-- 0004_orleans_reminders.sql
--
-- Provides the reminders table and the seven queries that
-- Microsoft.Orleans.Reminders.AdoNet asks OrleansQuery for.
-- Written for StreamGrains against the query contract of Orleans 10.4.2. Requires
-- 0001_orleans_main.sql. Idempotent: safe to run any number of times. Plain SQL for PostgreSQL 15.
--
-- Parameters Orleans binds (by name): ServiceId and GrainId (text), ReminderName (text),
-- StartTime (UTC, sent as timestamptz), Period (milliseconds: int, or bigint when it does not
-- fit an int), GrainHash, BeginHash and EndHash (the uint ring hashes cast to signed int),
-- and Version (the reminder ETag parsed to int).
-- Every query that returns reminders yields GrainId, ReminderName, StartTime, Period, Version.

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150)  NOT NULL,
    GrainId      varchar(1024) NOT NULL,
    ReminderName varchar(256)  NOT NULL,
    StartTime    timestamptz   NOT NULL,
    Period       bigint        NOT NULL,
    GrainHash    integer       NOT NULL,
    Version      integer       NOT NULL,

    CONSTRAINT PK_OrleansRemindersTable PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Range reads ask for the reminders of one service whose grain hash lies in a ring range.
CREATE INDEX IF NOT EXISTS IX_OrleansRemindersTable_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- All reminders of one grain.
(
    'ReadReminderRowsKey',
    $q$
    SELECT
        GrainId      AS "GrainId",
        ReminderName AS "ReminderName",
        StartTime    AS "StartTime",
        Period       AS "Period",
        Version      AS "Version"
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND GrainId = @GrainId;
    $q$
),
-- One reminder of one grain: zero or one row.
(
    'ReadReminderRowKey',
    $q$
    SELECT
        GrainId      AS "GrainId",
        ReminderName AS "ReminderName",
        StartTime    AS "StartTime",
        Period       AS "Period",
        Version      AS "Version"
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND GrainId = @GrainId
      AND ReminderName = @ReminderName;
    $q$
),
-- Ring range that does not wrap (Orleans uses it when (int)BeginHash < (int)EndHash):
-- hashes in (BeginHash, EndHash].
(
    'ReadRangeRows1Key',
    $q$
    SELECT
        GrainId      AS "GrainId",
        ReminderName AS "ReminderName",
        StartTime    AS "StartTime",
        Period       AS "Period",
        Version      AS "Version"
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND GrainHash > @BeginHash
      AND GrainHash <= @EndHash;
    $q$
),
-- Ring range that wraps around (all other cases, including BeginHash = EndHash, which
-- means the whole ring): hashes above BeginHash or up to EndHash.
(
    'ReadRangeRows2Key',
    $q$
    SELECT
        GrainId      AS "GrainId",
        ReminderName AS "ReminderName",
        StartTime    AS "StartTime",
        Period       AS "Period",
        Version      AS "Version"
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
    $q$
),
-- Creates a reminder (version 0) or replaces its schedule (next version). Returns one row
-- with the new ETag in the Version column.
(
    'UpsertReminderRowKey',
    $q$
    INSERT INTO OrleansRemindersTable AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES
        (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
    SET StartTime = EXCLUDED.StartTime,
        Period = EXCLUDED.Period,
        GrainHash = EXCLUDED.GrainHash,
        Version = orleans_next_version(r.Version)
    RETURNING r.Version AS "Version";
    $q$
),
-- Deletes a reminder if its ETag still matches. One column: 1 if deleted, 0 otherwise.
(
    'DeleteReminderRowKey',
    $q$
    WITH deleted AS (
        DELETE FROM OrleansRemindersTable
        WHERE ServiceId = @ServiceId
          AND GrainId = @GrainId
          AND ReminderName = @ReminderName
          AND Version = @Version
        RETURNING 1
    )
    SELECT count(*)::integer AS "Deleted" FROM deleted;
    $q$
),
-- Deletes every reminder of the service (used by Orleans' test hooks). Result not read.
(
    'DeleteReminderRowsKey',
    $q$
    DELETE FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId;
    $q$
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
