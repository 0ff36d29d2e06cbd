//! A throwaway InfluxDB 1.x (Debian's `influxdb`, /usr/bin/influxd) for the database tests: its
//! own config, meta, data and WAL directories in a temp dir, HTTP and RPC on 127.0.0.1 at free
//! ports, killed on drop. Included by the tests that use it
//! (`#[path = "common/influx.rs"] mod influx;`).

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const INFLUXD: &str = "/usr/bin/influxd";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct InfluxServer {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl InfluxServer {
    /// A running server, or `None` (with a loud note) where influxd is not installed; as root
    /// (CI, which installs it) a missing influxd fails the test instead.
    pub fn start_or_skip(test: &str) -> Option<InfluxServer> {
        if !Path::new(INFLUXD).exists() {
            let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
            assert!(!root, "running as root but {INFLUXD} is missing: install the `influxdb` package");
            eprintln!("\n*** SKIPPED {test}: {INFLUXD} not found (Debian package influxdb) ***\n");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let (port, rpc) = (free_port(), free_port());
        let config = format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
             [monitor]\n  store-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{port}\"\n  log-enabled = false\n"
        );
        std::fs::write(dir.path().join("influxdb.conf"), config).unwrap();
        let mut server = InfluxServer { port, child: None, dir };
        server.start_again();
        Some(server)
    }

    /// Starts influxd (again, after [`InfluxServer::kill`]) on the same ports and data, and
    /// waits until it answers `/ping`.
    pub fn start_again(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("log")).unwrap();
        let child = Command::new(INFLUXD)
            .args(["run", "-config"])
            .arg(self.dir.path().join("influxdb.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let t = Instant::now();
        while ureq::get(&format!("http://127.0.0.1:{}/ping", self.port)).call().is_err() {
            let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
            assert!(t.elapsed() < Duration::from_secs(30), "influxd did not come up:\n{log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// The write URL of database `db` (1.x API).
    pub fn write_url(&self, db: &str) -> String {
        format!("http://127.0.0.1:{}/write?db={db}", self.port)
    }

    /// Runs an InfluxQL statement through `/query` (times as epoch milliseconds); returns the
    /// JSON answer.
    pub fn query(&self, db: &str, q: &str) -> serde_json::Value {
        let url = format!("http://127.0.0.1:{}/query", self.port);
        let resp = ureq::post(&url).send_form(&[("db", db), ("q", q), ("epoch", "ms")]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
        assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
        v
    }

    /// The rows of the first series of a query's answer.
    pub fn values(&self, db: &str, q: &str) -> Vec<Vec<serde_json::Value>> {
        let v = self.query(db, q);
        let series = &v["results"][0]["series"];
        if series.is_null() {
            return Vec::new();
        }
        series[0]["values"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().clone()).collect()
    }
}

impl Drop for InfluxServer {
    fn drop(&mut self) {
        self.kill();
    }
}
