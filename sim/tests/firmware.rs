//! Firmware in the loop: the release ELFs of both profiles run in the emulator for several
//! simulated seconds with golden SPICE waveforms on the ADC input; the host's decoder and
//! meter read the UART line (received at the nominal baud rate). The readings must meet
//! golden/ACCURACY.md's targets, with no overrun, no reset and the true sample rate in Info.
//!
//! Needs the ELFs (`bash .ci/emu.sh` builds them).

mod common;

use ct_core::estimate::Reading;
use ct_core::meter::Notice;
use ct_emu::fil::{self, Profile, FAST, LAUNCHPAD, PROFILES};
use ct_golden::report::Target;
use ct_golden::{manifest, Waveform};

/// Simulated seconds per run: Info, then three 1 s windows.
const SECONDS: f64 = 3.6;

fn golden(case: &str) -> (ct_golden::Case, Waveform) {
    let c = manifest().unwrap().into_iter().find(|c| c.case == case).unwrap();
    let w = Waveform::load(&c).unwrap();
    (c, w)
}

/// Runs `case` on `profile` and checks everything the issue asks for; returns the worst
/// relative (or absolute for zero current) error.
fn check_case(profile: &Profile, case: &str) -> f64 {
    check_patched(profile, case, |_, _| {})
}

/// [`check_case`] with the loaded image modified by `patch` first.
fn check_patched(profile: &Profile, case: &str, patch: impl FnOnce(&mut ct_emu::Emu, &ct_emu::elf::Image)) -> f64 {
    let (c, w) = golden(case);
    let run = fil::run(&common::elf(profile), profile, SECONDS, move |t| w.mv_at(t), patch).unwrap();
    let e = &run.emu;
    let what = format!("{} on {}", case, profile.name);
    assert!(e.resets.is_empty(), "{what}: resets {:?}", e.resets);
    assert_eq!(e.adc.missed_triggers, 0, "{what}: triggers during a conversion");
    assert_eq!(run.framing_errors, 0, "{what}: framing errors at {} baud", profile.baud);
    let d = common::decode(&run);
    assert_eq!(d.malformed, 0, "{what}: malformed frames");
    // Info first, with the true sample rate.
    let info = d.infos.first().unwrap_or_else(|| panic!("{what}: no Info frame"));
    let s = &e.adc.samples;
    assert!(s.len() > 100, "{what}: {} conversions", s.len());
    let measured = (s.len() - 1) as f64 / (s[s.len() - 1].hold_s - s[0].hold_s);
    assert!(
        (info.sample_rate_hz() / measured - 1.0).abs() < 1e-5,
        "{what}: Info says {} Sa/s, the ADC converted at {measured} Sa/s",
        info.sample_rate_hz()
    );
    assert!((profile.rate_hz / measured - 1.0).abs() < 1e-5, "{what}: rate {measured}");
    // Every conversion since the host's Start reached the host, in order, with its value: no
    // overrun. The device counts from its first start: index 0 is the conversion after the
    // frame during which the Start's last byte arrived (sampling runs from boot, 112 a frame).
    let arrival = fil::HOST_START_S + (fil::host_start().len() as f64 * 10.0 - 0.5) / profile.baud;
    let offset = (s.iter().filter(|x| x.hold_s < arrival).count() / 112 + 1) * 112;
    let mut next = 0u32;
    for (first, codes) in &d.samples {
        assert_eq!(*first, next, "{what}: samples lost before index {next}");
        for (k, code) in codes.iter().enumerate() {
            assert_eq!(*code, s[offset + next as usize + k].code, "{what}: sample {}", next as usize + k);
        }
        next += codes.len() as u32;
    }
    assert!(
        offset + next as usize + 2 * 112 >= s.len(),
        "{what}: {} samples sent of {} converted after the first start",
        next,
        s.len() - offset
    );
    for st in &d.statuses {
        assert_eq!(st.dropped_total, 0, "{what}: Status reports drops");
    }
    assert!(!d.statuses.is_empty(), "{what}: no Status frame");
    assert_eq!(e.adc.unsettled_conversions, 0, "{what}: conversions before the reference settled");
    // LEDs: red (P1.0) off, green (P1.6) toggled with every Status frame.
    assert!(!e.ports.p1.driven_high(0), "{what}: fault LED on");
    assert_eq!(e.ports.p1_6_toggles as usize, d.statuses.len(), "{what}: heartbeat toggles");
    for n in &d.notices {
        assert!(
            !matches!(n, Notice::Gap { .. } | Notice::Overrun { .. } | Notice::Reset { .. } | Notice::Skipped { .. }),
            "{what}: {n:?}"
        );
    }
    // Accuracy of the full windows.
    let full: Vec<_> = d.readings.iter().filter(|r| r.duration_s > 0.9).collect();
    assert!(full.len() >= 2, "{what}: {} full readings", full.len());
    let mut worst = 0.0f64;
    for r in &full {
        let err = against_target(&c, r).unwrap_or_else(|m| panic!("{what}: {m}"));
        if err.abs() > worst.abs() {
            worst = err;
        }
    }
    eprintln!("{what}: {} readings, worst {:+.4} ({})", full.len(), worst, Target::for_case(&c).describe());
    worst
}

/// How reading `r` compares with `c`'s golden target (golden/ACCURACY.md): its relative error
/// (its current, for zero current) when within it, else what missed.
fn against_target(c: &ct_golden::Case, r: &Reading) -> Result<f64, String> {
    match Target::for_case(c) {
        Target::AbsoluteAmps(a) if r.irms_a < a => Ok(r.irms_a),
        Target::AbsoluteAmps(_) => Err(format!("{} A at zero current", r.irms_a)),
        Target::Relative(f) => {
            // A reading flagged `approx` (a waveform narrower than three sample spacings, such
            // as this switch-mode supply on the 9600-baud link) is held to the bound it states.
            let f = r.bound_pct.map_or(f, |b| f.max(b / 100.0));
            let rel = r.irms_a / c.true_rms_a - 1.0;
            if rel.abs() <= f {
                Ok(rel)
            } else {
                Err(format!("{} A for {} A ({:+.2} %)", r.irms_a, c.true_rms_a, rel * 100.0))
            }
        }
    }
}

const CASES: [&str; 4] = ["zero-50hz", "sine-50hz-3.4a", "sine-50hz-95a", "smps-50hz-8a"];

#[test]
fn launchpad_profile_meets_the_targets_on_the_goldens() {
    for case in CASES {
        check_case(&LAUNCHPAD, case);
    }
}

#[test]
fn fast_profile_meets_the_targets_on_the_goldens() {
    for case in CASES {
        check_case(&FAST, case);
    }
}

/// Issue 12.7: the ADC10's sampling capacitor leaves up to 0.92 LSB of the step between
/// successive samples after a 10.2-17.3 us sample time (64 clocks of ADC10OSC undivided;
/// spice/README.md, "The sample-and-hold's kickback"); ADC10DIV = /4 makes it 40.6-69 us and
/// leaves 0.056 LSB. The firmware writes ADC10CTL1 = 0x4464 (ADC10DIV_3): ADC10CLK stays
/// within the data sheet's range (the emulator refuses otherwise), no trigger is missed, and
/// both profiles meet their targets. The slowest ADC10OSC (3.7 MHz) makes a sample and
/// conversion (64 + 13 clocks) 83 us, within the fast profile's 122 us period.
#[test]
fn the_long_sample_time_fits_both_profiles() {
    let worst_s = (64.0 + 13.0) * 4.0 / 3.7e6;
    for profile in PROFILES {
        assert!(worst_s < 0.9 / profile.rate_hz, "{}: {worst_s} s a conversion", profile.name);
        for case in CASES {
            check_patched(&profile, case, |emu, _| {
                let at = fil::patch_words(emu, &[0x40B2, 0x4464, 0x01B2], &[0x40B2, 0x4464, 0x01B2]);
                assert!(at.is_some(), "mov #0x4464, &ADC10CTL1 (ADC10DIV_3) not found");
            });
        }
    }
}

/// The harness catches a broken firmware: the launchpad image with UCA0BR0 = 48 instead of
/// 52 (`mov.b #52, &UCA0BR0` patched) runs its UART at 10400 baud: its receiver takes the
/// host's 9600-baud bytes for framing errors, so it never hears the Start and sends nothing
/// (were it to send, the host's 9600-baud receiver would see framing errors and corrupt
/// frames).
#[test]
fn a_wrong_baud_divisor_is_detected() {
    let (_, w) = golden("sine-50hz-3.4a");
    let run = fil::run(
        &common::elf(&LAUNCHPAD),
        &LAUNCHPAD,
        1.0,
        move |t| w.mv_at(t),
        |emu, _| {
            let at = fil::patch_words(emu, &[0x40F2, 52, 0x0062], &[0x40F2, 48, 0x0062]);
            assert!(at.is_some(), "mov.b #52, &UCA0BR0 not found");
        },
    )
    .unwrap();
    let d = common::decode(&run);
    assert!(run.emu.usci.rx_framing_errors > 0, "the host's bytes were received at the wrong baud");
    assert!(run.framing_errors > 0 || d.malformed > 0 || run.bytes.is_empty(), "wrong baud went unnoticed");
    assert!(d.infos.is_empty() && d.samples.is_empty(), "frames decoded at the wrong baud");
}

/// The harness catches a broken ADC trigger: ADC10CTL1 written with SHS_0 (ADC10SC) instead
/// of SHS_1 (Timer_A OUT1): no conversion ever starts, so no Samples frame is sent. The main
/// loop wakes once a frame, so it never takes the host's Start either: the device stays
/// silent (before the host's messages existed, it sent its boot Info regardless).
#[test]
fn a_wrong_adc_trigger_is_detected() {
    for profile in PROFILES {
        let (_, w) = golden("sine-50hz-3.4a");
        let run = fil::run(
            &common::elf(&profile),
            &profile,
            1.0,
            move |t| w.mv_at(t),
            |emu, _| {
                let at = fil::patch_words(emu, &[0x40B2, 0x4464, 0x01B2], &[0x40B2, 0x4064, 0x01B2]);
                assert!(at.is_some(), "mov #0x4464, &ADC10CTL1 not found");
            },
        )
        .unwrap();
        let d = common::decode(&run);
        assert_eq!(run.emu.adc.conversions, 0);
        assert!(run.emu.usci.received > 0, "{}: the host's Start was received", profile.name);
        assert!(run.bytes.is_empty(), "{}: silent without conversions", profile.name);
        assert!(d.samples.is_empty() && d.readings.is_empty(), "{}: samples without a trigger", profile.name);
    }
}

/// A main loop that no longer services the watchdog (the feed writes patched to omit
/// WDTCNTCL) ends in a watchdog reset after 32768 VLO clocks (about 2.7 s); the firmware
/// boots again and its Info frame reports the watchdog as the reset cause, which the host
/// meter turns into a reset notice. So the "no reset" checks above can fail.
#[test]
fn a_starved_watchdog_resets_and_info_reports_it() {
    let (_, w) = golden("sine-50hz-3.4a");
    let run = fil::run(
        &common::elf(&LAUNCHPAD),
        &LAUNCHPAD,
        4.0,
        move |t| w.mv_at(t),
        |emu, _| {
            let n = fil::patch_all_words(emu, &[0x40B2, 0x5A0C, 0x0120], &[0x40B2, 0x5A04, 0x0120]);
            assert!(n >= 2, "watchdog feeds found: {n}");
        },
    )
    .unwrap();
    let e = &run.emu;
    assert_eq!(e.resets.len(), 1, "{:?}", e.resets);
    assert_eq!(e.resets[0].cause, ct_emu::ResetKind::Watchdog);
    // The counter also holds the SMCLK clocks counted before the boot code switched it to
    // ACLK (without WDTCNTCL now), so it expires somewhat before 32768 VLO clocks.
    let period = 32768.0 / ct_emu::clock::VLO_HZ;
    assert!(e.resets[0].at_s > 0.8 * period && e.resets[0].at_s <= period, "reset at {} s", e.resets[0].at_s);
    // The bytes the firmware sent after the reset: its boot Info, reporting the watchdog.
    let t = e.resets[0].at_s;
    let after: Vec<ct_emu::usci::TxChar> = e.usci.sent.iter().filter(|c| c.start_s > t).cloned().collect();
    let (bytes, _) = ct_emu::uart_rx::receive(&after, LAUNCHPAD.baud);
    assert_eq!(bytes.first(), Some(&ct_wire::framing::DELIMITER), "a lone delimiter first");
    assert_ne!(bytes.get(1), Some(&ct_wire::framing::DELIMITER), "only one");
    let mut dec = ct_core::decoder::Decoder::new();
    dec.received(&bytes);
    match dec.decode() {
        Ok(ct_wire::Frame::Info(info)) => assert_eq!(info.reset_cause, ct_wire::ResetCause::Watchdog),
        other => panic!("first frame after the reset: {other:?}"),
    }
    // The host sees the reset, and gets that Info: the lone delimiter sent at boot ends the
    // frame cut off by the reset, so the Info's bytes are not skipped with it.
    let d = common::decode(&run);
    assert_eq!(d.infos[0].reset_cause, ct_wire::ResetCause::PowerOn);
    let causes: Vec<_> = d.infos.iter().map(|i| i.reset_cause).collect();
    assert_eq!(causes, [ct_wire::ResetCause::PowerOn, ct_wire::ResetCause::Watchdog], "Info frames decoded");
    assert!(d.notices.iter().any(|n| matches!(n, Notice::Reset { .. })), "{:?}", d.notices);
}

/// A PUC from a flash key violation leaves FCTL3 KEYV (bit 1) set and no IFG1 reset flag: the
/// boot Info frame must report the key violation. (With KEYV taken as bit 5, EMEX, the
/// firmware reported an unknown cause.)
#[test]
fn a_flash_key_violation_is_reported_in_info() {
    for profile in PROFILES {
        // Long enough for the host's Start and one frame (0.19 s at 603.5 Sa/s).
        let run = fil::run(
            &common::elf(&profile),
            &profile,
            0.4,
            |_| 0.0,
            |emu, _| {
                // The state a key-violation PUC leaves (ct_emu's `puc(ResetKind::FlashKey)`).
                emu.sfr.ifg1 = 0;
                emu.fctl[2] |= ct_emu::memory::FCTL3_KEYV;
            },
        )
        .unwrap();
        let d = common::decode(&run);
        let info = d.infos.first().unwrap_or_else(|| panic!("{}: no Info frame", profile.name));
        assert_eq!(info.reset_cause, ct_wire::ResetCause::KeyViolation, "{}", profile.name);
        assert_eq!(run.emu.fctl[2] & ct_emu::memory::FCTL3_KEYV, 0, "{}: KEYV cleared after boot", profile.name);
    }
}

/// SLAU144 (Watchdog Timer+): hold the watchdog before changing its clock source. The boot
/// code holds it, switches it to ACLK and starts it, which the emulator accepts; it rejects a
/// WDTSSEL change while the watchdog runs, as the old boot code did (one write switching the
/// running watchdog from SMCLK to ACLK), injected back here.
#[test]
fn the_watchdog_clock_source_changes_only_while_held() {
    for profile in PROFILES {
        let elf = common::elf(&profile);
        let run = fil::run(&elf, &profile, 0.05, |_| 0.0, |_, _| {}).unwrap();
        assert!(run.emu.wdt.uses_aclk(), "{}: watchdog on ACLK", profile.name);
        assert!(run.emu.resets.is_empty(), "{}: {:?}", profile.name, run.emu.resets);
        // mov #WDTPW|WDTHOLD, &WDTCTL; mov #WDTPW|WDTHOLD|WDTSSEL, &WDTCTL -> the old first
        // feed, mov #WDTPW|WDTCNTCL|WDTSSEL, &WDTCTL, on the running watchdog.
        let err = fil::run(
            &elf,
            &profile,
            0.05,
            |_| 0.0,
            |emu, _| {
                let hold_switch = [0x40B2, 0x5A80, 0x0120, 0x40B2, 0x5A84, 0x0120];
                let old = [0x40B2, 0x5A0C, 0x0120, 0x40B2, 0x5A0C, 0x0120];
                assert!(fil::patch_words(emu, &hold_switch, &old).is_some(), "hold + switch writes not found");
            },
        )
        .err();
        assert!(
            matches!(err, Some(ct_emu::EmuError::WdtClockSwitch { value: 0x5A0C, .. })),
            "{}: {err:?}",
            profile.name
        );
    }
}

/// ADC10CLK within the data sheet's range for the ADC10SR setting (SLAS735 fADC10CLK, as
/// quoted in issue #12): the firmware clocks the ADC10 from ADC10OSC / 4 (0.93-1.58 MHz) with
/// ADC10SR = 0 (<= 6.3 MHz), which the emulator accepts; with ADC10SR = 1 (<= 1.5 MHz), as the
/// firmware once had it, the first conversion is rejected (the fastest ADC10OSC / 4 is over).
#[test]
fn the_adc10_clock_suits_adc10sr() {
    for profile in PROFILES {
        let elf = common::elf(&profile);
        let run = fil::run(&elf, &profile, 0.05, |_| 1000.0, |_, _| {}).unwrap();
        assert!(run.emu.adc.conversions > 0, "{}: no conversion", profile.name);
        assert_eq!(run.emu.adc.ctl0 & ct_emu::adc::ADC10SR, 0, "{}", profile.name);
        let err = fil::run(
            &elf,
            &profile,
            0.05,
            |_| 1000.0,
            |emu, _| {
                // mov #ADC10CTL0_VALUE(|ENC), &ADC10CTL0 with ADC10SR (0x0400) set again.
                let n = fil::patch_all_words(emu, &[0x40B2, 0x3878, 0x01B0], &[0x40B2, 0x3C78, 0x01B0])
                    + fil::patch_all_words(emu, &[0x40B2, 0x387A, 0x01B0], &[0x40B2, 0x3C7A, 0x01B0]);
                assert_eq!(n, 2, "ADC10CTL0 writes found");
            },
        )
        .err();
        match err {
            Some(ct_emu::EmuError::AdcClock { min_hz, max_hz, adc10sr: true }) => {
                assert_eq!((min_hz, max_hz), (ct_emu::adc::ADC10OSC_MIN_HZ / 4.0, ct_emu::adc::ADC10OSC_MAX_HZ / 4.0))
            }
            other => panic!("{}: {other:?}", profile.name),
        }
    }
}

/// The incremental session (for a live consumer) delivers the same bytes as a batch run.
#[test]
fn a_session_streams_the_same_bytes_as_a_batch_run() {
    let (_, w) = golden("sine-50hz-3.4a");
    let w2 = w.clone();
    let elf = common::elf(&FAST);
    // 0.05 s until the host's Start, then 0.55 s of streaming.
    let batch = fil::run(&elf, &FAST, 0.6, move |t| w.mv_at(t), |_, _| {}).unwrap();
    let mut s = fil::Session::new(&elf, &FAST, move |t| w2.mv_at(t)).unwrap();
    let mut bytes = s.advance(fil::HOST_START_S).unwrap();
    s.send(&fil::host_start());
    for _ in 0..55 {
        bytes.extend(s.advance(0.01).unwrap());
    }
    assert_eq!(s.framing_errors(), 0);
    assert!(s.emu.usci.sent.len() <= 1, "characters are dropped once received");
    assert!(bytes.len() > 5000, "{} bytes, batch {}", bytes.len(), batch.bytes.len());
    assert_eq!(bytes[..], batch.bytes[..bytes.len()]);
    assert!(batch.bytes.len() - bytes.len() <= 1);
}

/// `ct-read --simulate --firmware`: the virtual device's load and sensor model as the ADC
/// input of the emulated firmware (`VirtualDevice::adc_millivolts` into `fil::Session`); the
/// meter reads the load's current.
#[test]
fn the_virtual_load_drives_the_emulated_firmware() {
    use ct_core::calibration::Calibration;
    use ct_sim::{DeviceProfile, Faults, Load, Shape, VirtualDevice};
    for (profile, device) in [(LAUNCHPAD, DeviceProfile::LAUNCHPAD), (FAST, DeviceProfile::FAST)] {
        let load = Load { amps: 7.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
        let dev = VirtualDevice::new(device, load, Calibration::builtin().full_scale_code(), 0.3, Faults::default(), 1);
        let mut s = fil::Session::new(&common::elf(&profile), &profile, dev.adc_millivolts()).unwrap();
        let mut bytes = s.advance(fil::HOST_START_S).unwrap();
        s.send(&fil::host_start());
        for _ in 0..35 {
            bytes.extend(s.advance(0.1).unwrap());
        }
        let mut meter = ct_core::meter::Meter::new(Calibration::builtin(), Default::default());
        let mut amps = Vec::new();
        meter
            .bytes(&bytes, &mut |e| {
                if let ct_core::meter::Event::Reading(r) = e {
                    amps.push(r.irms_a)
                }
            })
            .unwrap();
        assert!(amps.len() >= 2, "{}: {} readings", profile.name, amps.len());
        for a in &amps {
            assert!((a / 7.0 - 1.0).abs() < 0.01, "{}: {a} A for 7 A", profile.name);
        }
    }
}

/// The meter's full (about 1 s) readings of `bytes`, each checked against `case`'s golden
/// target (golden/ACCURACY.md), as [`check_case`] checks them; returns how many.
fn readings_meet_the_target(what: &str, c: &ct_golden::Case, bytes: &[u8]) -> usize {
    let mut meter = ct_core::meter::Meter::new(ct_core::calibration::Calibration::builtin(), Default::default());
    let mut full = Vec::new();
    meter
        .bytes(bytes, &mut |e| {
            if let ct_core::meter::Event::Reading(r) = e {
                if r.duration_s > 0.9 {
                    full.push(r);
                }
            }
        })
        .unwrap();
    for r in &full {
        against_target(c, r).unwrap_or_else(|m| panic!("{what}: {m}"));
    }
    full.len()
}

/// The frames in `bytes` (after a leading lone delimiter, if any), decoded.
fn frames(bytes: &[u8]) -> Vec<ct_wire::Frame<'static>> {
    let mut dec = ct_core::decoder::Decoder::new();
    dec.received(bytes);
    let mut out = Vec::new();
    loop {
        match dec.decode() {
            Ok(f) => out.push(match f {
                ct_wire::Frame::Samples(s) => {
                    let packed: &'static [u8] = Box::leak(s.packed.to_vec().into_boxed_slice());
                    ct_wire::Frame::Samples(ct_wire::Samples { first_index: s.first_index, packed })
                }
                ct_wire::Frame::Info(i) => ct_wire::Frame::Info(i),
                ct_wire::Frame::Status(s) => ct_wire::Frame::Status(s),
                ct_wire::Frame::AdcCal(c) => ct_wire::Frame::AdcCal(c),
            }),
            Err(ct_core::decoder::DecodeError::NeedMoreBytes) => break,
            Err(e) => panic!("malformed frame: {e:?}"),
        }
    }
    out
}

/// A real-board session (issue 12 item 4) with the release ELFs: the host opens the port 2 s
/// after power-up and the device has sent nothing; the host's Start (through the emulated
/// UART receiver) starts the stream with a lone delimiter and an Info frame, then Samples
/// from index 0 whose readings meet the golden target; the host sends a KeepAlive every
/// second, then goes away: the device stops 5 s (`KEEPALIVE_TIMEOUT_S`) after the last
/// message and stays silent; a new host's Start restarts it with an Info frame first (no
/// lone delimiter: the line is between frames), the index running on, and readings that
/// meet the target again.
#[test]
fn streams_only_while_a_host_asks() {
    use ct_wire::command::{Command, KEEPALIVE_TIMEOUT_S};
    use ct_wire::Frame;
    let (c, w) = golden("sine-50hz-3.4a");
    for profile in PROFILES {
        let what = profile.name;
        let w = w.clone();
        let mut s = fil::Session::new(&common::elf(&profile), &profile, move |t| w.mv_at(t)).unwrap();
        // Nobody has the port open: nothing goes on the line.
        let before = s.advance(2.0).unwrap();
        assert!(
            before.is_empty() && s.emu.usci.sent.is_empty(),
            "{what}: {} bytes before the host asked",
            before.len()
        );
        assert!(s.emu.adc.conversions > 1000, "{what}: sampling runs meanwhile");

        // The host opens the port: Start, then a KeepAlive a second, for 3.5 s.
        s.send(&fil::host_start());
        let mut first = Vec::new();
        let mut last_message = s.emu.seconds();
        for k in 1..=35 {
            if k % 10 == 0 {
                s.send(Command::KeepAlive.line());
                last_message = s.emu.seconds();
            }
            first.extend(s.advance(0.1).unwrap());
        }
        assert_eq!(first.first(), Some(&ct_wire::framing::DELIMITER), "{what}: a lone delimiter first");
        let f = frames(&first);
        assert!(
            matches!(f.first(), Some(Frame::Info(i)) if i.reset_cause == ct_wire::ResetCause::PowerOn),
            "{what}: Info first"
        );
        let firsts: Vec<u32> = f
            .iter()
            .filter_map(|f| match f {
                Frame::Samples(x) => Some(x.first_index),
                _ => None,
            })
            .collect();
        assert_eq!(firsts.first(), Some(&0), "{what}: the index starts at 0 at the first start");
        assert!(firsts.windows(2).all(|p| p[1] == p[0] + 112), "{what}: no gap");
        assert!(readings_meet_the_target(what, &c, &first) >= 2, "{what}: full readings after the start");

        // The host goes away: the stream ends KEEPALIVE_TIMEOUT_S of samples after its last
        // message (within a frame and the bytes in flight), and the line stays silent.
        let mut last_byte_at = s.emu.seconds();
        for _ in 0..80 {
            if !s.advance(0.1).unwrap().is_empty() {
                last_byte_at = s.emu.seconds();
            }
        }
        let stopped_after = last_byte_at - last_message;
        let frame_s = 112.0 / profile.rate_hz;
        let timeout = KEEPALIVE_TIMEOUT_S as f64;
        assert!(
            stopped_after > timeout - frame_s && stopped_after < timeout + 2.0 * frame_s + 0.2,
            "{what}: last byte {stopped_after:.2} s after the last message"
        );
        assert!(s.emu.seconds() - last_byte_at > 2.5, "{what}: silent after the timeout");

        // A new host: Start again.
        s.send(&fil::host_start());
        let mut again = Vec::new();
        for k in 1..=35 {
            if k % 10 == 0 {
                s.send(Command::KeepAlive.line());
            }
            again.extend(s.advance(0.1).unwrap());
        }
        assert_ne!(again.first(), Some(&ct_wire::framing::DELIMITER), "{what}: no lone delimiter at a restart");
        let f = frames(&again);
        assert!(matches!(f.first(), Some(Frame::Info(_))), "{what}: Info first at the restart");
        let resumed = f.iter().find_map(|f| match f {
            Frame::Samples(x) => Some(x.first_index),
            _ => None,
        });
        let last_sent = *firsts.last().unwrap();
        assert!(
            resumed.is_some_and(|i| i > last_sent + 112),
            "{what}: the index ran on ({resumed:?} after {last_sent})"
        );
        assert!(readings_meet_the_target(what, &c, &again) >= 2, "{what}: full readings after the restart");
        assert!(s.emu.resets.is_empty(), "{what}: {:?}", s.emu.resets);
        assert_eq!(s.framing_errors(), 0, "{what}");
        assert_eq!(s.emu.usci.rx_framing_errors, 0, "{what}: host bytes received cleanly");
    }
}

/// Issue 12 item 6 with the release ELFs: a chip whose 2.5 V reference is 2 % high (with a
/// 0.2 % gain error and +1 LSB of offset), its TLV segment holding the factory calibration
/// that measured them. The firmware reads and checks the segment and sends the ADC
/// calibration frame after Info; the host applies it and the readings meet the golden
/// targets (`check_patched`). With one byte of the segment changed, the firmware reports the
/// bad checksum, the host says so and applies nothing, and the same golden reads about 2 %
/// low: without the calibration the targets would be missed.
#[test]
fn the_tlv_calibration_corrects_a_reference_2_percent_high() {
    let errors = ct_emu::adc::AdcErrors { vref25_error: 0.02, gain_error: 0.002, offset_lsb: 1.0 };
    let want = ct_wire::AdcCal {
        status: ct_wire::AdcCalStatus::Valid,
        gain_factor: 32703,   // round(2^15 / 1.002)
        offset: -1,           // round(-1 / 1.002)
        vref25_factor: 33423, // round(1.02 x 2^15)
    };
    for profile in PROFILES {
        for case in CASES {
            check_patched(&profile, case, |emu, _| emu.set_adc_errors(errors));
        }
        // The frame itself, and the host's notice of it.
        let (c, w) = golden("sine-50hz-95a");
        let run = fil::run(
            &common::elf(&profile),
            &profile,
            SECONDS,
            move |t| w.mv_at(t),
            |emu, _| emu.set_adc_errors(errors),
        )
        .unwrap();
        let d = common::decode(&run);
        assert_eq!(d.adc_cals, vec![want; d.infos.len()], "{}: one ADC calibration frame per Info", profile.name);
        assert!(d.notices.contains(&Notice::AdcCalibration(Some(want))), "{}: {:?}", profile.name, d.notices);
        let good = mean_rel_error(&d, &c);
        // Corrupted: CAL_ADC_25VREF_FACTOR's low byte changed after the checksum was written.
        let (_, w) = golden("sine-50hz-95a");
        let run = fil::run(
            &common::elf(&profile),
            &profile,
            SECONDS,
            move |t| w.mv_at(t),
            |emu, _| {
                emu.set_adc_errors(errors);
                emu.mem[0x10E6] ^= 0x04;
            },
        )
        .unwrap();
        let d = common::decode(&run);
        let bad = d.adc_cals.first().unwrap_or_else(|| panic!("{}: no ADC calibration frame", profile.name));
        assert_eq!(bad.status, ct_wire::AdcCalStatus::BadChecksum, "{}", profile.name);
        assert!(d.notices.contains(&Notice::AdcCalibration(Some(*bad))), "{}: {:?}", profile.name, d.notices);
        let uncorrected = mean_rel_error(&d, &c);
        eprintln!(
            "{}: sine-50hz-95a with the reference 2 % high: {:+.3} % calibrated, {:+.3} % with the segment corrupt",
            profile.name,
            good * 100.0,
            uncorrected * 100.0
        );
        assert!(good.abs() < 0.01, "{}: calibrated {:+.3} %", profile.name, good * 100.0);
        assert!(uncorrected < -0.015, "{}: uncorrected {:+.3} %", profile.name, uncorrected * 100.0);
    }
}

/// Mean relative error of the full (about 1 s) readings of `d` against the golden's true RMS.
fn mean_rel_error(d: &common::Decoded, c: &ct_golden::Case) -> f64 {
    let full: Vec<f64> =
        d.readings.iter().filter(|r| r.duration_s > 0.9).map(|r| r.irms_a / c.true_rms_a - 1.0).collect();
    assert!(full.len() >= 2, "{} full readings", full.len());
    full.iter().sum::<f64>() / full.len() as f64
}

/// What a host made of a session read through the link: readings with when they were handed
/// on (host time, s since power-up), and notices.
#[derive(Default)]
struct Hosted {
    readings: Vec<(Reading, f64)>,
    notices: Vec<Notice>,
}

/// The host's meter on `chunks` (stamped Unix ns from `t0_ns`); with `clocked`, it is told
/// when each chunk arrived and measures the device's clock (`ct_core::sample_clock`), as
/// `ct-read` does live; without, it believes the nominal rate in the Info frame.
fn host_reads(chunks: &[(i64, Vec<u8>)], t0_ns: i64, clocked: bool) -> Hosted {
    let mut meter = ct_core::meter::Meter::new(ct_core::calibration::Calibration::builtin(), Default::default());
    let mut h = Hosted::default();
    for (ns, bytes) in chunks {
        let at = (ns - t0_ns) as f64 / 1e9;
        let mut out = |e| match e {
            ct_core::meter::Event::Reading(r) => h.readings.push((r, at)),
            ct_core::meter::Event::Notice(n) => h.notices.push(n),
        };
        meter.bytes(bytes, &mut out).unwrap();
        if clocked {
            meter.received(*ns, &mut out);
        }
    }
    h
}

/// Issue 12's "Done when", everything at once, with the release ELFs: the host opens the port
/// 2 s after power-up (the device has sent nothing); its Start starts the stream and its
/// KeepAlives (one a second) keep it going (wire/SPEC.md), read through a bursty USB link
/// (`ct_sim::UsbLink`); the DCO runs 3 % slow, then 3 % fast (and with it the sample clock
/// and the baud rate); the chip's 2.5 V reference is 3 % high, then 3 % low (with a 0.2 %
/// gain error and +1 LSB of offset), its TLV segment holding the factory calibration that
/// measured them. Once the host's estimate of the device clock settles, every full reading
/// meets the golden target and the mains frequency is within 0.005 Hz
/// (`sample_clock::SETTLED_PPM` at 50 Hz, below the 0.01 Hz the readings print).
///
/// It can fail: the same line bytes read without receive times (the nominal clock) put 50 Hz
/// mains at 50 / 0.97 = 51.55 Hz (48.54 Hz when fast) and the current 1.8-1.9 % off (measured;
/// the target is 1 %); the same session with one byte of the TLV segment changed (bad
/// checksum: the host applies no calibration) reads 2.6-2.9 % off. Both miss the targets.
///
/// Eight emulations of 82 s: 18 s in a release build on the development machine, 0.3-0.4 s each for the
/// launchpad profile and 4.3 s for the fast one (the emulator skips the firmware's sleep);
/// figures printed with `cargo test --release -p ct-sim --test firmware a_real_board -- --nocapture`.
#[test]
fn a_real_board_session_meets_the_targets() {
    use ct_core::sample_clock::SETTLED_PPM;
    const T0_NS: i64 = 1_790_000_000_000_000_000;
    const OPEN_S: f64 = 2.0;
    const UNTIL_S: f64 = OPEN_S + 80.0;
    let (c, w) = golden("sine-50hz-3.4a");
    let hz_tolerance = SETTLED_PPM * 1e-6 * c.mains_hz;
    let rel = |r: &Reading| r.irms_a / c.true_rms_a - 1.0;
    for profile in PROFILES {
        for (dco_error, vref25_error) in [(-0.03, 0.03), (0.03, -0.03)] {
            let what = format!("{} DCO {:+} % reference {:+} %", profile.name, dco_error * 100.0, vref25_error * 100.0);
            let errors = ct_emu::adc::AdcErrors { vref25_error, gain_error: 0.002, offset_lsb: 1.0 };
            let session = |corrupt_tlv: bool| {
                let cfg = ct_emu::Config { dco_error, ..ct_emu::Config::default() };
                let w = w.clone();
                let mut s =
                    fil::Session::with_config(&common::elf(&profile), &profile, &cfg, move |t| w.mv_at(t)).unwrap();
                s.emu.set_adc_errors(errors);
                if corrupt_tlv {
                    // CAL_ADC_25VREF_FACTOR's low byte, changed after the checksum was written.
                    s.emu.mem[0x10E6] ^= 0x04;
                }
                let before = s.advance(OPEN_S).unwrap();
                assert!(
                    before.is_empty() && s.emu.usci.sent.is_empty(),
                    "{what}: {} bytes before the host asked",
                    before.len()
                );
                let chunks = ct_sim::emulated_usb_chunks(&mut s, UNTIL_S, T0_NS, 23).unwrap();
                assert!(s.emu.resets.is_empty(), "{what}: {:?}", s.emu.resets);
                assert_eq!(s.framing_errors(), 0, "{what}: framing errors");
                assert_eq!(s.emu.usci.rx_framing_errors, 0, "{what}: host bytes received cleanly");
                chunks
            };
            let started = std::time::Instant::now();
            let chunks = session(false);
            let emulation_s = started.elapsed().as_secs_f64();

            let h = host_reads(&chunks, T0_NS, true);
            for n in &h.notices {
                assert!(
                    !matches!(
                        n,
                        Notice::Gap { .. } | Notice::Overrun { .. } | Notice::Reset { .. } | Notice::Skipped { .. }
                    ),
                    "{what}: {n:?}"
                );
            }
            let cal = h.notices.iter().find_map(|n| if let Notice::AdcCalibration(c) = n { *c } else { None });
            assert!(
                cal.is_some_and(|c| c.status == ct_wire::AdcCalStatus::Valid && c.correction().is_some()),
                "{what}: calibration {cal:?}"
            );
            let full: Vec<&(Reading, f64)> = h.readings.iter().filter(|(r, _)| r.duration_s > 0.9).collect();
            let first =
                full.iter().position(|(r, _)| r.clock_ppm.is_some()).unwrap_or_else(|| panic!("{what}: never settled"));
            let settled_after = full[first].1 - OPEN_S;
            assert!(settled_after <= 75.0, "{what}: the clock settled {settled_after:.1} s after the port opened");
            let settled = &full[first..];
            assert!(settled.len() >= 5, "{what}: {} settled readings", settled.len());
            // Before: the nominal rate, and 50 Hz read at 50 / (1 + error) Hz.
            for (r, _) in &full[..first] {
                let hz = r.hz.unwrap();
                assert!((hz * (1.0 + dco_error) / c.mains_hz - 1.0).abs() < 1e-3, "{what}: before settling {hz} Hz");
            }
            let mut worst = 0.0f64;
            for (r, _) in settled {
                let ppm = r.clock_ppm.unwrap();
                assert!((ppm - dco_error * 1e6).abs() <= SETTLED_PPM, "{what}: clock {ppm} ppm");
                let hz = r.hz.unwrap();
                assert!((hz - c.mains_hz).abs() <= hz_tolerance, "{what}: {hz} Hz at {} s", r.t_s);
                let err = against_target(&c, r).unwrap_or_else(|m| panic!("{what}: {m}"));
                worst = if err.abs() > worst.abs() { err } else { worst };
            }
            let stating = settled.iter().filter(|(r, _)| r.bound_pct.is_some()).count();

            // Without the measured clock: the same bytes, the readings handed on from when
            // the estimate settled, the mains frequency off by the DCO's error, and the current
            // off with it.
            let nominal = host_reads(&chunks, T0_NS, false);
            let nominal: Vec<&Reading> = nominal
                .readings
                .iter()
                .filter(|(r, at)| r.duration_s > 0.9 && *at >= full[first].1)
                .map(|(r, _)| r)
                .collect();
            for r in &nominal {
                let hz = r.hz.unwrap();
                assert!(
                    r.clock_ppm.is_none() && (hz - c.mains_hz).abs() > 100.0 * hz_tolerance,
                    "{what}: nominal {hz} Hz"
                );
            }
            assert_misses(&what, "with the nominal clock", &c, &nominal);

            // Without the TLV correction: the same session with the segment corrupt.
            let bad = host_reads(&session(true), T0_NS, true);
            assert!(
                bad.notices.iter().any(
                    |n| matches!(n, Notice::AdcCalibration(Some(c)) if c.status == ct_wire::AdcCalStatus::BadChecksum)
                ),
                "{what}: {:?}",
                bad.notices
            );
            let uncorrected: Vec<&Reading> =
                bad.readings.iter().map(|(r, _)| r).filter(|r| r.duration_s > 0.9 && r.clock_ppm.is_some()).collect();
            assert_misses(&what, "without the TLV calibration", &c, &uncorrected);
            let mean = |rs: &[&Reading]| 100.0 * rs.iter().map(|r| rel(r)).sum::<f64>() / rs.len() as f64;
            eprintln!(
                "{what}: clock settled {settled_after:.1} s after the port opened; {} settled readings ({stating} \
                 stating a bound), worst {:+.3} %, mains {:.4}-{:.4} Hz; nominal clock: {:.3} Hz, mean {:+.3} %; \
                 TLV corrupt: mean {:+.3} %; {emulation_s:.2} s of emulation for {UNTIL_S} s",
                settled.len(),
                worst * 100.0,
                settled.iter().map(|(r, _)| r.hz.unwrap()).fold(f64::INFINITY, f64::min),
                settled.iter().map(|(r, _)| r.hz.unwrap()).fold(0.0, f64::max),
                nominal[0].hz.unwrap(),
                mean(&nominal),
                mean(&uncorrected),
            );
        }
    }
}

/// The readings of a run with one correction left out miss `c`'s golden target: every one
/// that states no bound of its own (a stated bound, wide as it is, is met by this error), and
/// there are at least 5 of those.
fn assert_misses(what: &str, without: &str, c: &ct_golden::Case, readings: &[&Reading]) {
    let plain: Vec<&&Reading> = readings.iter().filter(|r| r.bound_pct.is_none()).collect();
    assert!(plain.len() >= 5, "{what}: {} readings {without}", plain.len());
    for r in plain {
        assert!(against_target(c, r).is_err(), "{what}: {without}, {} A met the target", r.irms_a);
    }
}
