//! Prometheus metrics over HTTP (`--prometheus ADDR:PORT`): `/metrics` for scrapers, a short
//! page at `/` for people who open the address in a browser.
//!
//! Names follow the Prometheus naming guide (base units in the name, counters ending in
//! `_total`, a `_build_info` gauge) and every series carries a `node` label, so several meters
//! can share one Prometheus. The energy counter is the lifetime total in joules
//! ([`crate::lifetime`]); power per interval and energy per day come from `rate()` and
//! `increase()` on it. Samples carry no timestamps: Prometheus stamps them at the scrape.
//!
//! How far the last reading can be trusted ([`trust`]): its error bound (the wider side, and each
//! side apart: `_above`, `_below`) and the sample clock's
//! offset as ratios (the guide's base unit for percentages; ppm is no base unit either), each
//! absent while there is none (as the mains frequency is while it cannot be told: a gap in a
//! graph, and `absent()` in an alert, rather than a NaN sample), and its flags as one 0/1 gauge
//! per flag, the `flag` label naming it as the JSON does.
//!
//! The exposition is written by `prometheus-client`, the Prometheus project's own crate, in
//! the OpenMetrics text format that Prometheus negotiates by default; the HTTP server is
//! `tiny_http` on a thread of its own. Metering never waits for a scrape: a reading only
//! replaces a small snapshot under a mutex that the server holds just long enough to copy it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::{trust, End, ReadingSink, SinkError};
use crate::estimate::{Flags, Reading};
use crate::notice::Notice;

/// The content type of the OpenMetrics text exposition.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `ctmeter_up` turns 0 when no reading came for this many reading windows (and at least
/// [`MIN_STALE`]): the device is unplugged, silent or the firmware hung.
const STALE_WINDOWS: f64 = 3.0;
const MIN_STALE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("--prometheus {addr}: cannot listen there: {source}")]
    Bind {
        addr: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    #[error("--prometheus {addr}: not ADDR:PORT (e.g. 127.0.0.1:9464 or [::]:9464)")]
    Address { addr: String },
}

impl From<PrometheusError> for SinkError {
    fn from(e: PrometheusError) -> Self {
        SinkError::new(e)
    }
}

/// A node id as Prometheus labels and MQTT topics can carry it: `[A-Za-z0-9_-]`, other
/// characters replaced by `_`.
pub fn sanitize_node(s: &str) -> String {
    let id: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if id.is_empty() {
        "node".into()
    } else {
        id
    }
}

/// The latest figures, replaced by each reading.
#[derive(Debug, Default, Clone, Copy)]
struct Snapshot {
    amps: f64,
    watts: f64,
    va: f64,
    hz: Option<f64>,
    /// The last reading's error bounds and clock offset, ratios ([`trust`]).
    bounds: Option<trust::Bounds>,
    clock: Option<f64>,
    flags: Flags,
    /// Lifetime energy; `None` until the first reading of a live session brings it (a 0
    /// before it would look like a counter reset to Prometheus).
    joules: Option<f64>,
    lost_samples: u64,
    readings: u64,
    last: Option<Instant>,
    stale_after: Duration,
    /// The session ended: nothing more will come.
    finished: bool,
}

impl Snapshot {
    fn up(&self, now: Instant) -> bool {
        !self.finished && self.last.is_some_and(|t| now.duration_since(t) <= self.stale_after)
    }
}

#[derive(Debug)]
struct Shared {
    snap: Mutex<Snapshot>,
    volts: f64,
}

impl Shared {
    fn snapshot(&self) -> Snapshot {
        *self.snap.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, unit: Option<Unit>, v: f64) -> Result<(), std::fmt::Error> {
    ConstGauge::new(v).encode(e.encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?)
}

impl Collector for Shared {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.snapshot();
        let up = s.up(Instant::now());
        let m = e.encode_descriptor(
            "up",
            "1 while readings arrive from the meter, 0 when it is unplugged, silent or stopped.",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(i64::from(up)).encode(m)?;
        if s.last.is_some() {
            gauge(
                &mut e,
                "current",
                "RMS current through the clamp over the last reading window.",
                Some(Unit::Amperes),
                s.amps,
            )?;
            gauge(
                &mut e,
                "power",
                "Power estimated from the current: assumed voltage x current x --pf (apparent power without --pf).",
                Some(Unit::Other("watts".into())),
                s.watts,
            )?;
            gauge(
                &mut e,
                "apparent_power",
                "Apparent power estimated from the current: assumed voltage x current.",
                Some(Unit::Other("voltamperes".into())),
                s.va,
            )?;
        }
        if s.last.is_some() {
            if let Some(b) = s.bounds {
                gauge(
                    &mut e,
                    "reading_error_bound",
                    "Relative error the last reading is held to: the bound it states (flagged changing or approx, \
                     or a narrow waveform; the wider of its sides), else its usual target (0.02 from 0.5 A, 0.05 \
                     at 0.2-0.5 A); absent where it is held to none (under 0.2 A, short, over range).",
                    Some(Unit::Other("ratio".into())),
                    b.wider(),
                )?;
                gauge(
                    &mut e,
                    "reading_error_bound_above",
                    "How far above its truth the last reading may be, relative to the truth (reading_error_bound's \
                     upper side).",
                    Some(Unit::Other("ratio".into())),
                    b.above,
                )?;
                gauge(
                    &mut e,
                    "reading_error_bound_below",
                    "How far below its truth the last reading may be, relative to the truth (reading_error_bound's \
                     lower side: narrower where the window may read a narrow waveform high but not as low, wider \
                     where it saw only a sliver of a new load).",
                    Some(Unit::Other("ratio".into())),
                    b.below,
                )?;
            }
            let mut m = e.encode_descriptor(
                "reading_flag",
                "1 where the last reading carries the flag named by the flag label, else 0.",
                None,
                MetricType::Gauge,
            )?;
            for (name, set) in trust::flags(s.flags) {
                ConstGauge::new(i64::from(set)).encode(m.encode_family(&[("flag", name.as_str())])?)?;
            }
        }
        // The clock and the mains are measured from the device's samples: with the device gone
        // they go with the current.
        if let Some(c) = s.clock.filter(|_| s.last.is_some()) {
            gauge(
                &mut e,
                "sample_clock_offset",
                "The device's sample clock against this computer's, measured: its rate is the nominal times \
                 (1 + this); absent until the measurement settles (about a minute), while the nominal rate is used.",
                Some(Unit::Other("ratio".into())),
                c,
            )?;
        }
        if let Some(hz) = s.hz.filter(|_| s.last.is_some()) {
            gauge(
                &mut e,
                "mains_frequency",
                "Mains frequency measured from the current's waveform.",
                Some(Unit::Other("hertz".into())),
                hz,
            )?;
        }
        if let Some(j) = s.joules {
            let m = e.encode_descriptor(
                "energy",
                "Lifetime energy estimated from the current (kept across restarts with --state).",
                Some(&Unit::Joules),
                MetricType::Counter,
            )?;
            ConstCounter::new(j).encode(m)?;
        }
        let m = e.encode_descriptor(
            "lost_samples",
            "Samples known to be lost (gaps, overruns, corruption, unplugging).",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(s.lost_samples).encode(m)?;
        let m =
            e.encode_descriptor("readings", "Readings computed since ct-read started.", None, MetricType::Counter)?;
        ConstCounter::new(s.readings).encode(m)?;
        gauge(
            &mut e,
            "assumed_voltage",
            "Mains voltage assumed for power and energy (--volts; not measured).",
            Some(Unit::Volts),
            self.volts,
        )?;
        let mut m =
            e.encode_descriptor("build_info", "The ct-read build serving these metrics.", None, MetricType::Gauge)?;
        ConstGauge::new(1i64).encode(m.encode_family(&[("version", env!("CARGO_PKG_VERSION"))])?)?;
        Ok(())
    }
}

/// The landing page at `/`.
fn landing_page(node: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>ct-read</title></head><body>\n<h1>ct-read {}</h1>\n<p>Efergy clamp \
         meter, node <code>{node}</code>. Power and energy are estimated from the current at an assumed voltage.</p>\n<p><a \
         href=\"/metrics\">Metrics</a></p>\n</body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Serves the metrics of the readings it is given until dropped.
pub struct PrometheusSink {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl PrometheusSink {
    /// Listens on `addr` (`HOST:PORT`; port 0 picks a free one, see
    /// [`PrometheusSink::local_addr`]) for a meter labelled `node`, powered at `volts`.
    pub fn start(addr: &str, node: &str, volts: f64) -> Result<Self, PrometheusError> {
        let sock: SocketAddr = addr.parse().map_err(|_| PrometheusError::Address { addr: addr.into() })?;
        let server =
            tiny_http::Server::http(sock).map_err(|source| PrometheusError::Bind { addr: addr.into(), source })?;
        let local = server.server_addr().to_ip().expect("a TCP listener has an IP address");
        let server = Arc::new(server);
        let shared = Arc::new(Shared { snap: Mutex::new(Snapshot::default()), volts });
        let mut registry = Registry::with_prefix_and_labels(
            "ctmeter",
            [(std::borrow::Cow::Borrowed("node"), std::borrow::Cow::Owned(node.to_owned()))].into_iter(),
        );
        registry.register_collector(Box::new(shared.clone()));
        let page = landing_page(node);
        let thread = {
            let server = server.clone();
            std::thread::Builder::new()
                .name("prometheus".into())
                .spawn(move || serve(&server, &registry, &page))
                .expect("spawning the metrics thread")
        };
        Ok(PrometheusSink { shared, server, addr: local, thread: Some(thread) })
    }

    /// Where the metrics are served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn update(&self, f: impl FnOnce(&mut Snapshot)) {
        f(&mut self.shared.snap.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// Answers requests until the server is unblocked. A client that goes away mid-answer only
/// loses its answer.
fn serve(server: &tiny_http::Server, registry: &Registry, page: &str) {
    for req in server.incoming_requests() {
        let path = req.url().split('?').next().unwrap_or("");
        let header = |v: &str| tiny_http::Header::from_bytes("Content-Type", v).expect("a valid header");
        let res = match (req.method(), path) {
            (tiny_http::Method::Get | tiny_http::Method::Head, "/metrics") => {
                let mut body = String::new();
                prometheus_client::encoding::text::encode(&mut body, registry).expect("writing to a String");
                req.respond(tiny_http::Response::from_string(body).with_header(header(CONTENT_TYPE)))
            }
            (tiny_http::Method::Get | tiny_http::Method::Head, "/") => {
                req.respond(tiny_http::Response::from_string(page).with_header(header("text/html; charset=utf-8")))
            }
            _ => req.respond(tiny_http::Response::from_string("not found: try /metrics\n").with_status_code(404)),
        };
        drop(res);
    }
}

impl ReadingSink for PrometheusSink {
    /// A reading without a lifetime total (a recording): the gauges only.
    fn write(&mut self, r: &Reading, _wall: Option<SystemTime>) -> Result<(), SinkError> {
        self.update(|s| {
            s.amps = r.irms_a;
            s.watts = r.watts;
            s.va = r.va;
            s.hz = r.hz;
            s.bounds = trust::error_bounds(r);
            s.clock = trust::clock_offset_ratio(r);
            s.flags = r.flags;
            s.lost_samples += r.lost_samples;
            s.readings += 1;
            s.last = Some(Instant::now());
            s.stale_after = MIN_STALE.max(Duration::from_secs_f64(STALE_WINDOWS * r.duration_s.clamp(0.0, 3600.0)));
        });
        Ok(())
    }

    fn write_with_lifetime(&mut self, r: &Reading, wall: Option<SystemTime>, kwh: f64) -> Result<(), SinkError> {
        self.write(r, wall)?;
        self.update(|s| s.joules = Some(s.joules.unwrap_or(0.0).max(kwh * 3.6e6)));
        Ok(())
    }

    /// The device went away: `ctmeter_up` says so at once rather than after the stale time.
    /// The session's last total, once written to the state file, is published too.
    fn notice(&mut self, notice: &Notice) {
        match notice {
            Notice::Lost { .. } => self.update(|s| s.last = None),
            Notice::LifetimeEnergy { kwh, .. } => {
                self.update(|s| s.joules = Some(s.joules.unwrap_or(0.0).max(kwh * 3.6e6)))
            }
            _ => {}
        }
    }

    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        self.update(|s| s.finished = true);
        Ok(())
    }
}

impl Drop for PrometheusSink {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A plain HTTP/1.0 GET, as a scraper would send it.
    fn get(addr: SocketAddr, path: &str) -> (String, String) {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        write!(c, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut text = String::new();
        c.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), body.to_owned())
    }

    fn reading(kwh: f64, hz: Option<f64>) -> Reading {
        Reading {
            t_s: 1.0,
            duration_s: 1.0,
            samples: 8000,
            lost_samples: 3,
            irms_a: 4.5,
            va: 1035.0,
            watts: 1035.0,
            kwh,
            hz,
            flags: Default::default(),
            zero_offset_codes: None,
            zero_corrected: true,
            clock_ppm: None,
            bound_pct: None,
            bound_below_pct: None,
        }
    }

    #[test]
    fn serves_the_metrics_named_by_the_guide_with_the_node_label() {
        let mut sink = PrometheusSink::start("127.0.0.1:0", "virtual", 230.0).unwrap();
        let addr = sink.local_addr();
        let (_, before) = get(addr, "/metrics");
        assert!(before.contains("ctmeter_up{node=\"virtual\"} 0"), "{before}");
        assert!(!before.contains("ctmeter_energy_joules_total"), "no energy before a reading: {before}");
        assert!(!before.contains("ctmeter_current_amperes{"), "{before}");

        sink.write_with_lifetime(&reading(0.001, Some(50.02)), None, 2.0).unwrap();
        sink.write_with_lifetime(&reading(0.002, None), None, 2.5).unwrap();
        let (head, m) = get(addr, "/metrics");
        assert!(head.contains("application/openmetrics-text"), "{head}");
        for line in [
            "ctmeter_up{node=\"virtual\"} 1",
            "ctmeter_current_amperes{node=\"virtual\"} 4.5",
            "ctmeter_power_watts{node=\"virtual\"} 1035.0",
            "ctmeter_apparent_power_voltamperes{node=\"virtual\"} 1035.0",
            "ctmeter_energy_joules_total{node=\"virtual\"} 9000000.0",
            "ctmeter_lost_samples_total{node=\"virtual\"} 6",
            "ctmeter_readings_total{node=\"virtual\"} 2",
            "ctmeter_assumed_voltage_volts{node=\"virtual\"} 230.0",
            "# TYPE ctmeter_energy_joules counter",
            "# HELP ctmeter_current_amperes ",
            "# UNIT ctmeter_energy_joules joules",
        ] {
            assert!(
                m.lines().any(|l| l == line || (line.starts_with("# HELP") && l.starts_with(line))),
                "no `{line}` in\n{m}"
            );
        }
        assert!(
            m.contains("ctmeter_build_info{node=\"virtual\",version=\"") || m.contains("ctmeter_build_info{version=\""),
            "{m}"
        );
        assert!(!m.contains("ctmeter_mains_frequency_hertz{"), "the last reading had no frequency: {m}");
        // 4.5 A, unflagged, stating no bound: its usual target, 2 % (README); no clock yet.
        for side in ["", "_above", "_below"] {
            let line = format!("ctmeter_reading_error_bound{side}_ratio{{node=\"virtual\"}} 0.02");
            assert!(m.lines().any(|l| l == line), "no `{line}` in\n{m}");
        }
        assert!(m.lines().any(|l| l == "# UNIT ctmeter_reading_error_bound_ratio ratio"), "{m}");
        assert!(!m.contains("ctmeter_sample_clock_offset_ratio{"), "{m}");
        let flags: Vec<&str> = m.lines().filter(|l| l.starts_with("ctmeter_reading_flag{")).collect();
        assert_eq!(flags.len(), 6, "{m}");
        assert!(flags.iter().all(|l| l.ends_with(" 0")), "{flags:?}");

        let mut changing = reading(0.003, Some(50.0));
        changing.flags.changing = true;
        changing.bound_pct = Some(12.5);
        changing.bound_below_pct = Some(60.0);
        changing.clock_ppm = Some(-2500.0);
        sink.write_with_lifetime(&changing, None, 2.5).unwrap();
        let (_, m) = get(addr, "/metrics");
        for line in [
            "ctmeter_reading_error_bound_ratio{node=\"virtual\"} 0.6",
            "ctmeter_reading_error_bound_above_ratio{node=\"virtual\"} 0.125",
            "ctmeter_reading_error_bound_below_ratio{node=\"virtual\"} 0.6",
            "ctmeter_sample_clock_offset_ratio{node=\"virtual\"} -0.0025",
            "ctmeter_reading_flag{node=\"virtual\",flag=\"changing\"} 1",
            "ctmeter_reading_flag{node=\"virtual\",flag=\"over_range\"} 0",
        ] {
            assert!(m.lines().any(|l| l == line), "no `{line}` in\n{m}");
        }

        let (head, page) = get(addr, "/");
        assert!(head.contains("200") && page.contains("href=\"/metrics\""), "{head}\n{page}");
        let (head, _) = get(addr, "/nothing");
        assert!(head.contains("404"), "{head}");

        sink.notice(&Notice::Lost { port: "p".into(), error: "gone".into() });
        let gone = get(addr, "/metrics").1;
        assert!(gone.contains("ctmeter_up{node=\"virtual\"} 0"), "{gone}");
        // Nothing measured from the device's samples outlives it.
        for name in [
            "current_amperes",
            "mains_frequency_hertz",
            "sample_clock_offset_ratio",
            "reading_error_bound_ratio",
            "reading_error_bound_above_ratio",
            "reading_error_bound_below_ratio",
        ] {
            assert!(!gone.contains(&format!("ctmeter_{name}{{")), "{name} after the device went: {gone}");
        }
        sink.finish(End::Complete).unwrap();
        drop(sink);
        // tiny_http closes its listener on its accept thread, shortly after the drop.
        let closed = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            std::net::TcpStream::connect(addr).is_err()
        });
        assert!(closed, "still listening after drop");
    }

    #[test]
    fn a_port_in_use_or_a_bad_address_is_a_clear_error() {
        let first = PrometheusSink::start("127.0.0.1:0", "a", 230.0).unwrap();
        let addr = first.local_addr().to_string();
        let e = PrometheusSink::start(&addr, "b", 230.0).err().unwrap().to_string();
        assert!(e.contains(&addr) && e.contains("cannot listen"), "{e}");
        let e = PrometheusSink::start("localhost", "b", 230.0).err().unwrap().to_string();
        assert!(e.contains("not ADDR:PORT"), "{e}");
    }

    #[test]
    fn node_ids_keep_only_safe_characters() {
        assert_eq!(sanitize_node("ttyACM0"), "ttyACM0");
        assert_eq!(sanitize_node("usb-Texas_Instruments 1.2"), "usb-Texas_Instruments_1_2");
        assert_eq!(sanitize_node(""), "node");
    }
}
