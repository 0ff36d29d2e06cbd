//! A UART receiver at a nominal baud rate, as the host's USB-UART would sample the line:
//! it finds each start bit's falling edge and samples the bits at their nominal centres. A
//! transmitter at the wrong rate then produces framing errors or wrong bytes, as on a real
//! line.

use crate::usci::TxChar;

/// Decodes 8N1 characters from the transmitted waveform at `baud`. Returns the bytes and the
/// number of framing errors (stop bit low).
pub fn receive(chars: &[TxChar], baud: f64) -> (Vec<u8>, usize) {
    // The line as level transitions: (time, level after it).
    let mut edges: Vec<(f64, bool)> = Vec::with_capacity(chars.len() * 6);
    let mut level = true;
    for ch in chars {
        if level {
            edges.push((ch.start_s, false));
            level = false;
        }
        for &(b, end) in &ch.bits {
            if b != level {
                // A bit's level starts at the previous bit's end: find it.
                let _ = end;
            }
        }
        let mut t = ch.start_s;
        for &(b, end) in &ch.bits {
            if b != level {
                edges.push((t, b));
                level = b;
            }
            t = end;
        }
    }
    let level_at = |t: f64, from: usize| -> (bool, usize) {
        let mut i = from;
        while i + 1 < edges.len() && edges[i + 1].0 <= t {
            i += 1;
        }
        if edges.is_empty() || t < edges[0].0 {
            (true, 0)
        } else {
            (edges[i].1, i)
        }
    };
    let bit = 1.0 / baud;
    let mut out = Vec::new();
    let mut errors = 0;
    let mut i = 0;
    let mut busy_until = f64::MIN;
    while i < edges.len() {
        let (t0, l) = edges[i];
        if l || t0 < busy_until {
            i += 1;
            continue;
        }
        let mut byte = 0u8;
        let mut cursor = i;
        for k in 0..8 {
            let (b, c) = level_at(t0 + (1.5 + k as f64) * bit, cursor);
            cursor = c;
            if b {
                byte |= 1 << k;
            }
        }
        let (stop, c) = level_at(t0 + 9.5 * bit, cursor);
        if stop {
            out.push(byte);
        } else {
            errors += 1;
        }
        busy_until = t0 + 9.5 * bit;
        i = c.max(i + 1);
    }
    (out, errors)
}
