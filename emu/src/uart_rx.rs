//! A UART receiver at a nominal baud rate, as the host's USB-UART samples the line: it finds
//! each start bit's falling edge and samples the bits at their nominal centres (8N1). A
//! transmitter at the wrong rate then produces framing errors or wrong bytes, as on a real
//! line. It can be fed incrementally ([`Receiver`]) or all at once ([`receive`]).

use crate::usci::TxChar;

/// An incremental 8N1 receiver.
#[derive(Clone, Debug)]
pub struct Receiver {
    bit_s: f64,
    /// Line transitions not yet consumed: (time, level after it).
    edges: Vec<(f64, bool)>,
    /// Line level after the last transition fed.
    level: bool,
    /// The previous character's stop bit sample: edges before it are inside that character.
    busy_until: f64,
    pub framing_errors: usize,
}

impl Receiver {
    pub fn new(baud: f64) -> Self {
        Receiver { bit_s: 1.0 / baud, edges: Vec::new(), level: true, busy_until: f64::MIN, framing_errors: 0 }
    }

    /// Adds transmitted characters (in time order) to the line.
    pub fn feed(&mut self, chars: &[TxChar]) {
        for ch in chars {
            let mut t = ch.start_s;
            for &(b, end) in &ch.bits {
                if b != self.level {
                    self.edges.push((t, b));
                    self.level = b;
                }
                t = end;
            }
        }
    }

    fn level_at(&self, t: f64, from: usize) -> (bool, usize) {
        if self.edges.is_empty() || t < self.edges[0].0 {
            return (true, 0);
        }
        let mut i = from;
        while i + 1 < self.edges.len() && self.edges[i + 1].0 <= t {
            i += 1;
        }
        (self.edges[i].1, i)
    }

    /// Decodes every character whose stop bit is sampled before `until_s` (the line must be
    /// fed up to then).
    pub fn poll(&mut self, until_s: f64) -> Vec<u8> {
        let bit = self.bit_s;
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.edges.len() {
            let (t0, l) = self.edges[i];
            if l || t0 < self.busy_until {
                i += 1;
                continue;
            }
            if t0 + 9.5 * bit > until_s {
                break;
            }
            let mut byte = 0u8;
            let mut cursor = i;
            for k in 0..8 {
                let (b, c) = self.level_at(t0 + (1.5 + k as f64) * bit, cursor);
                cursor = c;
                if b {
                    byte |= 1 << k;
                }
            }
            let (stop, c) = self.level_at(t0 + 9.5 * bit, cursor);
            if stop {
                out.push(byte);
            } else {
                self.framing_errors += 1;
            }
            self.busy_until = t0 + 9.5 * bit;
            i = c.max(i + 1);
        }
        // Keep the last consumed edge (it gives the level) and everything after it.
        let keep_from = i.saturating_sub(1);
        self.edges.drain(..keep_from);
        out
    }
}

/// Decodes 8N1 characters from the whole transmitted waveform at `baud`. Returns the bytes
/// and the number of framing errors (stop bit low).
pub fn receive(chars: &[TxChar], baud: f64) -> (Vec<u8>, usize) {
    let mut rx = Receiver::new(baud);
    rx.feed(chars);
    let bytes = rx.poll(f64::INFINITY);
    (bytes, rx.framing_errors)
}
