//! Readings over MQTT (`--mqtt mqtt://[user:pass@]host[:port]`), laid out for Home Assistant's
//! MQTT discovery, and optionally in emonhub's layout (`--mqtt-emon`).
//!
//! Topics, for node `ID`:
//! - `ct-read/ID/status`: `online` while readings flow, `offline` when the device is unplugged
//!   or silent, when ct-read stops, and (as the connection's last will) when ct-read dies or
//!   loses the network. Retained, QoS 1, so Home Assistant knows it at once after a restart.
//! - `ct-read/ID/state`: the `--json` object of the latest reading plus `lifetime_kwh` (the
//!   total persisted in the state file, which never goes down: Home Assistant's Energy
//!   dashboard takes a drop for a new meter), `lost_samples_total`, `error_bound_pct` (what
//!   the reading is held to, [`trust::error_bound`]), `error_bound_above_pct` and
//!   `error_bound_below_pct` (its sides, [`trust::error_bounds`]: the error bound entity's
//!   attributes `above_pct` and `below_pct`) and `flags_text` (the CSV's form of the
//!   flags). Retained, so a restarted Home Assistant shows the figures without waiting for the
//!   next reading. Values a reading does not have are JSON `null`, which the discovery's
//!   templates turn into `None`, Home Assistant's "unknown".
//! - `<prefix>/sensor/ID/<key>/config` and `<prefix>/binary_sensor/ID/over_range/config`:
//!   discovery, retained, sent on every (re)connection and whenever Home Assistant announces
//!   `online` on `<prefix>/status` (it forgets unretained configs when it restarts).
//! - with `--mqtt-emon`, `emon/ID/<key>`: plain numbers, not retained, as emonhub publishes
//!   them for Emoncms.
//!
//! Metering never waits for the broker: the MQTT connection runs on a thread of its own, and
//! a reading only replaces the latest state in a small shared slot and queues its messages
//! without blocking (rumqttc's bounded request channel; what does not fit is dropped, and the
//! slot's latest state is sent again on reconnection). The thread retries a lost broker with
//! back-off, because rumqttc's event loop reconnects as fast as it is polled.
//!
//! `mqtts://` uses rustls with the `ring` provider and the system's CA certificates
//! (rustls-native-certs), or only those of `--mqtt-ca FILE` (a broker with its own CA, as
//! home set-ups often have), which builds from crates.io without OpenSSL or aws-lc's C build.
//! A broker whose certificate the CAs do not vouch for is an unreachable broker: the
//! handshake's error is told, metering goes on, and the connection is retried.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use rumqttc::{Client, Connection, Event, Incoming, LastWill, MqttOptions, Outgoing, QoS, Transport};
use serde_json::json;

use super::{trust, End, ReadingSink, SinkError};
use crate::estimate::Reading;
use crate::notice::Notice;

/// How often the broker hears from ct-read at least; a connection silent for 1.5 times this
/// (a power cut, a pulled network cable) makes the broker publish the last will.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Reconnection back-off: the first retry comes soon (a broker restart takes a second), later
/// ones no more often than this, so a broker down for hours is not hammered.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Messages queued for the connection thread; readings come about once a second, so this
/// only fills when the broker stalls, and then the latest state is what matters.
const QUEUE: usize = 64;
/// How long stopping waits for `offline` and the disconnection to reach the broker.
const STOP_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("--mqtt {url}: {why} (expected mqtt://[user:password@]host[:port] or mqtts://...)")]
    Url { url: String, why: &'static str },
    #[error("--mqtt {url}: no CA certificates found on this system for TLS (install ca-certificates)")]
    NoCaCertificates { url: String },
    #[error("--mqtt-ca {}: {why}", path.display())]
    CaFile { path: std::path::PathBuf, why: String },
    #[error("--mqtt-discovery-prefix `{prefix}`: use a topic without wildcards (`+`, `#`), e.g. homeassistant")]
    Prefix { prefix: String },
}

impl From<MqttError> for SinkError {
    fn from(e: MqttError) -> Self {
        SinkError::new(e)
    }
}

/// A broker address from `--mqtt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl BrokerUrl {
    /// `mqtt://[user[:password]@]host[:port]` (port 1883) or `mqtts://` (port 8883); user and
    /// password may be percent-encoded (`%40` for `@`), an IPv6 host is written in brackets.
    pub fn parse(url: &str) -> Result<Self, MqttError> {
        let err = |why| MqttError::Url { url: redact(url), why };
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else {
            return Err(err("the scheme must be mqtt:// or mqtts://"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(err("no path or query is used"));
        }
        let (login, hostport) = match rest.rsplit_once('@') {
            Some((l, h)) => (Some(l), h),
            None => (None, rest),
        };
        let (user, password) = match login {
            None => (None, None),
            Some(l) => {
                let (u, p) = match l.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (l, None),
                };
                let u = percent_decode(u).ok_or_else(|| err("bad percent-encoding in the user"))?;
                let p = match p {
                    Some(p) => Some(percent_decode(p).ok_or_else(|| err("bad percent-encoding in the password"))?),
                    None => None,
                };
                (Some(u), p)
            }
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| err("unclosed `[` in the host"))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(err("no host"));
        }
        let port = match port {
            None => {
                if tls {
                    8883
                } else {
                    1883
                }
            }
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| err("the port is not 1..65535"))?,
        };
        Ok(BrokerUrl { tls, host: host.to_owned(), port, user, password })
    }

    /// The address as it can be shown: without the password.
    pub fn display(&self) -> String {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        let user = self.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{scheme}://{user}{host}:{}", self.port)
    }
}

/// A URL as it can go into an error message: the password replaced by `***`.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((login, host)) if login.contains(':') => {
                format!("{scheme}://{}:***@{host}", login.split_once(':').map_or(login, |(u, _)| u))
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What the MQTT sink publishes, and where.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub broker: BrokerUrl,
    /// The node id, `[A-Za-z0-9_-]` ([`super::prometheus::sanitize_node`]).
    pub node: String,
    /// Home Assistant's discovery prefix (its MQTT integration's setting).
    pub discovery_prefix: String,
    /// Also publish emonhub's `emon/ID/<key>` plain numbers.
    pub emon: bool,
    /// The reading window, s: Home Assistant marks the entities unavailable when no state came
    /// for several windows (`expire_after`).
    pub window_s: f64,
    /// Whether watts are real power (`--pf` given) or apparent power: the entity names say so.
    pub pf_given: bool,
    /// The broker keep-alive (`KEEP_ALIVE`; tests shorten it).
    pub keep_alive: Duration,
    /// For `mqtts://`: trust the CA certificates of this PEM file instead of the system's.
    pub ca: Option<std::path::PathBuf>,
}

/// The error bound entity's attributes: how far above and below its truth the reading may be,
/// percent (`null`, Home Assistant's none, where it is held to none).
pub const BOUND_SIDES_TEMPLATE: &str =
    "{{ {'above_pct': value_json.error_bound_above_pct, 'below_pct': value_json.error_bound_below_pct} | tojson }}";

impl MqttConfig {
    pub fn new(broker: BrokerUrl, node: &str) -> Self {
        MqttConfig {
            broker,
            node: node.to_owned(),
            discovery_prefix: "homeassistant".into(),
            emon: false,
            window_s: 1.0,
            pf_given: false,
            keep_alive: KEEP_ALIVE,
            ca: None,
        }
    }

    pub fn status_topic(&self) -> String {
        format!("ct-read/{}/status", self.node)
    }

    pub fn state_topic(&self) -> String {
        format!("ct-read/{}/state", self.node)
    }

    /// Seconds without a state after which Home Assistant shows the entities as unavailable:
    /// several readings' worth, and never under a minute (a busy broker delays messages).
    fn expire_after(&self) -> u64 {
        (5.0 * self.window_s).ceil().max(60.0) as u64
    }

    /// The discovery messages: (topic, retained JSON config).
    pub fn discovery(&self) -> Vec<(String, String)> {
        let node = &self.node;
        let version = env!("CARGO_PKG_VERSION");
        let device = json!({
            "identifiers": [format!("ct-read_{node}")],
            "name": format!("Efergy clamp meter {node}"),
            "model": "Efergy current clamp on an MSP430 LaunchPad",
            "manufacturer": "ct-read (open hardware)",
            "sw_version": version,
        });
        let origin = json!({
            "name": "ct-read",
            "sw_version": version,
        });
        let power_name = if self.pf_given {
            "Power (estimated from current clamp, assumed voltage and power factor)"
        } else {
            "Power (estimated from current clamp: apparent power, assumed voltage)"
        };
        struct Entity {
            component: &'static str,
            key: &'static str,
            name: &'static str,
            template: &'static str,
            fields: serde_json::Value,
        }
        let entities = [
            Entity {
                component: "sensor",
                key: "current",
                name: "Current (measured by current clamp)",
                template: "{{ value_json.irms_a }}",
                fields: json!({"unit_of_measurement": "A", "device_class": "current", "state_class": "measurement",
                               "suggested_display_precision": 2}),
            },
            Entity {
                component: "sensor",
                key: "power",
                name: power_name,
                template: "{{ value_json.watts }}",
                fields: json!({"unit_of_measurement": "W", "device_class": "power", "state_class": "measurement",
                               "suggested_display_precision": 0}),
            },
            Entity {
                component: "sensor",
                key: "apparent_power",
                name: "Apparent power (estimated from current clamp, assumed voltage)",
                template: "{{ value_json.va }}",
                fields: json!({"unit_of_measurement": "VA", "device_class": "apparent_power",
                               "state_class": "measurement", "suggested_display_precision": 0}),
            },
            Entity {
                component: "sensor",
                key: "energy",
                name: "Energy (estimated from current clamp, lifetime total)",
                template: "{{ value_json.lifetime_kwh }}",
                fields: json!({"unit_of_measurement": "kWh", "device_class": "energy",
                               "state_class": "total_increasing", "suggested_display_precision": 3}),
            },
            Entity {
                component: "sensor",
                key: "mains_frequency",
                name: "Mains frequency (from the current clamp's waveform)",
                template: "{{ value_json.mains_hz }}",
                fields: json!({"unit_of_measurement": "Hz", "device_class": "frequency", "state_class": "measurement",
                               "suggested_display_precision": 2}),
            },
            Entity {
                component: "sensor",
                key: "lost_samples",
                name: "Lost samples (current clamp link)",
                template: "{{ value_json.lost_samples_total }}",
                fields: json!({"entity_category": "diagnostic", "state_class": "total_increasing"}),
            },
            Entity {
                component: "sensor",
                key: "error_bound",
                name: "Error bound of the current clamp's reading (its stated bound, else its usual target)",
                template: "{{ value_json.error_bound_pct if value_json.error_bound_pct is number else 'None' }}",
                // Each side apart, as the entity's attributes: a window that saw only a
                // sliver of a new load may read far lower than it draws, not as far higher.
                fields: json!({"unit_of_measurement": "%", "state_class": "measurement", "entity_category": "diagnostic",
                               "suggested_display_precision": 1,
                               "json_attributes_topic": self.state_topic(),
                               "json_attributes_template": BOUND_SIDES_TEMPLATE}),
            },
            Entity {
                component: "sensor",
                key: "clock_offset",
                name: "Sample clock offset (current clamp device against this computer, measured)",
                template: "{{ value_json.clock_ppm if value_json.clock_ppm is number else 'None' }}",
                fields: json!({"unit_of_measurement": "ppm", "state_class": "measurement", "entity_category": "diagnostic",
                               "suggested_display_precision": 0}),
            },
            Entity {
                component: "sensor",
                key: "flags",
                name: "Reading flags (current clamp)",
                template: "{{ value_json.flags_text if value_json.flags_text else 'clean' }}",
                fields: json!({"entity_category": "diagnostic"}),
            },
            Entity {
                component: "binary_sensor",
                key: "over_range",
                name: "Over range (current beyond the clamp's range: readings are a lower bound)",
                template: "{{ 'ON' if value_json.flags.over_range else 'OFF' }}",
                fields: json!({"device_class": "problem", "payload_on": "ON", "payload_off": "OFF"}),
            },
        ];
        entities
            .into_iter()
            .map(|e| {
                let mut config = json!({
                    "name": e.name,
                    "unique_id": format!("ct-read_{node}_{}", e.key),
                    "state_topic": self.state_topic(),
                    "value_template": e.template,
                    "availability_topic": self.status_topic(),
                    "payload_available": "online",
                    "payload_not_available": "offline",
                    "expire_after": self.expire_after(),
                    "device": device,
                    "origin": origin,
                });
                let obj = config.as_object_mut().expect("an object");
                for (k, v) in e.fields.as_object().expect("an object") {
                    obj.insert(k.clone(), v.clone());
                }
                (format!("{}/{}/{node}/{}/config", self.discovery_prefix, e.component, e.key), config.to_string())
            })
            .collect()
    }
}

/// What the connection thread (re)sends: the latest of everything.
#[derive(Debug, Default)]
struct Latest {
    /// The latest state JSON.
    state: Option<String>,
    /// Readings are flowing.
    online: bool,
}

struct Shared {
    latest: Mutex<Latest>,
    /// The broker has acknowledged the connection and it has not failed since: messages
    /// queued now go out now (while it is down, only the slot is updated).
    connected: AtomicBool,
    /// Stopping: the thread leaves at its next chance rather than retry.
    stopping: AtomicBool,
}

impl Shared {
    fn latest(&self) -> std::sync::MutexGuard<'_, Latest> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Publishes readings to an MQTT broker from a thread of its own; see the module docs.
pub struct MqttSink {
    config: MqttConfig,
    client: Client,
    shared: Arc<Shared>,
    thread: Option<(JoinHandle<()>, mpsc::Receiver<()>)>,
    lost_samples: u64,
    finished: bool,
}

impl MqttSink {
    /// Starts the connection thread. The broker need not be up: the thread keeps trying, and
    /// `log` hears when it connects and when it cannot (from that thread).
    pub fn start(config: MqttConfig, log: impl Fn(&Notice) + Send + 'static) -> Result<Self, MqttError> {
        if config.discovery_prefix.is_empty() || config.discovery_prefix.contains(['+', '#']) {
            return Err(MqttError::Prefix { prefix: config.discovery_prefix.clone() });
        }
        let b = &config.broker;
        let mut opts = MqttOptions::new(format!("ct-read-{}", config.node), b.host.clone(), b.port);
        opts.set_keep_alive(config.keep_alive);
        opts.set_last_will(LastWill::new(config.status_topic(), "offline", QoS::AtLeastOnce, true));
        if let Some(user) = &b.user {
            opts.set_credentials(user.clone(), b.password.clone().unwrap_or_default());
        }
        if b.tls {
            opts.set_transport(Transport::tls_with_config(tls_config(b, config.ca.as_deref())?));
        }
        let (client, connection) = Client::new(opts, QUEUE);
        let shared = Arc::new(Shared {
            latest: Mutex::default(),
            connected: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
        });
        let (done_tx, done_rx) = mpsc::channel();
        let thread = {
            let (config, client, shared) = (config.clone(), client.clone(), shared.clone());
            std::thread::Builder::new()
                .name("mqtt".into())
                .spawn(move || {
                    run_connection(&config, &client, connection, &shared, &log);
                    let _ = done_tx.send(());
                })
                .expect("spawning the MQTT thread")
        };
        Ok(MqttSink { config, client, shared, thread: Some((thread, done_rx)), lost_samples: 0, finished: false })
    }

    /// Queues a message if the broker is connected; never blocks. A message that does not go
    /// is covered by the resend of the latest state on reconnection.
    fn send(&self, topic: String, qos: QoS, retain: bool, payload: String) {
        if self.shared.connected.load(Ordering::Acquire) {
            let _ = self.client.try_publish(topic, qos, retain, payload);
        }
    }

    fn set_online(&self, online: bool) {
        let changed = {
            let mut l = self.shared.latest();
            std::mem::replace(&mut l.online, online) != online
        };
        if changed {
            self.send(self.config.status_topic(), QoS::AtLeastOnce, true, status(online).into());
        }
    }

    /// `offline`, then a clean disconnection (so the broker drops the last will), then the
    /// thread, waited for a short while: a broker that is down must not hold up the exit.
    fn stop(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.set_online(false);
        self.shared.stopping.store(true, Ordering::Release);
        let _ = self.client.try_disconnect();
        if let Some((thread, done)) = self.thread.take() {
            if done.recv_timeout(STOP_WAIT).is_ok() {
                let _ = thread.join();
            }
        }
    }
}

fn status(online: bool) -> &'static str {
    if online {
        "online"
    } else {
        "offline"
    }
}

/// TLS with rustls on `ring` and the system's CA certificates, or those of `ca` alone.
fn tls_config(b: &BrokerUrl, ca: Option<&std::path::Path>) -> Result<rumqttc::TlsConfiguration, MqttError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            let bad = |why: String| MqttError::CaFile { path: path.to_owned(), why };
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| bad(e.to_string()))?;
            for cert in certs {
                roots.add(cert).map_err(|e| bad(format!("not a CA certificate ({e})")))?;
            }
            if roots.is_empty() {
                return Err(bad("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into()));
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(MqttError::NoCaCertificates { url: b.display() });
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(rumqttc::TlsConfiguration::Rustls(Arc::new(config)))
}

/// Drives the connection until the sink stops: on each connection acknowledgement, the
/// discovery, the status and the latest state; on Home Assistant's `online`, the discovery
/// again; on failure, a pause that doubles up to [`MAX_RETRY`].
fn run_connection(
    config: &MqttConfig,
    client: &Client,
    mut connection: Connection,
    shared: &Shared,
    log: &dyn Fn(&Notice),
) {
    let broker = config.broker.display();
    let ha_status = format!("{}/status", config.discovery_prefix);
    let mut retry = FIRST_RETRY;
    let mut reported: Option<String> = None;
    let mut ever_connected = false;
    loop {
        let event = match connection.recv() {
            Ok(ev) => ev,
            // Every client handle is gone.
            Err(_) => return,
        };
        match event {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                retry = FIRST_RETRY;
                if reported.take().is_some() || !ever_connected {
                    log(&Notice::MqttConnected { broker: broker.clone() });
                }
                ever_connected = true;
                let _ = client.try_subscribe(ha_status.clone(), QoS::AtLeastOnce);
                resend(config, client, shared, true);
                shared.connected.store(true, Ordering::Release);
            }
            Ok(Event::Incoming(Incoming::Publish(p))) if p.topic == ha_status && &p.payload[..] == b"online" => {
                resend(config, client, shared, true);
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(e) => {
                shared.connected.store(false, Ordering::Release);
                if shared.stopping.load(Ordering::Acquire) {
                    return;
                }
                let error = e.to_string();
                if reported.as_deref() != Some(error.as_str()) {
                    log(&Notice::MqttUnreachable { broker: broker.clone(), error: error.clone(), retry });
                    reported = Some(error);
                }
                let until = Instant::now() + retry;
                while Instant::now() < until {
                    if shared.stopping.load(Ordering::Acquire) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                retry = (retry * 2).min(MAX_RETRY);
            }
        }
    }
}

/// Discovery (if asked), status and the latest state, all retained. Queued without blocking:
/// this thread is the one that empties the queue.
fn resend(config: &MqttConfig, client: &Client, shared: &Shared, discovery: bool) {
    if discovery {
        for (topic, payload) in config.discovery() {
            let _ = client.try_publish(topic, QoS::AtLeastOnce, true, payload);
        }
    }
    let (online, state) = {
        let l = shared.latest();
        (l.online, l.state.clone())
    };
    let _ = client.try_publish(config.status_topic(), QoS::AtLeastOnce, true, status(online));
    if let Some(state) = state {
        let _ = client.try_publish(config.state_topic(), QoS::AtLeastOnce, true, state);
    }
}

impl ReadingSink for MqttSink {
    /// A reading without a lifetime total (not from a live session): published with the
    /// session's energy only, as `lifetime_kwh` is unknown.
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        self.publish(r, wall, None);
        Ok(())
    }

    fn write_with_lifetime(&mut self, r: &Reading, wall: Option<SystemTime>, kwh: f64) -> Result<(), SinkError> {
        self.publish(r, wall, Some(kwh));
        Ok(())
    }

    /// The device went away or fell silent: `offline` at once (readings bring `online` back).
    fn notice(&mut self, notice: &Notice) {
        if matches!(notice, Notice::Lost { .. } | Notice::Silent { .. }) {
            self.set_online(false);
        }
    }

    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        self.stop();
        Ok(())
    }
}

impl MqttSink {
    fn publish(&mut self, r: &Reading, wall: Option<SystemTime>, lifetime_kwh: Option<f64>) {
        self.lost_samples += r.lost_samples;
        let mut state = super::json::json_value(r, wall, &self.config.node);
        let obj = state.as_object_mut().expect("a reading is an object");
        obj.insert("lifetime_kwh".into(), json!(lifetime_kwh));
        obj.insert("lost_samples_total".into(), json!(self.lost_samples));
        let bounds = trust::error_bounds(r);
        obj.insert("error_bound_pct".into(), json!(bounds.map(|b| b.wider() * 100.0)));
        obj.insert("error_bound_above_pct".into(), json!(bounds.map(|b| b.above * 100.0)));
        obj.insert("error_bound_below_pct".into(), json!(bounds.map(|b| b.below * 100.0)));
        obj.insert("flags_text".into(), json!(r.flags.to_text()));
        let state = state.to_string();
        self.shared.latest().state = Some(state.clone());
        self.set_online(true);
        self.send(self.config.state_topic(), QoS::AtMostOnce, true, state);
        if self.config.emon {
            let node = &self.config.node;
            let mut values = vec![("current", r.irms_a), ("power", r.watts), ("apparent_power", r.va)];
            values.extend(lifetime_kwh.map(|k| ("energy", k)));
            values.extend(r.hz.map(|hz| ("mains_frequency", hz)));
            values.extend(trust::error_bound(r).map(|b| ("error_bound", b * 100.0)));
            values.extend(r.clock_ppm.map(|ppm| ("clock_offset", ppm)));
            for (key, v) in values {
                self.send(format!("emon/{node}/{key}"), QoS::AtMostOnce, false, v.to_string());
            }
        }
    }
}

impl Drop for MqttSink {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_parse_with_defaults_logins_and_ipv6() {
        let u = BrokerUrl::parse("mqtt://ha.local").unwrap();
        assert_eq!((u.tls, u.host.as_str(), u.port, u.user.clone()), (false, "ha.local", 1883, None));
        let u = BrokerUrl::parse("mqtts://me:p%40ss:w@broker:8884/").unwrap();
        assert_eq!((u.tls, u.port), (true, 8884));
        assert_eq!((u.user.as_deref(), u.password.as_deref()), (Some("me"), Some("p@ss:w")));
        assert_eq!(u.display(), "mqtts://me@broker:8884");
        let u = BrokerUrl::parse("mqtts://[::1]").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 8883));
        assert_eq!(u.display(), "mqtts://[::1]:8883");
        for bad in ["http://x", "mqtt://", "mqtt://h:0", "mqtt://h:99999", "mqtt://h/topic", "mqtt://[::1"] {
            assert!(BrokerUrl::parse(bad).is_err(), "{bad}");
        }
        let e = BrokerUrl::parse("mqtt://u:secret@h:x").unwrap_err().to_string();
        assert!(!e.contains("secret") && e.contains("u:***@h:x"), "{e}");
    }

    #[test]
    fn discovery_has_the_fields_home_assistant_needs() {
        let mut c = MqttConfig::new(BrokerUrl::parse("mqtt://h").unwrap(), "n1");
        c.discovery_prefix = "ha".into();
        let d = c.discovery();
        assert_eq!(d.len(), 10);
        let energy: serde_json::Value =
            serde_json::from_str(&d.iter().find(|(t, _)| t == "ha/sensor/n1/energy/config").unwrap().1).unwrap();
        assert_eq!(energy["state_class"], "total_increasing");
        assert_eq!(energy["unit_of_measurement"], "kWh");
        assert_eq!(energy["availability_topic"], "ct-read/n1/status");
        assert_eq!(energy["expire_after"], 60);
        assert!(energy.get("object_id").is_none());
        assert!(d.iter().any(|(t, _)| t == "ha/binary_sensor/n1/over_range/config"));
    }

    #[test]
    fn wildcards_in_the_prefix_are_refused() {
        let mut c = MqttConfig::new(BrokerUrl::parse("mqtt://h").unwrap(), "n1");
        c.discovery_prefix = "ha/#".into();
        assert!(matches!(MqttSink::start(c, |_| {}), Err(MqttError::Prefix { .. })));
    }

    #[test]
    fn tls_configuration_builds_from_the_system_certificates() {
        let b = BrokerUrl::parse("mqtts://h").unwrap();
        // A machine without ca-certificates gets the clear error instead.
        match tls_config(&b, None) {
            Ok(_) => {}
            Err(e) => assert!(e.to_string().contains("install ca-certificates"), "{e}"),
        }
    }

    /// `--mqtt-ca`: a file that is missing or holds no certificate is refused at the start,
    /// naming it.
    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let b = BrokerUrl::parse("mqtts://h").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        for path in [empty, dir.path().join("missing.pem")] {
            match tls_config(&b, Some(&path)) {
                Err(MqttError::CaFile { path: p, .. }) => assert_eq!(p, path),
                Err(e) => panic!("{e}"),
                Ok(_) => panic!("{} accepted", path.display()),
            }
        }
    }
}
