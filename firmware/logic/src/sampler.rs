//! What the ADC10 interrupt does with each conversion.
//!
//! RAM is 512 B, so samples are packed straight into one of two Samples-frame buffers
//! (`kind || first_index || 28 groups || crc`, 147 bytes each) instead of a ring of 16-bit
//! values: while the main loop sends one buffer the interrupt fills the other. A full buffer
//! is handed over ([`Sampler::take_ready`]); the main loop seals and sends it, then gives it
//! back ([`Sampler::release`]).
//!
//! When no buffer is free the conversion is dropped and counted. Each buffer's header is
//! written when its first sample arrives, with that sample's index since reset, so a gap is
//! always visible to the host as a jump in `first_index`, never as wrong samples.
//!
//! The device keeps the sampler in a critical-section mutex; every method is short and
//! bounded so the interrupt latency stays far below one sample period.

use ct_wire::checksum::CRC_LEN;
use ct_wire::frame::{samples_payload_len, write_samples_header, SAMPLES_HEADER_LEN};
use ct_wire::pack::{pack4_u16, GROUP_BYTES, GROUP_SAMPLES};

/// Samples per Samples frame: the wire format's default, which the host expects.
pub const SAMPLES_PER_FRAME: usize = ct_wire::DEFAULT_SAMPLES_PER_FRAME;

/// `kind || first_index || packed samples`, without the CRC.
pub const PAYLOAD_LEN: usize = samples_payload_len(SAMPLES_PER_FRAME);

/// One frame buffer: the payload plus room for the CRC that [`ct_wire::frame::seal`] appends.
pub const FRAME_BUF_LEN: usize = PAYLOAD_LEN + CRC_LEN;

/// A Samples frame being filled, waiting or being sent.
pub type FrameBuf = [u8; FRAME_BUF_LEN];

/// Samples that can wait for the UART: two full buffers.
pub const QUEUE_CAPACITY: u16 = 2 * SAMPLES_PER_FRAME as u16;

// The sample count and the group offset are kept in bytes: make sure they fit.
const _: () = assert!(SAMPLES_PER_FRAME.is_multiple_of(GROUP_SAMPLES));
const _: () = assert!(SAMPLES_PER_FRAME <= u8::MAX as usize);
const _: () = assert!(PAYLOAD_LEN <= u8::MAX as usize);
const _: () = assert!(FRAME_BUF_LEN >= SAMPLES_HEADER_LEN);

/// Counters the Status frame reports, read together in one critical section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counters {
    /// Index the next conversion will get: conversions since reset, dropped ones included.
    pub next_index: u32,
    /// Conversions dropped because no buffer was free.
    pub dropped_total: u32,
    /// Most samples ever buffered and not yet sent: the buffer being filled, a full one
    /// waiting, and the one the main loop is sending (counted whole until released).
    pub high_water: u16,
}

/// The interrupt side of the double buffer. `'b` is the buffers' lifetime (`'static` on the
/// device).
pub struct Sampler<'b> {
    /// Buffer being filled, with `count` samples in it.
    filling: Option<&'b mut FrameBuf>,
    count: u8,
    /// Byte offset of the next packed group in `filling`.
    group_off: u8,
    /// The current group of four samples, packed with ct-wire's `pack4_u16` when complete.
    group: [u16; GROUP_SAMPLES],
    /// Full buffer the main loop has not taken yet.
    full: Option<&'b mut FrameBuf>,
    /// Free buffer for the next frame.
    spare: Option<&'b mut FrameBuf>,
    /// Buffers the main loop has taken and not yet released (0-2).
    held: u8,
    next_index: u32,
    dropped_total: u32,
    high_water: u16,
}

impl<'b> Sampler<'b> {
    /// Takes the two frame buffers the stream cycles through.
    pub fn new(a: &'b mut FrameBuf, b: &'b mut FrameBuf) -> Self {
        Sampler {
            filling: Some(start(a, 0)),
            count: 0,
            group_off: SAMPLES_HEADER_LEN as u8,
            group: [0; GROUP_SAMPLES],
            full: None,
            spare: Some(b),
            held: 0,
            next_index: 0,
            dropped_total: 0,
            high_water: 0,
        }
    }

    /// Records one conversion result; returns true while a full frame waits for the main
    /// loop. Bits above the 10-bit range are masked by the packer (the ADC10 cannot set them).
    pub fn on_sample(&mut self, code: u16) -> bool {
        let index = self.next_index;
        self.next_index = index.wrapping_add(1);
        if self.filling.is_none() {
            match self.spare.take() {
                Some(buf) => {
                    self.filling = Some(start(buf, index));
                    self.count = 0;
                    self.group_off = SAMPLES_HEADER_LEN as u8;
                }
                None => {
                    self.dropped_total = self.dropped_total.saturating_add(1);
                    return self.full.is_some();
                }
            }
        }
        let Some(buf) = self.filling.as_deref_mut() else {
            return self.full.is_some();
        };
        if self.count as usize == SAMPLES_PER_FRAME {
            // Complete but not yet handed over (the main loop has not taken the previous
            // full buffer): this conversion has nowhere to go.
            self.dropped_total = self.dropped_total.saturating_add(1);
            return true;
        }
        let slot = (self.count as usize) % GROUP_SAMPLES;
        self.group[slot] = code;
        self.count += 1;
        if slot == GROUP_SAMPLES - 1 {
            let off = self.group_off as usize;
            // Always in range (28 groups end at PAYLOAD_LEN); `get_mut` keeps a panic path,
            // and its stack, out of the interrupt handler.
            if let Some(dst) = buf.get_mut(off..off + GROUP_BYTES) {
                dst.copy_from_slice(&pack4_u16(self.group));
            }
            self.group_off += GROUP_BYTES as u8;
        }
        let waiting = self.count as u16 + self.full_len();
        if waiting > self.high_water {
            self.high_water = waiting;
        }
        self.publish()
    }

    /// Moves a complete buffer to the hand-over slot if it is empty; true if a frame is
    /// ready for the main loop.
    fn publish(&mut self) -> bool {
        if self.count as usize == SAMPLES_PER_FRAME && self.full.is_none() {
            self.full = self.filling.take();
            self.count = 0;
        }
        self.full.is_some()
    }

    /// Samples in complete buffers: the full one waiting and those the main loop holds.
    fn full_len(&self) -> u16 {
        let buffers = self.held + self.full.is_some() as u8;
        match buffers {
            0 => 0,
            1 => SAMPLES_PER_FRAME as u16,
            _ => 2 * SAMPLES_PER_FRAME as u16,
        }
    }

    /// Takes the full buffer, if any: its payload (`PAYLOAD_LEN` bytes) is complete and
    /// unsealed. A complete buffer that was waiting behind it moves up at once.
    pub fn take_ready(&mut self) -> Option<&'b mut FrameBuf> {
        let ready = self.full.take();
        if ready.is_some() {
            self.held += 1;
        }
        self.publish();
        ready
    }

    /// Gives a sent buffer back. The stream owns exactly two buffers and the main loop holds
    /// at most one. Usually the next frame has started in the spare one; a buffer given back
    /// before that (the idle device returns each frame at once, before the next conversion)
    /// becomes the frame being filled, with the index the next conversion gets.
    pub fn release(&mut self, buf: &'b mut FrameBuf) {
        self.held = self.held.saturating_sub(1);
        if self.spare.is_none() {
            self.spare = Some(buf);
        } else {
            debug_assert!(self.filling.is_none() && self.full.is_none(), "more than two frame buffers");
            self.filling = Some(start(buf, self.next_index));
            self.count = 0;
            self.group_off = SAMPLES_HEADER_LEN as u8;
        }
    }

    /// Starts counting conversions from index 0 again (the device's first start of streaming
    /// after reset): the frame being filled and a full one waiting are dropped, their buffers
    /// reused. Call with no buffer held by the main loop.
    pub fn restart_index(&mut self) {
        self.next_index = 0;
        self.count = 0;
        self.group_off = SAMPLES_HEADER_LEN as u8;
        // Two buffers, none held: after `full` moves, filling and spare hold one each.
        let mut free = self.full.take();
        if self.filling.is_none() {
            self.filling = free.take();
        }
        if self.spare.is_none() {
            self.spare = free.take();
        }
        if let Some(buf) = self.filling.take() {
            self.filling = Some(start(buf, 0));
        }
    }

    pub fn counters(&self) -> Counters {
        Counters { next_index: self.next_index, dropped_total: self.dropped_total, high_water: self.high_water }
    }
}

/// Writes the Samples header for a buffer whose first sample has index `first_index`.
fn start(buf: &mut FrameBuf, first_index: u32) -> &mut FrameBuf {
    // Cannot fail: FRAME_BUF_LEN >= SAMPLES_HEADER_LEN is checked at compile time above.
    let _ = write_samples_header(&mut buf[..], first_index);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_wire::frame::seal;
    use ct_wire::{Frame, Samples};

    fn parse(buf: &mut FrameBuf) -> (u32, Vec<u16>) {
        let len = seal(&mut buf[..], PAYLOAD_LEN).unwrap();
        match Frame::parse(&buf[..len]).unwrap() {
            Frame::Samples(Samples { first_index, packed }) => (first_index, ct_wire::pack::unpack(packed).collect()),
            other => panic!("not a Samples frame: {other:?}"),
        }
    }

    /// With a frame full and waiting and another half filled, restarting the index drops
    /// both: the next frame starts at index 0 with the samples taken after the restart, and
    /// both buffers still cycle.
    #[test]
    fn restart_index_drops_buffered_samples_and_counts_from_zero() {
        let (mut a, mut b) = ([0u8; FRAME_BUF_LEN], [0u8; FRAME_BUF_LEN]);
        let mut s = Sampler::new(&mut a, &mut b);
        let n = SAMPLES_PER_FRAME as u16;
        for i in 0..n + 50 {
            s.on_sample(i);
        }
        s.restart_index();
        assert!(s.take_ready().is_none(), "the waiting frame was dropped");
        let mut held: Option<&mut FrameBuf> = None;
        for round in 0..3u16 {
            for i in 0..n {
                s.on_sample(500 + i);
                // As the main loop: the sent buffer comes back while the next one fills.
                if let Some(b) = held.take() {
                    s.release(b);
                }
            }
            let buf = s.take_ready().expect("a frame after the restart");
            let (first, samples) = parse(buf);
            assert_eq!(first, round as u32 * n as u32);
            assert_eq!(samples, (500..500 + n).collect::<Vec<_>>());
            held = Some(buf);
        }
        assert_eq!(s.counters().dropped_total, 0);
    }

    #[test]
    fn fills_hands_over_and_reuses_buffers() {
        let (mut a, mut b) = ([0u8; FRAME_BUF_LEN], [0u8; FRAME_BUF_LEN]);
        let mut s = Sampler::new(&mut a, &mut b);
        let n = SAMPLES_PER_FRAME as u16;
        for i in 0..n - 1 {
            assert!(!s.on_sample(i));
        }
        assert!(s.take_ready().is_none());
        assert!(s.on_sample(n - 1), "the 112th sample completes the frame");
        let buf = s.take_ready().unwrap();
        let (first, samples) = parse(buf);
        assert_eq!(first, 0);
        assert_eq!(samples, (0..n).collect::<Vec<_>>());
        for i in 0..n {
            s.on_sample(1000 - i);
        }
        s.release(buf);
        let buf = s.take_ready().unwrap();
        let (first, samples) = parse(buf);
        assert_eq!(first, n as u32);
        assert_eq!(samples, (0..n).map(|i| 1000 - i).collect::<Vec<_>>());
        assert_eq!(s.counters().dropped_total, 0);
        assert_eq!(s.counters().high_water, 2 * n, "one frame held, one filled");
    }

    /// With the main loop holding one buffer and the other full, conversions are dropped and
    /// counted, and the next frame's first_index jumps by exactly the number dropped.
    #[test]
    fn overrun_is_counted_and_visible_in_first_index() {
        let (mut a, mut b) = ([0u8; FRAME_BUF_LEN], [0u8; FRAME_BUF_LEN]);
        let mut s = Sampler::new(&mut a, &mut b);
        let n = SAMPLES_PER_FRAME as u32;
        for i in 0..n {
            s.on_sample(i as u16);
        }
        let held = s.take_ready().unwrap();
        for i in 0..n {
            s.on_sample(i as u16);
        }
        // Both buffers busy: 37 conversions have nowhere to go.
        for _ in 0..37 {
            assert!(s.on_sample(5));
        }
        assert_eq!(s.counters().dropped_total, 37);
        assert_eq!(s.counters().high_water, QUEUE_CAPACITY);
        s.release(held);
        let second = s.take_ready().unwrap();
        assert_eq!(parse(second).0, n);
        for i in 0..n {
            s.on_sample(i as u16 + 7);
        }
        let third = s.take_ready().unwrap();
        let (first, samples) = parse(third);
        assert_eq!(first, 2 * n + 37);
        assert_eq!(samples[0], 7);
        assert_eq!(s.counters().next_index, 3 * n + 37);
    }

    /// The main loop can lag by a whole frame: then one complete buffer waits behind the
    /// full one, samples are dropped only once both are complete, and the queue reaches its
    /// full capacity.
    #[test]
    fn complete_buffer_waits_behind_full_one() {
        let (mut a, mut b) = ([0u8; FRAME_BUF_LEN], [0u8; FRAME_BUF_LEN]);
        let mut s = Sampler::new(&mut a, &mut b);
        let n = SAMPLES_PER_FRAME as u32;
        for i in 0..2 * n + 3 {
            s.on_sample(i as u16 & 0x3FF);
        }
        assert_eq!(s.counters().dropped_total, 3);
        assert_eq!(s.counters().high_water, QUEUE_CAPACITY);
        let first = s.take_ready().unwrap();
        let second = s.take_ready().unwrap();
        assert!(s.take_ready().is_none());
        assert_eq!(parse(first).0, 0);
        assert_eq!(parse(second).0, n);
        s.release(first);
        s.on_sample(1);
        assert!(s.take_ready().is_none());
        let c = s.counters();
        assert_eq!((c.next_index, c.dropped_total), (2 * n + 4, 3));
    }
}
