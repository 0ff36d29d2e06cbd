//! A throwaway PostgreSQL cluster for the database tests: `initdb` in a temp dir, `pg_ctl` on
//! 127.0.0.1 at a free port, stopped on drop. Included by the tests that use it
//! (`#[path = "common/pg.rs"] mod pg;`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The PostgreSQL binaries: on PATH, or in Debian's versioned directory.
fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root (the server refuses to
/// run as root).
fn pg(bin: &Path, prog: &str, as_postgres: bool) -> Command {
    let path = bin.join(prog);
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A throwaway cluster in a temp dir on 127.0.0.1, stopped on drop.
pub struct PgServer {
    pub bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    as_postgres: bool,
    /// `-c fsync=off` (tests: nothing here must survive a power cut, and it is faster).
    no_fsync: bool,
    dir: tempfile::TempDir,
}

impl PgServer {
    /// A running server, or `None` (with a loud note) where PostgreSQL is not installed; as
    /// root (CI) a missing PostgreSQL fails the test instead.
    pub fn start_or_skip(test: &str) -> Option<PgServer> {
        let server = PgServer::start();
        if server.is_none() {
            assert!(!is_root(), "running as root but no PostgreSQL binaries found: install the `postgresql` package");
            eprintln!("\n*** SKIPPED {test}: no PostgreSQL binaries (initdb) found ***\n");
        }
        server
    }

    pub fn start() -> Option<PgServer> {
        PgServer::start_with(true)
    }

    /// With `fsync` on, as a production server runs (for benchmarks).
    pub fn start_durable() -> Option<PgServer> {
        PgServer::start_with(false)
    }

    fn start_with(no_fsync: bool) -> Option<PgServer> {
        let bin = pg_bin_dir()?;
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            // The postgres user must own the cluster and be able to reach it.
            let mut p = dir.path().to_path_buf();
            while p != Path::new("/") {
                let _ = Command::new("chmod").arg("o+x").arg(&p).status();
                p.pop();
            }
            assert!(Command::new("chown").args(["postgres:"]).arg(dir.path()).status().unwrap().success());
        }
        let data = dir.path().join("data");
        let out = pg(&bin, "initdb", as_postgres)
            .args(["-D", data.to_str().unwrap(), "-U", "postgres", "-A", "trust", "--no-sync"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let server = PgServer { bin, data, port: free_port(), as_postgres, no_fsync, dir };
        server.start_again();
        Some(server)
    }

    /// Starts the (stopped) server again on its port.
    pub fn start_again(&self) {
        let fsync = if self.no_fsync { "-c fsync=off" } else { "" };
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1 {fsync}", self.port, self.dir.path().display());
        let log = self.dir.path().join("log");
        let out = pg(&self.bin, "pg_ctl", self.as_postgres)
            .args(["-D", self.data.to_str().unwrap(), "-o", &opts, "-w", "-t", "60", "-l"])
            .arg(&log)
            .arg("start")
            .output()
            .unwrap();
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert!(out.status.success(), "pg_ctl start: {}\n{log}", String::from_utf8_lossy(&out.stderr));
    }

    /// Stops the server at once (clients are cut off), as a crash or a network outage would.
    pub fn stop(&self) {
        let out = pg(&self.bin, "pg_ctl", self.as_postgres)
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "-w", "stop"])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The URL of database `db` for ct-read's `--postgres`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; returns its URL.
    pub fn create_db(&self, db: &str) -> String {
        self.psql(&["-c", &format!("CREATE DATABASE {db}")]);
        self.url(db)
    }

    /// psql as the superuser over TCP on database `postgres`, failing on the first error.
    pub fn psql(&self, args: &[&str]) -> String {
        self.psql_on("postgres", args)
    }

    /// psql on database `db`, failing on the first error.
    pub fn psql_on(&self, db: &str, args: &[&str]) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-At"])
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "psql {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = pg(&self.bin, "pg_ctl", self.as_postgres)
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "-w", "stop"])
            .output();
    }
}
