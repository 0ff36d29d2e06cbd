-- Readings as ct-read writes them (live `--csv`, `ct-read export --csv`, and `--sqlite`): the
-- same columns in the same order as the CSV header, so an exported CSV loads unchanged.
--
-- This is the table as this release's schema migrations (host/sql/migrations, applied in order
-- by ct-read itself to the databases it writes, recorded in schema_migrations) leave it, for
-- loading CSV files by hand into a new database; a test checks that the two agree. A database
-- made from this file has no schema_migrations: ct-read takes it for one of the first release
-- and upgrades it (rebuilding the table with every row) when it first writes to it.
--
--   SQLite:      sqlite3 meter.db < host/sql/readings.sql
--                sqlite3 meter.db ".import --csv --skip 1 out.csv readings"
--   PostgreSQL:  psql -d meter -f host/sql/readings.sql
--                psql -d meter -c "\copy readings FROM 'out.csv' CSV HEADER"
--
-- The type names are chosen to mean the right thing in both: TIMESTAMPTZ is a real timestamp
-- in PostgreSQL and stays the ISO 8601 text in SQLite; DOUBLE PRECISION and BIGINT are REAL and
-- INTEGER there. One row per reading window; the meter (its node id) and unix_ms (the end of
-- the window) are its key, so several meters share a table and loading the same readings twice
-- cannot duplicate them (`ct-read --sqlite` skips rows it
-- already has). Readings of recordings without receive times have no time: their unix_ms is
-- empty (NULL in PostgreSQL; SQLite's .import stores empty fields as '' and would take only one
-- such row under the key, so load those into a table without it). clock_ppm is the device's
-- sample clock against the host's in ppm, empty while the nominal rate is used. bound_pct is the
-- bound a reading states for its own error in percent (a window the estimator cannot read to its
-- usual target: a load change, a waveform not resolved), empty where the usual target holds;
-- bound_below_pct how far below its truth it can be, where that differs from bound_pct (empty:
-- bound_pct holds on both sides).
CREATE TABLE IF NOT EXISTS readings (
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
    clock_ppm    DOUBLE PRECISION,
    bound_pct    DOUBLE PRECISION,
    bound_below_pct DOUBLE PRECISION,
    CONSTRAINT readings_meter_unix_ms_key UNIQUE (meter, unix_ms)
);
