-- 0001_orleans_main.sql
--
-- Provides the OrleansQuery table, from which the Orleans ADO.NET providers load every
-- statement they run, and one helper function shared by the scripts that follow.
-- Written for StreamGrains against the query contract of Orleans 10.4.2
-- (Microsoft.Orleans.Clustering.AdoNet, .Persistence.AdoNet, .Reminders.AdoNet).
-- Idempotent: safe to run any number of times. Plain SQL for PostgreSQL 15.
--
-- Contract reminders for everything registered in OrleansQuery:
--   * Orleans binds parameters by name (@Name) and reads result columns by name, so the
--     names below are part of the contract; the SQL around them is ours.
--   * Orleans loads the queries with the literal statement
--     "SELECT QueryKey, QueryText FROM OrleansQuery" (unquoted, so lower-cased by the
--     server). The table and its columns must therefore stay unquoted identifiers.
--   * A query that answers "true/false" must return exactly one row with exactly one
--     column; Orleans converts that value with Convert.ToBoolean (non-zero = true).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);

-- Next value of an ETag-style version counter that Orleans only compares for equality
-- (grain state and reminders). Orleans parses these ETags with int.Parse, so they must stay
-- 32-bit; instead of failing with an integer overflow after 2^31 writes, the counter wraps
-- back to 1. Not used for the membership version, which Orleans orders with '>'.
CREATE OR REPLACE FUNCTION orleans_next_version(current_version integer)
    RETURNS integer
    LANGUAGE sql
    IMMUTABLE
    PARALLEL SAFE
RETURN CASE WHEN current_version >= 2147483647 THEN 1 ELSE current_version + 1 END;
