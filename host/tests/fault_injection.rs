//! Fault injection over whole streams: clean streams from the virtual device are damaged as a
//! line and a link damage them (bit errors at BER 1e-4 and 1e-3, dropped bytes, garbage
//! bursts, duplicated frames, device restarts at the same rate and at another, the first
//! frames after the boot lost) and read by the meter, which must account for every sample
//! and flag every reading the damage made wrong:
//!
//! - samples accepted (the timeline's runs) + samples reported lost (its gap notices) +
//!   duplicates dropped = samples sent;
//! - every reading more than 1 % away from the clean stream's reading of the same time is
//!   flagged.
//!
//! What no receiver can know is kept out of the damage, as `wire/SPEC.md` ("Receiver rules")
//! says: the last frames of the stream (a loss at the very end shows in no later index), the
//! frames just before a restart (the index starts again, so the old one's end is unknown) and
//! the boot sequence of a restart (without its Info frame the frames lost after the boot are
//! unknown). The load is steady, so the clean reading of a time is the one whose window holds
//! it, and the clean readings themselves are checked to be unflagged and within 1 % of the
//! load: the property is not met by flagging everything.

use ct_host::calibration::Calibration;
use ct_host::decoder::{DecodeError, Decoder};
use ct_host::estimate::{EstimatorConfig, Reading};
use ct_host::meter::{Event, Meter, Notice};
use ct_host::sim::{DeviceProfile, Faults, Load, Rng, Shape, VirtualDevice};
use ct_host::timeline::{Step, Timeline};
use ct_wire::Frame;

const AMPS: f64 = 6.0;

/// One frame on the line (delimiter included), with what it carries.
#[derive(Clone)]
struct Unit {
    bytes: Vec<u8>,
    /// Samples it carries (0 for Info, Status and lone delimiters).
    samples: u64,
    /// Kept out of the damage (see the module's doc).
    protected: bool,
}

/// One life of a device from its boot: `seconds` of a steady load: switch-mode for the fast
/// profile, a sine for the LaunchPad's (whose 603.5 samples/s read a switch-mode load
/// flagged `approx`, clean or not).
fn life(profile: DeviceProfile, seconds: f64, seed: u64) -> Vec<Unit> {
    let shape = if profile == DeviceProfile::LAUNCHPAD { Shape::Sine } else { Shape::Smps };
    let load = Load { amps: AMPS, mains_hz: 50.0, shape, step: None };
    let cal = Calibration::builtin();
    let mut dev = VirtualDevice::new(profile, load, cal.full_scale_code(), 0.3, Faults::default(), seed);
    let mut line = Vec::new();
    dev.run_until((profile.sample_rate_hz() * seconds) as u64, &mut line);
    let mut units: Vec<Unit> = line
        .split_inclusive(|&b| b == 0)
        .map(|bytes| {
            let mut d = Decoder::new();
            d.received(bytes);
            let samples = match d.decode() {
                Ok(Frame::Samples(s)) => s.packed.len() as u64 * 4 / 5,
                Ok(_) | Err(DecodeError::NeedMoreBytes) => 0,
                Err(e) => panic!("the clean stream has a bad frame: {e:?}"),
            };
            Unit { bytes: bytes.to_vec(), samples, protected: false }
        })
        .collect();
    // The boot: the lone delimiter and the Info frame.
    units[0].protected = true;
    units[1].protected = true;
    units
}

/// Protects the last `n` frames of `units` (before a restart, or at the end of the stream).
fn protect_last(units: &mut [Unit], n: usize) {
    let len = units.len();
    units[len - n..].iter_mut().for_each(|u| u.protected = true);
}

/// How a stream is damaged.
#[derive(Default, Clone, Copy)]
struct Damage {
    /// Probability of each bit being flipped.
    ber: f64,
    /// Probability of each byte being dropped.
    byte_drop: f64,
    /// Probability, after each frame, of a garbage burst of 1 to 64 bytes.
    garbage: f64,
    /// Probability of a Samples frame being sent again (at once or three frames late).
    duplicate: f64,
    /// Samples frames destroyed right after the first boot.
    lost_first: usize,
}

struct Damaged {
    line: Vec<u8>,
    /// Samples the device produced.
    sent: u64,
    /// Samples of duplicated frames put on the line, and of those among them left intact.
    duplicated: u64,
    duplicated_intact: u64,
}

fn damage(units: &[Unit], d: Damage, seed: u64) -> Damaged {
    let mut rng = Rng::new(seed);
    let mut out = Damaged { line: Vec::new(), sent: 0, duplicated: 0, duplicated_intact: 0 };
    let mut recent: Vec<&Unit> = Vec::new();
    let mut first_lost = 0;
    for u in units {
        if u.bytes == [0] {
            // A boot: a frame of the previous life sent again after it could not be told from
            // the new life's (the index starts again), and no link does that.
            recent.clear();
        }
        out.sent += u.samples;
        let mut sends = vec![(u, false)];
        if u.samples > 0 {
            recent.push(u);
            if !u.protected && rng.uniform() < d.duplicate {
                let late = rng.below(2) == 1 && recent.len() > 3;
                sends.push((if late { recent[recent.len() - 4] } else { u }, true));
            }
        }
        for (u, dup) in sends {
            let mut bytes = u.bytes.clone();
            let mut intact = true;
            if u.samples > 0 && first_lost < d.lost_first && !dup {
                first_lost += 1;
                bytes[10] ^= 0x40;
                intact = false;
            }
            if !u.protected {
                for b in &mut bytes {
                    for bit in 0..8 {
                        if rng.uniform() < d.ber {
                            *b ^= 1 << bit;
                            intact = false;
                        }
                    }
                }
                let before = bytes.len();
                bytes.retain(|_| rng.uniform() >= d.byte_drop);
                intact &= bytes.len() == before;
            }
            if dup {
                out.duplicated += u.samples;
                out.duplicated_intact += if intact { u.samples } else { 0 };
            }
            out.line.extend(bytes);
            if !u.protected && rng.uniform() < d.garbage {
                let n = 1 + rng.below(64);
                out.line.extend((0..n).map(|_| rng.next_u64() as u8));
            }
        }
    }
    out
}

/// The timeline's accounting of a stream: samples in runs, lost in gaps, dropped as
/// duplicates (of a frame received, or late copies of one lost and counted in a gap).
fn account(line: &[u8]) -> (u64, u64, u64, usize) {
    let mut tl = Timeline::new(&Calibration::builtin());
    let (mut accepted, mut lost, mut dups, mut restarts) = (0, 0, 0, 0);
    tl.bytes(line, &mut |step| {
        match step {
            Step::Run(r) => accepted += r.codes.len() as u64,
            Step::Notice(Notice::Gap { lost_samples, .. }) => lost += lost_samples,
            Step::Notice(Notice::Duplicate { samples, .. } | Notice::Late { samples, .. }) => dups += samples,
            Step::Notice(Notice::Reset { .. }) => restarts += 1,
            _ => {}
        }
        true
    })
    .expect("the stream is readable");
    (accepted, lost, dups, restarts)
}

fn readings(line: &[u8]) -> Vec<Reading> {
    let mut m = Meter::new(Calibration::builtin(), EstimatorConfig::default());
    let mut rs = Vec::new();
    let mut out = |e| {
        if let Event::Reading(r) = e {
            rs.push(r)
        }
    };
    m.bytes(line, &mut out).expect("the stream is readable");
    m.finish(&mut out);
    rs
}

/// Damages `lives` (already protected where nothing can be known) and checks the accounting
/// and the flags.
fn check(name: &str, lives: &[Vec<Unit>], d: Damage, seed: u64) {
    let mut units: Vec<Unit> = lives.concat();
    protect_last(&mut units, 5);
    let clean: Vec<u8> = units.iter().flat_map(|u| u.bytes.iter().copied()).collect();
    let damaged = damage(&units, d, seed);

    let (accepted, lost, dups, restarts) = account(&damaged.line);
    assert_eq!(restarts, lives.len() - 1, "{name}: restarts reported");
    // Every sample the device sent is accepted or reported lost, once.
    assert_eq!(
        accepted + lost,
        damaged.sent,
        "{name}: {accepted} accepted + {lost} reported lost != {} sent",
        damaged.sent
    );
    // Every copy dropped was a copy sent; a copy that stood in for a lost first one, or was
    // damaged itself, is not dropped.
    assert!(dups <= damaged.duplicated_intact, "{name}: {dups} of {} duplicated samples dropped", damaged.duplicated);
    if d.ber == 0.0 && d.byte_drop == 0.0 && d.lost_first == 0 {
        // With nothing lost: samples accepted + lost + duplicates dropped = samples sent.
        assert_eq!(accepted + lost + dups, damaged.sent + damaged.duplicated, "{name}");
    }
    let (clean_accepted, clean_lost, _, _) = account(&clean);
    assert_eq!((clean_accepted, clean_lost), (damaged.sent, 0), "{name}: the clean stream");

    let clean_rs = readings(&clean);
    let unflagged = clean_rs.iter().filter(|r| r.flags.to_text().is_empty()).count();
    assert!(unflagged * 10 >= clean_rs.len() * 8, "{name}: clean readings flagged: {clean_rs:?}");
    for r in clean_rs.iter().filter(|r| r.flags.to_text().is_empty()) {
        assert!((r.irms_a / AMPS - 1.0).abs() < 0.01, "{name}: clean reading off: {r:?}");
    }
    let rs = readings(&damaged.line);
    assert!(!rs.is_empty(), "{name}: no readings");
    let mut flagged = 0;
    for r in &rs {
        let mid = r.t_s - r.duration_s / 2.0;
        let same = clean_rs
            .iter()
            .find(|c| c.t_s - c.duration_s <= mid && mid <= c.t_s)
            .unwrap_or_else(|| panic!("{name}: no clean reading at {mid} s: {r:?}"));
        let off = (r.irms_a / same.irms_a - 1.0).abs();
        let flags = r.flags.to_text();
        flagged += !flags.is_empty() as usize;
        assert!(off <= 0.01 || !flags.is_empty(), "{name}: {:.2} % off and unflagged: {r:?} vs {same:?}", off * 100.0);
    }
    eprintln!(
        "{name}: {} samples sent, {accepted} accepted, {lost} lost, {dups} duplicates dropped; {} readings, {flagged} \
         flagged",
        damaged.sent,
        rs.len()
    );
}

fn fast(seconds: f64, seed: u64) -> Vec<Unit> {
    life(DeviceProfile::FAST, seconds, seed)
}

#[test]
fn bit_errors() {
    check("BER 1e-4", &[fast(20.0, 1)], Damage { ber: 1e-4, ..Damage::default() }, 11);
    check("BER 1e-3", &[fast(20.0, 2)], Damage { ber: 1e-3, ..Damage::default() }, 12);
}

#[test]
fn dropped_bytes_and_garbage() {
    check("dropped bytes", &[fast(20.0, 3)], Damage { byte_drop: 2e-4, ..Damage::default() }, 13);
    check("garbage", &[fast(20.0, 4)], Damage { garbage: 0.02, ..Damage::default() }, 14);
}

#[test]
fn duplicated_frames() {
    check("duplicates", &[fast(20.0, 5)], Damage { duplicate: 0.01, ..Damage::default() }, 15);
}

#[test]
fn frames_lost_before_the_first_good_one() {
    check("first frames lost", &[fast(10.0, 6)], Damage { lost_first: 10, ..Damage::default() }, 16);
    check(
        "first frames lost, then BER 1e-4",
        &[fast(10.0, 6)],
        Damage { lost_first: 10, ber: 1e-4, ..Damage::default() },
        16,
    );
}

/// Restarts at the same rate and at another, with damage elsewhere.
#[test]
fn restarts() {
    let mut first = fast(10.0, 7);
    protect_last(&mut first, 3);
    // A lower BER than the others', so that some readings are whole.
    let d = Damage { ber: 1e-5, ..Damage::default() };
    check("restart, same rate", &[first.clone(), fast(10.0, 8)], d, 17);
    let launchpad = life(DeviceProfile::LAUNCHPAD, 20.0, 9);
    check("restart, another rate", &[first, launchpad], d, 18);
}

/// Everything at once.
#[test]
fn everything_at_once() {
    let mut first = fast(10.0, 10);
    protect_last(&mut first, 3);
    let d = Damage { ber: 3e-4, byte_drop: 1e-4, garbage: 0.01, duplicate: 0.01, lost_first: 5 };
    let mut second = life(DeviceProfile::LAUNCHPAD, 15.0, 11);
    protect_last(&mut second, 3);
    check("everything", &[first, second, fast(10.0, 12)], d, 19);
}
