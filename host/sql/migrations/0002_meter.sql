-- 0002: several meters per database. A `meter` column (the node id) leads every row and the key
-- becomes (meter, unix_ms). Neither SQLite nor PostgreSQL can put a column first or (SQLite)
-- change a key in place, so the table is rebuilt: every row is copied, the rows an earlier
-- release wrote getting the id of the meter whose ct-read runs this upgrade (from the
-- migration_context table the migration runner fills for this transaction). The key is named,
-- so that the README's TimescaleDB steps can name it. The same SQL in both dialects.
CREATE TABLE readings_v2 (
    meter        TEXT NOT NULL,
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
    CONSTRAINT readings_meter_unix_ms_key UNIQUE (meter, unix_ms)
);
INSERT INTO readings_v2 (meter, time_utc, unix_ms, t_s, duration_s, irms_a, va, watts, kwh, mains_hz, flags,
                         lost_samples)
    SELECT (SELECT meter FROM migration_context), time_utc, unix_ms, t_s, duration_s, irms_a, va, watts, kwh,
           mains_hz, flags, lost_samples
    FROM readings;
DROP TABLE readings;
ALTER TABLE readings_v2 RENAME TO readings;
