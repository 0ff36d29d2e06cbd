-- 0001: the table of the first releases, exactly as their host/sql/readings.sql made it (one
-- meter per database, keyed by unix_ms). IF NOT EXISTS: a database those releases wrote already
-- has it, and is recorded at this version without a change.
CREATE TABLE IF NOT EXISTS readings (
    time_utc     TIMESTAMPTZ,
    unix_ms      BIGINT,
    t_s          DOUBLE PRECISION NOT NULL,
    duration_s   DOUBLE PRECISION NOT NULL,
    irms_a       DOUBLE PRECISION NOT NULL,
    va           DOUBLE PRECISION NOT NULL,
    watts        DOUBLE PRECISION NOT NULL,
    kwh          DOUBLE PRECISION NOT NULL,
    mains_hz     DOUBLE PRECISION,
    flags        TEXT,
    lost_samples BIGINT NOT NULL,
    UNIQUE (unix_ms)
);
