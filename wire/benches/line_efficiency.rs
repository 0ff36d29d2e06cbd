//! Prints the wire format's line efficiency: sample payload bits per UART line bit (8N1) for
//! Samples frames of several sizes, and the resulting sample rates at the two link speeds.
//! Target at the default frame size: >= 0.75 (the ceiling for 10-bit samples in 8N1 is 0.8).
//!
//! Run: `cargo bench -p ct-wire --bench line_efficiency`

fn main() {
    println!("samples/frame  line bytes  efficiency  max Sa/s @9600  max Sa/s @230400");
    for n in [16, 32, 64, 112, 128, 192] {
        let line_bytes = ct_wire::framing::max_encoded_len(ct_wire::frame::samples_payload_len(n) + 2);
        let e = ct_wire::line_efficiency(n);
        let mark = if n == ct_wire::DEFAULT_SAMPLES_PER_FRAME { "  <- default" } else { "" };
        println!(
            "{n:>13}  {line_bytes:>10}  {e:>10.3}  {:>14.0}  {:>16.0}{mark}",
            9600.0 / 10.0 * n as f64 / line_bytes as f64,
            230400.0 / 10.0 * n as f64 / line_bytes as f64
        );
    }
    let e = ct_wire::line_efficiency(ct_wire::DEFAULT_SAMPLES_PER_FRAME);
    println!("default efficiency {e:.3}: target >= 0.75 {}", if e >= 0.75 { "met" } else { "NOT met" });
}
