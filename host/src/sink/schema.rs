//! Schema migrations of the readings databases (SQLite and PostgreSQL).
//!
//! A database outlives the program that created it: a meter deployed for years is upgraded many
//! times, and its readings must never be dropped to change the table. So the schema is not one
//! `CREATE TABLE` but an ordered list of migrations, `host/sql/migrations/NNNN_name.sql`,
//! compiled into the binary. At start-up every database sink brings its database to the
//! newest version:
//!
//! - `schema_migrations (version, name, applied_at)` records what was applied. A database
//!   without it was written by a release before migrations (table `readings` keyed by
//!   `unix_ms`, exactly migration 0001, which is `IF NOT EXISTS`): it is at version 0.
//! - A database whose newest version is above this program's ([`LATEST`]) was written by a
//!   newer release; it is refused ([`SchemaError::Newer`]) before anything is written, never
//!   altered (an older program cannot know what the newer columns mean).
//! - The missing migrations run in order in **one transaction** with their records: a crash or
//!   an error leaves the database as it was, never half-upgraded. Both SQLite and PostgreSQL
//!   have transactional DDL. A second start finds nothing to do and writes nothing
//!   (idempotent).
//! - Migrations that move old rows may need to know which meter is upgrading (0002 gives the
//!   rows of a one-meter database that meter's id): the runner puts it in a temporary table,
//!   `migration_context (meter)`, for the transaction.
//!
//! A migration has one file when its SQL means the same in both dialects (the type names are
//! chosen for that: TIMESTAMPTZ is a timestamp in PostgreSQL and the ISO 8601 text in SQLite)
//! and a `.sqlite.sql`/`.postgres.sql` pair where they must differ.

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every migration, in order; versions are 1, 2, ... without gaps.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "readings",
        sqlite: include_str!("../../sql/migrations/0001_readings.sql"),
        postgres: include_str!("../../sql/migrations/0001_readings.sql"),
    },
    Migration {
        version: 2,
        name: "meter",
        sqlite: include_str!("../../sql/migrations/0002_meter.sql"),
        postgres: include_str!("../../sql/migrations/0002_meter.sql"),
    },
    Migration {
        version: 3,
        name: "clock_ppm",
        sqlite: include_str!("../../sql/migrations/0003_clock_ppm.sql"),
        postgres: include_str!("../../sql/migrations/0003_clock_ppm.sql"),
    },
    Migration {
        version: 4,
        name: "bound",
        sqlite: include_str!("../../sql/migrations/0004_bound.sql"),
        postgres: include_str!("../../sql/migrations/0004_bound.sql"),
    },
    Migration {
        version: 5,
        name: "bound_below",
        sqlite: include_str!("../../sql/migrations/0005_bound_below.sql"),
        postgres: include_str!("../../sql/migrations/0005_bound_below.sql"),
    },
];

/// The schema version this program writes.
pub const LATEST: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
)";
const CONTEXT: &str = "CREATE TEMP TABLE migration_context (meter TEXT NOT NULL)";

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database is at schema version {found}, newer than this ct-read's {known}: a newer release \
         wrote it\nhelp: run that release (or newer); this one left the database untouched"
    )]
    Newer { found: i64, known: i64 },
    #[error("schema migration {version}: {source}")]
    Step {
        version: i64,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("reading the schema version: {0}")]
    Version(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The migrations a database at `current` needs; refuses one newer than this program.
pub fn plan(current: i64) -> Result<&'static [Migration], SchemaError> {
    if current > LATEST {
        return Err(SchemaError::Newer { found: current, known: LATEST });
    }
    Ok(&MIGRATIONS[current as usize..])
}

/// The versions applied to an SQLite database, newest last.
pub fn sqlite_versions(conn: &rusqlite::Connection) -> Result<Vec<i64>, rusqlite::Error> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let v = stmt.query_map([], |r| r.get(0))?.collect();
    v
}

/// Brings an SQLite database to [`LATEST`] for meter `meter`; returns the versions applied.
pub fn migrate_sqlite(conn: &mut rusqlite::Connection, meter: &str) -> Result<Vec<i64>, SchemaError> {
    let version = |e: rusqlite::Error| SchemaError::Version(Box::new(e));
    if plan(current(&sqlite_versions(conn).map_err(version)?))?.is_empty() {
        return Ok(Vec::new());
    }
    // IMMEDIATE: the write lock first, so that two programs upgrading at once take turns and
    // the second finds the work done.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(version)?;
    let todo = plan(current(&sqlite_versions(&tx).map_err(version)?))?;
    let step = |version| move |e: rusqlite::Error| SchemaError::Step { version, source: Box::new(e) };
    let first = todo[0].version;
    tx.execute_batch(CREATE_TABLE).map_err(step(first))?;
    tx.execute_batch(CONTEXT).map_err(step(first))?;
    tx.execute("INSERT INTO migration_context (meter) VALUES (?1)", [meter]).map_err(step(first))?;
    for m in todo {
        tx.execute_batch(m.sqlite).map_err(step(m.version))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            rusqlite::params![m.version, m.name],
        )
        .map_err(step(m.version))?;
    }
    tx.execute_batch("DROP TABLE temp.migration_context").map_err(step(first))?;
    tx.commit().map_err(step(first))?;
    Ok(todo.iter().map(|m| m.version).collect())
}

/// Brings a PostgreSQL database to [`LATEST`] for meter `meter`; returns the versions applied.
/// Several meters starting at once take turns on a transaction-scoped advisory lock.
pub fn migrate_postgres(client: &mut postgres::Client, meter: &str) -> Result<Vec<i64>, SchemaError> {
    let version = |e: postgres::Error| SchemaError::Version(Box::new(e));
    if plan(current(&postgres_versions(client).map_err(version)?))?.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = client.transaction().map_err(version)?;
    // Any fixed key: "ct-read schema".
    tx.execute("SELECT pg_advisory_xact_lock(7366157263)", &[]).map_err(version)?;
    let todo = plan(current(&postgres_versions(&mut tx).map_err(version)?))?;
    let step = |version| move |e: postgres::Error| SchemaError::Step { version, source: Box::new(e) };
    let first = todo[0].version;
    tx.batch_execute(CREATE_TABLE).map_err(step(first))?;
    tx.batch_execute(&format!("{CONTEXT} ON COMMIT DROP")).map_err(step(first))?;
    tx.execute("INSERT INTO migration_context (meter) VALUES ($1)", &[&meter]).map_err(step(first))?;
    for m in todo {
        tx.batch_execute(m.postgres).map_err(step(m.version))?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[&m.version, &m.name])
            .map_err(step(m.version))?;
    }
    tx.commit().map_err(step(first))?;
    Ok(todo.iter().map(|m| m.version).collect())
}

/// The versions applied to a PostgreSQL database, newest last.
pub fn postgres_versions(client: &mut impl postgres::GenericClient) -> Result<Vec<i64>, postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(Vec::new());
    }
    Ok(client.query("SELECT version FROM schema_migrations ORDER BY version", &[])?.iter().map(|r| r.get(0)).collect())
}

fn current(versions: &[i64]) -> i64 {
    versions.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
        assert_eq!(plan(0).unwrap().len(), MIGRATIONS.len());
        assert!(plan(LATEST).unwrap().is_empty());
        assert!(
            matches!(plan(LATEST + 1), Err(SchemaError::Newer { found, known }) if found == LATEST + 1 && known == LATEST)
        );
    }

    /// The table of `host/sql/readings.sql` (shipped for loading CSV files by hand) is the one
    /// the migrations make: the same columns, types, constraints and key.
    #[test]
    fn the_shipped_schema_file_is_the_migrated_table() {
        let describe = |conn: &rusqlite::Connection| -> Vec<String> {
            let mut cols: Vec<String> = conn
                .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('readings') ORDER BY cid")
                .unwrap()
                .query_map([], |r| {
                    Ok(format!(
                        "{}:{}:{}:{}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?
                    ))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let unique: Vec<String> = conn
                .prepare(
                    "SELECT group_concat(c.name) FROM pragma_index_list('readings') AS i, pragma_index_info(i.name) AS c \
                     WHERE i.\"unique\" GROUP BY i.name",
                )
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            cols.push(format!("unique {unique:?}"));
            cols
        };
        let shipped = rusqlite::Connection::open_in_memory().unwrap();
        shipped.execute_batch(include_str!("../../sql/readings.sql")).unwrap();
        let mut migrated = rusqlite::Connection::open_in_memory().unwrap();
        assert_eq!(migrate_sqlite(&mut migrated, "m1").unwrap(), [1, 2, 3, 4, 5]);
        let want = describe(&shipped);
        assert_eq!(want.len(), 16, "{want:?}");
        assert_eq!(want.last().unwrap(), "unique [\"meter,unix_ms\"]");
        assert_eq!(describe(&migrated), want);
        assert_eq!(migrate_sqlite(&mut migrated, "m1").unwrap(), Vec::<i64>::new());
    }
}
