//! Firmware figures measured in the emulator, for the README: cycles per sample in the ADC10
//! interrupt, CPU load at each profile's rate, the highest sample rate without drops, the
//! stack high-water mark (RAM painted at power-on), flash and RAM use; and the emulator's
//! speed. Needs the ELFs (`bash .ci/emu.sh`). Run: `cargo bench -p ct-sim --bench figures`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use ct_emu::fil::{self, Profile, PROFILES};
use ct_emu::{vector, Config};
use ct_golden::{manifest, Waveform};

const SECONDS: f64 = 4.0;

fn waveform() -> Waveform {
    let c = manifest().unwrap().into_iter().find(|c| c.case == "sine-50hz-95a").unwrap();
    Waveform::load(&c).unwrap()
}

/// Runs with TACCR0 = ticks - 1 and TACCR1 = ticks / 2 patched into the image; returns the
/// samples dropped according to the last Status frame (None if no Status frame arrived).
fn drops_at(elf: &[u8], p: &Profile, ticks: u16) -> Option<u32> {
    let base = (1_000_000.0 / p.rate_hz).round() as u16;
    let w = waveform();
    let run = fil::run(
        elf,
        p,
        3.0,
        move |t| w.mv_at(t),
        |emu, _| {
            fil::patch_words(emu, &[0x40B2, base - 1, 0x0172], &[0x40B2, ticks - 1, 0x0172]).expect("TACCR0 write");
            fil::patch_words(emu, &[0x40B2, base / 2, 0x0174], &[0x40B2, ticks / 2, 0x0174]).expect("TACCR1 write");
        },
    )
    .ok()?;
    let d = common::decode(&run);
    if !run.emu.resets.is_empty() {
        return Some(u32::MAX);
    }
    d.statuses.last().map(|s| s.dropped_total)
}

fn main() {
    println!("# ct-emu figures (release ELFs, {SECONDS} s simulated, 95 A golden waveform)\n");
    for p in PROFILES {
        let elf = common::elf(&p);
        let w = waveform();
        let t0 = Instant::now();
        let run = fil::run(&elf, &p, SECONDS, move |t| w.mv_at(t), |_, _| {}).expect("run");
        let wall = t0.elapsed().as_secs_f64();
        let e = &run.emu;
        let img = &run.image;
        let adc = ((vector::ADC10 - 0xFFE0) / 2) as usize;
        let tx = ((vector::USCIAB0TX - 0xFFE0) / 2) as usize;
        let per_sample = e.isr_cycles[adc] as f64 / e.adc.conversions as f64;
        let mclk_total = e.seconds() * e.mclk_hz();
        let load = e.cpu_cycles as f64 / mclk_total;
        let flash: usize = img.segments.iter().filter(|(a, _)| *a >= 0xC000).map(|(_, b)| b.len()).sum();
        // The top of the static data: .data may follow .bss.
        let ebss = img.symbol("_ebss").unwrap_or(0x200).max(img.symbol("_edata").unwrap_or(0x200));
        let low = e.stack_low_water(ebss, Config::default().ram_fill);
        println!("## {} (MCLK {} MHz, {:.3} Sa/s, {} baud)", p.name, e.mclk_hz() / 1e6, p.rate_hz, p.baud);
        println!("- ADC10 interrupt: {per_sample:.1} MCLK cycles per sample (entry and RETI included)");
        println!(
            "- UART TX interrupt: {:.1} cycles per byte; {} bytes sent",
            e.isr_cycles[tx] as f64 / e.usci.sent.len().max(1) as f64,
            e.usci.sent.len()
        );
        println!("- CPU load: {:.1} % of MCLK awake ({} of {:.0} cycles)", 100.0 * load, e.cpu_cycles, mclk_total);
        println!(
            "- stack high-water mark: {} B below 0x0400 (lowest byte written 0x{low:04x}; {} B between _ebss 0x{ebss:04x} and it)",
            0x400 - low as u32,
            low as i32 - ebss as i32
        );
        println!("- flash: {flash} B (.text, .rodata, .data image, vectors); static RAM: {} B", ebss - 0x200);
        println!(
            "- emulator: {:.1} M instructions/s, {:.0}x real time ({:.2} s wall for {SECONDS} s)",
            e.instructions as f64 / wall / 1e6,
            SECONDS / wall,
            wall
        );
        // Highest gap-free rate: the smallest tick count (1 MHz timer clock) without drops.
        let base = (1_000_000.0 / p.rate_hz).round() as u16;
        let (mut lo, mut hi) = (8u16, base);
        if drops_at(&elf, &p, hi) != Some(0) {
            println!("- drops at the profile's own rate!");
            continue;
        }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if drops_at(&elf, &p, mid) == Some(0) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        println!(
            "- highest gap-free sample rate: {:.0} Sa/s ({} ticks of 1 MHz; {} ticks drop samples)\n",
            1e6 / hi as f64,
            hi,
            lo
        );
    }
}
