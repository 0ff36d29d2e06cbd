//! Readings into InfluxDB (`--influx URL`) as line protocol over HTTP, for Grafana.
//!
//! The URL is the database's write endpoint, which says which API it is:
//!
//! - InfluxDB 1.x: `http://host:8086/write?db=DB` (optionally `&rp=POLICY`, `&u=USER&p=PASSWORD`),
//! - InfluxDB 2.x: `http://host:8086/api/v2/write?org=ORG&bucket=BUCKET` with a token
//!   (`--influx-token`, or the `INFLUX_TOKEN` environment variable so it stays out of `ps`),
//!   sent as `Authorization: Token ...` (1.x accepts `USER:PASSWORD` as a token as well).
//!
//! `precision=ms` is added: every point is stamped with its reading's time in milliseconds.
//! One point per reading: measurement `ct_meter`, tag `meter` (the node id), fields `irms_a`
//! (current, A), `watts` (power, W), `va` (apparent power, VA), `kwh` (energy since the
//! session started, kWh), `mains_hz` (frequency, Hz; absent when unmeasured), `duration_s`,
//! `clock_ppm` (the device clock against the host's, ppm; absent while the nominal rate is used),
//! `bound_pct` (the bound the reading states for its own error, percent; absent where the usual
//! target holds), `bound_below_pct` (how far below its truth it can be, percent, where that
//! differs from `bound_pct`; absent elsewhere),
//! `flags` (a string, empty for none) and `lost_samples` (an integer). A point written twice
//! (a batch repeated after a lost acknowledgement) overwrites itself with the same values.
//!
//! Escaping follows the line protocol reference: in the measurement, commas and spaces; in tag
//! keys and values, commas, equals signs and spaces; in string field values, double quotes and
//! backslashes. A newline cannot be escaped in a tag and ends a line, so one in a meter id is
//! written as a space.

use std::time::Duration;

use super::remote::{Remote, RemoteError, Row};

pub const MEASUREMENT: &str = "ct_meter";

/// Which write API the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/write?db=`.
    V1,
    /// `/api/v2/write?org=&bucket=`.
    V2,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InfluxConfig {
    /// The write URL with `precision=ms` added.
    pub write: url::Url,
    pub api: Api,
    /// Sent as `Authorization: Token ...`.
    pub token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InfluxError {
    #[error(
        "--influx {url}: {why}\nhelp: InfluxDB 1.x: http://HOST:8086/write?db=DB; \
         2.x: http://HOST:8086/api/v2/write?org=ORG&bucket=BUCKET with --influx-token or INFLUX_TOKEN"
    )]
    Url { url: String, why: String },
    #[error("InfluxDB {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: Box<ureq::Transport>,
    },
    #[error("InfluxDB {url}: HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
}

impl InfluxConfig {
    pub fn parse(url: &str, token: Option<String>) -> Result<Self, InfluxError> {
        let bad = |why: &str| InfluxError::Url { url: url.to_owned(), why: why.to_owned() };
        let mut write = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(write.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        let has = |k: &str| write.query_pairs().any(|(q, v)| q == k && !v.is_empty());
        let api = match write.path().trim_end_matches('/') {
            "/write" if has("db") => Api::V1,
            "/write" => return Err(bad("InfluxDB 1.x needs the database: /write?db=DB")),
            "/api/v2/write" if has("org") && has("bucket") => Api::V2,
            "/api/v2/write" => return Err(bad("InfluxDB 2.x needs org= and bucket=")),
            _ => return Err(bad("the path must be /write (1.x) or /api/v2/write (2.x)")),
        };
        if api == Api::V2 && token.is_none() {
            return Err(bad("InfluxDB 2.x needs a token (--influx-token or INFLUX_TOKEN)"));
        }
        if has("precision") {
            return Err(bad("leave precision= out: ct-read writes milliseconds (precision=ms)"));
        }
        write.query_pairs_mut().append_pair("precision", "ms");
        Ok(InfluxConfig { write, api, token })
    }

    /// The URL without credentials in its query, for notices.
    pub fn shown(&self) -> String {
        let mut u = self.write.clone();
        let kept: Vec<(String, String)> = self
            .write
            .query_pairs()
            .filter(|(k, _)| k != "p" && k != "precision")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(kept);
        let _ = u.set_password(None);
        u.to_string()
    }
}

/// `s` escaped for a tag key or value (or, without `=`, the measurement).
fn escape_tag(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ',' | '=' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push_str("\\ "),
            c => out.push(c),
        }
    }
    out
}

/// `s` as a string field value: quoted, with `"` and `\` escaped.
fn string_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// One line of line protocol (no newline).
pub fn line(r: &Row) -> String {
    let mut fields = Vec::with_capacity(8);
    for (k, v) in [
        ("irms_a", Some(r.irms_a)),
        ("watts", Some(r.watts)),
        ("va", Some(r.va)),
        ("kwh", Some(r.kwh)),
        ("mains_hz", r.mains_hz),
        ("duration_s", Some(r.duration_s)),
        ("clock_ppm", r.clock_ppm),
        ("bound_pct", r.bound_pct),
        ("bound_below_pct", r.bound_below_pct),
    ] {
        // Line protocol has no NaN or infinity; a field without a value is left out.
        if let Some(v) = v.filter(|v| v.is_finite()) {
            fields.push(format!("{k}={v}"));
        }
    }
    fields.push(format!("flags={}", string_field(&r.flags)));
    fields.push(format!("lost_samples={}i", r.lost_samples));
    format!("{MEASUREMENT},meter={} {} {}", escape_tag(&r.meter), fields.join(","), r.unix_ms)
}

/// An InfluxDB database.
pub struct InfluxRemote {
    config: InfluxConfig,
    agent: ureq::Agent,
}

impl InfluxRemote {
    pub fn new(config: InfluxConfig) -> Self {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(15)).build();
        InfluxRemote { config, agent }
    }

    fn request(&self, req: ureq::Request) -> ureq::Request {
        match &self.config.token {
            Some(t) => req.set("Authorization", &format!("Token {t}")),
            None => req,
        }
    }

    fn classify(&self, e: ureq::Error) -> RemoteError {
        let url = self.config.shown();
        match e {
            ureq::Error::Status(status, resp) => {
                let body = resp.into_string().unwrap_or_default().chars().take(300).collect::<String>();
                let e = InfluxError::Status { url, status, body: body.trim().to_owned() };
                // 400: the server will never take these lines; anything else (401, 404 for a
                // database not created yet, 5xx) can be put right on the server while the
                // readings wait.
                if status == 400 {
                    RemoteError::Fatal(Box::new(e))
                } else {
                    RemoteError::Retry(Box::new(e))
                }
            }
            ureq::Error::Transport(t) => {
                RemoteError::Retry(Box::new(InfluxError::Transport { url, source: Box::new(t) }))
            }
        }
    }
}

impl Remote for InfluxRemote {
    fn name(&self) -> String {
        self.config.shown()
    }

    /// `GET /ping`, which both versions answer.
    fn open(&mut self) -> Result<(), RemoteError> {
        let mut ping = self.config.write.clone();
        ping.set_path("/ping");
        ping.set_query(None);
        self.request(self.agent.request_url("GET", &ping)).call().map(|_| ()).map_err(|e| self.classify(e))
    }

    fn send(&mut self, rows: &[Row]) -> Result<u64, RemoteError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut body = String::with_capacity(rows.len() * 160);
        for r in rows {
            body.push_str(&line(r));
            body.push('\n');
        }
        self.request(self.agent.request_url("POST", &self.config.write))
            .set("Content-Type", "text/plain; charset=utf-8")
            .send_string(&body)
            .map_err(|e| self.classify(e))?;
        Ok(rows.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(meter: &str, flags: &str) -> Row {
        Row {
            meter: meter.into(),
            unix_ms: 1_796_013_392_892,
            t_s: 1.001,
            duration_s: 1.0008,
            irms_a: 4.0043,
            va: 920.98,
            watts: 920.98,
            kwh: 0.000256,
            mains_hz: Some(50.0),
            flags: flags.into(),
            lost_samples: 3,
            clock_ppm: None,
            bound_pct: None,
            bound_below_pct: None,
        }
    }

    /// A plain reading: every field, typed (the integer with `i`, the string quoted), and the
    /// time in milliseconds.
    #[test]
    fn a_reading_is_one_point() {
        assert_eq!(
            line(&row("kitchen", "")),
            "ct_meter,meter=kitchen irms_a=4.0043,watts=920.98,va=920.98,kwh=0.000256,mains_hz=50,\
             duration_s=1.0008,flags=\"\",lost_samples=3i 1796013392892"
        );
        let mut r = row("kitchen", "gap|low");
        r.mains_hz = None;
        r.irms_a = f64::NAN;
        r.clock_ppm = Some(-31.0);
        r.bound_pct = Some(12.5);
        r.bound_below_pct = Some(60.25);
        assert_eq!(
            line(&r),
            "ct_meter,meter=kitchen watts=920.98,va=920.98,kwh=0.000256,duration_s=1.0008,clock_ppm=-31,\
             bound_pct=12.5,bound_below_pct=60.25,flags=\"gap|low\",lost_samples=3i 1796013392892"
        );
    }

    /// The characters the line protocol reference says to escape: in a tag value comma, equals
    /// sign and space; in a string field double quote and backslash (and nothing else: a
    /// comma or `=` in a string field stays as it is).
    #[test]
    fn tricky_characters_are_escaped_as_the_spec_says() {
        let l = line(&row("a,b=c d\\e\nf", "say \"hi\", x=1 \\ end"));
        assert!(l.starts_with("ct_meter,meter=a\\,b\\=c\\ d\\e\\ f irms_a="), "{l}");
        assert!(l.contains(",flags=\"say \\\"hi\\\", x=1 \\\\ end\",lost_samples=3i 1796013392892"), "{l}");
        assert_eq!(l.lines().count(), 1);
    }

    #[test]
    fn urls_name_the_api_and_bad_ones_say_why() {
        let v1 = InfluxConfig::parse("http://127.0.0.1:8086/write?db=energy&u=me&p=secret", None).unwrap();
        assert_eq!(v1.api, Api::V1);
        assert_eq!(v1.write.as_str(), "http://127.0.0.1:8086/write?db=energy&u=me&p=secret&precision=ms");
        assert_eq!(v1.shown(), "http://127.0.0.1:8086/write?db=energy&u=me");
        let v2 = InfluxConfig::parse("http://h:8086/api/v2/write?org=home&bucket=meter", Some("t0k".into())).unwrap();
        assert_eq!(v2.api, Api::V2);
        for (url, token, why) in [
            ("http://h:8086/write", None, "needs the database"),
            ("http://h:8086/api/v2/write?org=home", Some("t"), "needs org= and bucket="),
            ("http://h:8086/api/v2/write?org=home&bucket=b", None, "needs a token"),
            ("http://h:8086/query?db=x", None, "the path must be"),
            ("ftp://h/write?db=x", None, "scheme"),
            ("http://h:8086/write?db=x&precision=s", None, "precision"),
        ] {
            let e = InfluxConfig::parse(url, token.map(String::from)).unwrap_err();
            assert!(matches!(e, InfluxError::Url { .. }) && e.to_string().contains(why), "{url}: {e}");
        }
    }
}
