//! Frame payloads: one kind byte, a fixed little-endian body, then the CRC-16 (see `SPEC.md`).
//!
//! Encoding writes `kind || body || crc16_le` into a caller buffer (no allocation, so the
//! firmware can use it); [`Frame::parse`] checks the CRC and the layout of such a buffer after
//! COBS decoding.

use crate::checksum::{crc16, CRC_LEN};
use crate::pack::{self, GROUP_BYTES, GROUP_SAMPLES};
use crate::MAX_SAMPLES_PER_FRAME;

/// Kind byte of an Info frame.
pub const KIND_INFO: u8 = 0x01;
/// Kind byte of a Samples frame.
pub const KIND_SAMPLES: u8 = 0x02;
/// Kind byte of a Status frame.
pub const KIND_STATUS: u8 = 0x03;
/// Kind byte of an ADC calibration frame (protocol version 2).
pub const KIND_ADC_CAL: u8 = 0x04;

/// Info body length in bytes.
pub const INFO_BODY_LEN: usize = 21;
/// Status body length in bytes.
pub const STATUS_BODY_LEN: usize = 12;
/// ADC calibration body length in bytes.
pub const ADC_CAL_BODY_LEN: usize = 7;
/// Bytes before the packed samples in a Samples payload: kind + 32-bit first index.
pub const SAMPLES_HEADER_LEN: usize = 5;

/// Payload length (kind byte included, CRC excluded) of a Samples frame of `n` samples.
pub const fn samples_payload_len(n: usize) -> usize {
    SAMPLES_HEADER_LEN + n / GROUP_SAMPLES * GROUP_BYTES
}

/// Why a device last reset, from the MSP430's IFG1 flags (or the virtual device).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetCause {
    PowerOn,
    /// The RST/NMI pin (the LaunchPad's reset button, or a debugger).
    ResetPin,
    /// The watchdog expired: the main loop stalled.
    Watchdog,
    /// A flash key violation or other security-key PUC.
    KeyViolation,
    /// A value this host does not know (a newer firmware).
    Other(u8),
}

impl ResetCause {
    pub fn to_byte(self) -> u8 {
        match self {
            ResetCause::PowerOn => 0,
            ResetCause::ResetPin => 1,
            ResetCause::Watchdog => 2,
            ResetCause::KeyViolation => 3,
            ResetCause::Other(b) => b,
        }
    }

    pub fn from_byte(b: u8) -> Self {
        match b {
            0 => ResetCause::PowerOn,
            1 => ResetCause::ResetPin,
            2 => ResetCause::Watchdog,
            3 => ResetCause::KeyViolation,
            b => ResetCause::Other(b),
        }
    }
}

/// Firmware build profile: which link the stream is sized for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildProfile {
    /// 9600 baud through the LaunchPad's `/dev/ttyACM0` back-channel; sub-sampled stream.
    Launchpad,
    /// An external USB-UART at >= 115200 baud; full waveform (>= 8000 samples/s).
    Fast,
    /// A value this host does not know.
    Other(u8),
}

impl BuildProfile {
    pub fn to_byte(self) -> u8 {
        match self {
            BuildProfile::Launchpad => 1,
            BuildProfile::Fast => 2,
            BuildProfile::Other(b) => b,
        }
    }

    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => BuildProfile::Launchpad,
            2 => BuildProfile::Fast,
            b => BuildProfile::Other(b),
        }
    }
}

/// Info flag: the stream comes from the built-in virtual device, not hardware.
pub const INFO_FLAG_VIRTUAL: u8 = 0x01;

/// Device description, sent at boot and at least every 10 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub protocol_version: u8,
    /// Firmware version: major, minor, patch.
    pub firmware_version: [u8; 3],
    /// Clock of the timer that triggers the ADC, in Hz.
    pub timer_clock_hz: u32,
    /// Timer ticks per sample: the sample rate is exactly `timer_clock_hz / ticks_per_sample`.
    pub ticks_per_sample: u16,
    /// ADC reference in millivolts (full scale is `adc_ref_mv` at code 2^bits).
    pub adc_ref_mv: u16,
    pub adc_bits: u8,
    pub baud: u32,
    pub reset_cause: ResetCause,
    pub build_profile: BuildProfile,
    pub samples_per_frame: u8,
    /// Bit set of `INFO_FLAG_*`.
    pub flags: u8,
}

impl Info {
    /// Sample rate in Hz, exact up to the accuracy of the timer clock.
    pub fn sample_rate_hz(&self) -> f64 {
        self.timer_clock_hz as f64 / self.ticks_per_sample as f64
    }

    pub fn is_virtual(&self) -> bool {
        self.flags & INFO_FLAG_VIRTUAL != 0
    }
}

/// Health counters, sent about once a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Samples lost to queue overrun since reset (cumulative).
    pub dropped_total: u32,
    /// Most samples ever waiting in the device's queue.
    pub queue_high_water: u16,
    /// Capacity of that queue, so the high-water mark can be judged.
    pub queue_capacity: u16,
    /// Seconds since reset.
    pub uptime_s: u32,
}

/// What the device found in its factory calibration (the G2553's TLV segment, info flash
/// 0x10C0-0x10FF): whether the ADC10 words it sends can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdcCalStatus {
    /// Checksum good and the ADC10 calibration tag in place: the words are the factory's.
    Valid,
    /// The whole segment reads 0xFF: erased (e.g. by a careless mass erase).
    Erased,
    /// The segment's checksum does not match its contents: corrupted or overwritten.
    BadChecksum,
    /// The checksum matches but the ADC10 tag or its length is not where the data sheet puts
    /// them (another chip, or a segment rewritten by a program).
    NoAdcTag,
    /// A value this host does not know (a newer firmware): treated as not valid.
    Other(u8),
}

impl AdcCalStatus {
    pub fn to_byte(self) -> u8 {
        match self {
            AdcCalStatus::Valid => 0,
            AdcCalStatus::Erased => 1,
            AdcCalStatus::BadChecksum => 2,
            AdcCalStatus::NoAdcTag => 3,
            AdcCalStatus::Other(b) => b,
        }
    }

    pub fn from_byte(b: u8) -> Self {
        match b {
            0 => AdcCalStatus::Valid,
            1 => AdcCalStatus::Erased,
            2 => AdcCalStatus::BadChecksum,
            3 => AdcCalStatus::NoAdcTag,
            b => AdcCalStatus::Other(b),
        }
    }
}

/// The device's factory ADC calibration words, as read from its TLV segment, sent after
/// every Info frame (protocol version 2). Integers on the MCU: the host applies them
/// ([`AdcCal::correction`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdcCal {
    pub status: AdcCalStatus,
    /// CAL_ADC_GAIN_FACTOR: 2^15 / gain of the converter (2^15 = no correction).
    pub gain_factor: u16,
    /// CAL_ADC_OFFSET: added to a conversion after the gain correction, LSB (two's complement).
    pub offset: i16,
    /// CAL_ADC_25VREF_FACTOR: the 2.5 V reference's true value / 2.5 V x 2^15.
    pub vref25_factor: u16,
}

/// A calibration factor further than this from 1 (2^15) is not applied even with a good
/// checksum: the G2553's 2.5 V reference and gain are trimmed to within a few percent, so
/// such a value is not a factory trim (a segment rewritten with a matching checksum).
pub const ADC_CAL_FACTOR_LIMIT: f64 = 0.10;
/// The same for CAL_ADC_OFFSET, LSB.
pub const ADC_CAL_OFFSET_LIMIT: i16 = 64;

/// How a device's codes are corrected: `code x scale + offset_lsb`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdcCorrection {
    /// CAL_ADC_25VREF_FACTOR / 2^15 x CAL_ADC_GAIN_FACTOR / 2^15.
    pub scale: f64,
    /// CAL_ADC_OFFSET, LSB.
    pub offset_lsb: f64,
}

impl AdcCorrection {
    /// A raw conversion result, corrected (SPEC.md, "ADC calibration").
    pub fn apply(&self, code: f64) -> f64 {
        code * self.scale + self.offset_lsb
    }
}

impl AdcCal {
    /// The reference factor as a ratio (1 = exactly 2.5 V).
    pub fn vref25_ratio(&self) -> f64 {
        f64::from(self.vref25_factor) / 32768.0
    }

    /// The gain factor as a ratio (1 = no correction).
    pub fn gain_ratio(&self) -> f64 {
        f64::from(self.gain_factor) / 32768.0
    }

    /// The correction to apply, or `None` when the words cannot be trusted: a status other
    /// than [`AdcCalStatus::Valid`], or a factor or offset beyond [`ADC_CAL_FACTOR_LIMIT`] /
    /// [`ADC_CAL_OFFSET_LIMIT`].
    ///
    /// TI's rule (MSP430x2xx Family User's Guide, SLAU144, 24.2.2 "Calibration data"): a
    /// conversion with the 2.5 V reference is multiplied by CAL_ADC_25VREF_FACTOR / 2^15;
    /// the gain correction multiplies by CAL_ADC_GAIN_FACTOR / 2^15 and is done before the
    /// offset correction, which adds CAL_ADC_OFFSET.
    pub fn correction(&self) -> Option<AdcCorrection> {
        let (vref, gain) = (self.vref25_ratio(), self.gain_ratio());
        let plausible = (vref - 1.0).abs() <= ADC_CAL_FACTOR_LIMIT
            && (gain - 1.0).abs() <= ADC_CAL_FACTOR_LIMIT
            && self.offset.unsigned_abs() <= ADC_CAL_OFFSET_LIMIT as u16;
        (self.status == AdcCalStatus::Valid && plausible)
            .then(|| AdcCorrection { scale: vref * gain, offset_lsb: f64::from(self.offset) })
    }

    fn write_body(&self, b: &mut [u8]) {
        b[0] = self.status.to_byte();
        b[1..3].copy_from_slice(&self.gain_factor.to_le_bytes());
        b[3..5].copy_from_slice(&self.offset.to_le_bytes());
        b[5..7].copy_from_slice(&self.vref25_factor.to_le_bytes());
    }

    fn read_body(b: &[u8]) -> Self {
        AdcCal {
            status: AdcCalStatus::from_byte(b[0]),
            gain_factor: u16::from_le_bytes([b[1], b[2]]),
            offset: i16::from_le_bytes([b[3], b[4]]),
            vref25_factor: u16::from_le_bytes([b[5], b[6]]),
        }
    }

    /// Writes `KIND_ADC_CAL || body || crc16_le` into `buf`, like [`Info::encode`]: the same
    /// bytes as `Frame::AdcCal(*self).encode(buf)`.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, FrameError> {
        const PAYLOAD: usize = 1 + ADC_CAL_BODY_LEN;
        if buf.len() < PAYLOAD + CRC_LEN {
            return Err(FrameError::BufferTooSmall { needed: PAYLOAD + CRC_LEN });
        }
        buf[0] = KIND_ADC_CAL;
        self.write_body(&mut buf[1..PAYLOAD]);
        seal(buf, PAYLOAD)
    }
}

/// A run of consecutive samples, still packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Samples<'a> {
    /// Index of the first sample since reset. Consecutive frames continue the count, so a
    /// receiver sees exactly how many samples it missed; wraps after 2^32 samples.
    pub first_index: u32,
    /// `len() / 4 * 5` bytes of packed 10-bit samples.
    pub packed: &'a [u8],
}

impl<'a> Samples<'a> {
    pub fn len(&self) -> usize {
        self.packed.len() / GROUP_BYTES * GROUP_SAMPLES
    }

    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        pack::unpack(self.packed)
    }
}

/// A decoded frame payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Info(Info),
    Samples(Samples<'a>),
    Status(Status),
    AdcCal(AdcCal),
}

/// Why a COBS-decoded payload is not a valid frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Shorter than a kind byte plus the CRC.
    TooShort { len: usize },
    /// The CRC does not match: the bytes were corrupted on the line.
    BadCrc { computed: u16, received: u16 },
    /// The kind byte is not one this version knows.
    UnknownKind { kind: u8 },
    /// The body length does not fit the kind.
    BadLength { kind: u8, len: usize },
    /// The output buffer is too small for the frame being encoded.
    BufferTooSmall { needed: usize },
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            FrameError::TooShort { len } => {
                write!(f, "frame of {len} bytes is shorter than kind + CRC")
            }
            FrameError::BadCrc { computed, received } => {
                write!(f, "CRC mismatch: computed {computed:#06x}, frame says {received:#06x}")
            }
            FrameError::UnknownKind { kind } => write!(f, "unknown frame kind {kind:#04x}"),
            FrameError::BadLength { kind, len } => {
                write!(f, "body of {len} bytes is invalid for frame kind {kind:#04x}")
            }
            FrameError::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

/// Appends the CRC of `buf[..payload_len]` after it and returns the sealed length.
///
/// This is how the firmware finishes a Samples frame it packed in place.
pub fn seal(buf: &mut [u8], payload_len: usize) -> Result<usize, FrameError> {
    let total = payload_len + CRC_LEN;
    if buf.len() < total {
        return Err(FrameError::BufferTooSmall { needed: total });
    }
    let crc = crc16(&buf[..payload_len]);
    buf[payload_len..total].copy_from_slice(&crc.to_le_bytes());
    Ok(total)
}

/// Writes the kind byte and first index of a Samples payload; the packed groups follow at
/// `buf[SAMPLES_HEADER_LEN..]`.
pub fn write_samples_header(buf: &mut [u8], first_index: u32) -> Result<(), FrameError> {
    if buf.len() < SAMPLES_HEADER_LEN {
        return Err(FrameError::BufferTooSmall { needed: SAMPLES_HEADER_LEN });
    }
    buf[0] = KIND_SAMPLES;
    buf[1..5].copy_from_slice(&first_index.to_le_bytes());
    Ok(())
}

impl Info {
    fn write_body(&self, b: &mut [u8]) {
        b[0] = self.protocol_version;
        b[1..4].copy_from_slice(&self.firmware_version);
        b[4..8].copy_from_slice(&self.timer_clock_hz.to_le_bytes());
        b[8..10].copy_from_slice(&self.ticks_per_sample.to_le_bytes());
        b[10..12].copy_from_slice(&self.adc_ref_mv.to_le_bytes());
        b[12] = self.adc_bits;
        b[13..17].copy_from_slice(&self.baud.to_le_bytes());
        b[17] = self.reset_cause.to_byte();
        b[18] = self.build_profile.to_byte();
        b[19] = self.samples_per_frame;
        b[20] = self.flags;
    }

    fn read_body(b: &[u8]) -> Self {
        Info {
            protocol_version: b[0],
            firmware_version: [b[1], b[2], b[3]],
            timer_clock_hz: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            ticks_per_sample: u16::from_le_bytes([b[8], b[9]]),
            adc_ref_mv: u16::from_le_bytes([b[10], b[11]]),
            adc_bits: b[12],
            baud: u32::from_le_bytes([b[13], b[14], b[15], b[16]]),
            reset_cause: ResetCause::from_byte(b[17]),
            build_profile: BuildProfile::from_byte(b[18]),
            samples_per_frame: b[19],
            flags: b[20],
        }
    }
}

impl Status {
    fn write_body(&self, b: &mut [u8]) {
        b[0..4].copy_from_slice(&self.dropped_total.to_le_bytes());
        b[4..6].copy_from_slice(&self.queue_high_water.to_le_bytes());
        b[6..8].copy_from_slice(&self.queue_capacity.to_le_bytes());
        b[8..12].copy_from_slice(&self.uptime_s.to_le_bytes());
    }

    fn read_body(b: &[u8]) -> Self {
        Status {
            dropped_total: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            queue_high_water: u16::from_le_bytes([b[4], b[5]]),
            queue_capacity: u16::from_le_bytes([b[6], b[7]]),
            uptime_s: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
        }
    }
}

impl<'a> Frame<'a> {
    /// Length of `kind || body || crc` for this frame.
    pub fn encoded_payload_len(&self) -> usize {
        1 + CRC_LEN
            + match self {
                Frame::Info(_) => INFO_BODY_LEN,
                Frame::Status(_) => STATUS_BODY_LEN,
                Frame::AdcCal(_) => ADC_CAL_BODY_LEN,
                Frame::Samples(s) => SAMPLES_HEADER_LEN - 1 + s.packed.len(),
            }
    }

    /// Writes `kind || body || crc16_le` into `buf`; returns the bytes written.
    /// COBS framing is a separate step ([`crate::framing::encode`]).
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, FrameError> {
        let total = self.encoded_payload_len();
        if buf.len() < total {
            return Err(FrameError::BufferTooSmall { needed: total });
        }
        let payload_len = match self {
            Frame::Info(i) => {
                buf[0] = KIND_INFO;
                i.write_body(&mut buf[1..1 + INFO_BODY_LEN]);
                1 + INFO_BODY_LEN
            }
            Frame::Status(s) => {
                buf[0] = KIND_STATUS;
                s.write_body(&mut buf[1..1 + STATUS_BODY_LEN]);
                1 + STATUS_BODY_LEN
            }
            Frame::AdcCal(c) => {
                buf[0] = KIND_ADC_CAL;
                c.write_body(&mut buf[1..1 + ADC_CAL_BODY_LEN]);
                1 + ADC_CAL_BODY_LEN
            }
            Frame::Samples(s) => {
                write_samples_header(buf, s.first_index)?;
                let end = SAMPLES_HEADER_LEN + s.packed.len();
                buf[SAMPLES_HEADER_LEN..end].copy_from_slice(s.packed);
                end
            }
        };
        seal(buf, payload_len)
    }

    /// Parses a COBS-decoded `kind || body || crc16_le`, checking the CRC first.
    pub fn parse(raw: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        if raw.len() < 1 + CRC_LEN {
            return Err(FrameError::TooShort { len: raw.len() });
        }
        let (payload, crc) = raw.split_at(raw.len() - CRC_LEN);
        let received = u16::from_le_bytes([crc[0], crc[1]]);
        let computed = crc16(payload);
        if computed != received {
            return Err(FrameError::BadCrc { computed, received });
        }
        let kind = payload[0];
        let body = &payload[1..];
        let bad_len = FrameError::BadLength { kind, len: body.len() };
        match kind {
            KIND_INFO if body.len() == INFO_BODY_LEN => Ok(Frame::Info(Info::read_body(body))),
            KIND_STATUS if body.len() == STATUS_BODY_LEN => Ok(Frame::Status(Status::read_body(body))),
            KIND_ADC_CAL if body.len() == ADC_CAL_BODY_LEN => Ok(Frame::AdcCal(AdcCal::read_body(body))),
            KIND_SAMPLES => {
                let packed_len = body.len().checked_sub(4).ok_or(bad_len)?;
                let n = packed_len / GROUP_BYTES * GROUP_SAMPLES;
                if packed_len % GROUP_BYTES != 0 || n == 0 || n > MAX_SAMPLES_PER_FRAME {
                    return Err(bad_len);
                }
                Ok(Frame::Samples(Samples {
                    first_index: u32::from_le_bytes([body[0], body[1], body[2], body[3]]),
                    packed: &body[4..],
                }))
            }
            KIND_INFO | KIND_STATUS | KIND_ADC_CAL => Err(bad_len),
            kind => Err(FrameError::UnknownKind { kind }),
        }
    }
}

impl Info {
    /// Writes `KIND_INFO || body || crc16_le` into `buf`: the same bytes as
    /// `Frame::Info(*self).encode(buf)`, without the 26-byte `Frame` temporary, which matters
    /// on the firmware's stack of under 200 bytes. Returns the bytes written.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, FrameError> {
        const PAYLOAD: usize = 1 + INFO_BODY_LEN;
        if buf.len() < PAYLOAD + CRC_LEN {
            return Err(FrameError::BufferTooSmall { needed: PAYLOAD + CRC_LEN });
        }
        buf[0] = KIND_INFO;
        self.write_body(&mut buf[1..PAYLOAD]);
        seal(buf, PAYLOAD)
    }
}

impl Status {
    /// Writes `KIND_STATUS || body || crc16_le` into `buf`, like [`Info::encode`]: the same
    /// bytes as `Frame::Status(*self).encode(buf)`.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, FrameError> {
        const PAYLOAD: usize = 1 + STATUS_BODY_LEN;
        if buf.len() < PAYLOAD + CRC_LEN {
            return Err(FrameError::BufferTooSmall { needed: PAYLOAD + CRC_LEN });
        }
        buf[0] = KIND_STATUS;
        self.write_body(&mut buf[1..PAYLOAD]);
        seal(buf, PAYLOAD)
    }
}

#[cfg(test)]
mod encode_without_frame {
    use super::*;

    /// The firmware's Frame-less encoders write exactly what Frame::encode writes.
    #[test]
    fn same_bytes_as_frame_encode() {
        let info = Info {
            protocol_version: crate::PROTOCOL_VERSION,
            firmware_version: [0, 1, 0],
            timer_clock_hz: 1_000_000,
            ticks_per_sample: 1657,
            adc_ref_mv: 2500,
            adc_bits: 10,
            baud: 9600,
            reset_cause: ResetCause::Watchdog,
            build_profile: BuildProfile::Launchpad,
            samples_per_frame: 112,
            flags: 0,
        };
        let status = Status { dropped_total: 7, queue_high_water: 200, queue_capacity: 224, uptime_s: 3600 };
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        let n = info.encode(&mut a).unwrap();
        assert_eq!(Frame::Info(info).encode(&mut b), Ok(n));
        assert_eq!(a, b);
        let n = status.encode(&mut a).unwrap();
        assert_eq!(Frame::Status(status).encode(&mut b), Ok(n));
        assert_eq!(a[..n], b[..n]);
        assert_eq!(info.encode(&mut a[..n]), Err(FrameError::BufferTooSmall { needed: 24 }));
        assert_eq!(status.encode(&mut a[..14]), Err(FrameError::BufferTooSmall { needed: 15 }));
        let cal = AdcCal { status: AdcCalStatus::Valid, gain_factor: 0x7FE0, offset: -2, vref25_factor: 33423 };
        let n = cal.encode(&mut a).unwrap();
        assert_eq!(Frame::AdcCal(cal).encode(&mut b), Ok(n));
        assert_eq!(a[..n], b[..n]);
        assert_eq!(cal.encode(&mut a[..9]), Err(FrameError::BufferTooSmall { needed: 10 }));
    }

    /// TI's worked example (SLAU144, 24.2.2, ADC12 with an external reference): code 2048,
    /// gain factor 0x7FE0 and offset -2 give 2048 x 32736 / 32768 - 2 = 2044; a 2 % high
    /// reference (factor round(1.02 x 2^15) = 33423) scales a code up by 1.02.
    #[test]
    fn correction_follows_ti_and_refuses_untrusted_words() {
        let ti = AdcCal { status: AdcCalStatus::Valid, gain_factor: 0x7FE0, offset: -2, vref25_factor: 0x8000 };
        let c = ti.correction().unwrap();
        assert!((c.apply(2048.0) - 2044.0).abs() < 1e-9, "{}", c.apply(2048.0));
        let high = AdcCal { status: AdcCalStatus::Valid, gain_factor: 0x8000, offset: 0, vref25_factor: 33423 };
        assert!((high.correction().unwrap().apply(500.0) - 500.0 * 33423.0 / 32768.0).abs() < 1e-9);
        for status in [AdcCalStatus::Erased, AdcCalStatus::BadChecksum, AdcCalStatus::NoAdcTag, AdcCalStatus::Other(9)]
        {
            assert_eq!(AdcCal { status, ..high }.correction(), None, "{status:?}");
        }
        assert_eq!(AdcCal { vref25_factor: 0xFFFF, ..high }.correction(), None, "factor 2");
        assert_eq!(AdcCal { gain_factor: 0, ..high }.correction(), None, "gain 0");
        assert_eq!(AdcCal { offset: 65, ..high }.correction(), None, "offset 65 LSB");
        assert!(AdcCal { offset: -64, ..high }.correction().is_some());
        for b in 0..=u8::MAX {
            assert_eq!(AdcCalStatus::from_byte(b).to_byte(), b);
        }
    }
}
