//! The EABI helpers against native arithmetic: every 16-bit operand pair, and for 32 bits
//! edge cases crossed with each other plus a few million random pairs. Runs in seconds with
//! the optimised test profile (firmware/Cargo.toml); split over the available cores.

use ct_firmware_logic::mspabi::*;

/// Runs `check(a)` for every 16-bit `a`, in parallel.
fn for_all_u16(check: impl Fn(u16) + Sync) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(16);
    let chunk = 65536_usize.div_ceil(threads);
    std::thread::scope(|s| {
        for t in 0..threads {
            let check = &check;
            s.spawn(move || {
                let lo = t * chunk;
                let hi = ((t + 1) * chunk).min(65536);
                for a in lo..hi {
                    check(a as u16);
                }
            });
        }
    });
}

// The exhaustive loops accumulate a failure flag instead of asserting per pair, and check
// division through its defining identity (n = q*d + r with the remainder in range) instead
// of the host's divide instruction: both keep the inner loop branch-free so it vectorises,
// and the 2^32 pairs take seconds. A failure is then located with plain assertions.

#[test]
fn mpyi_exhaustive() {
    for_all_u16(|a| {
        let mut bad = false;
        // Exclusive u32 ranges: `0..=u16::MAX` iterates through RangeInclusive, whose exhausted
        // flag keeps LLVM from vectorising.
        for b in 0..65536u32 {
            let b = b as u16;
            bad |= mpyi(a, b) != a.wrapping_mul(b);
        }
        if bad {
            for b in 0..=u16::MAX {
                assert_eq!(mpyi(a, b), a.wrapping_mul(b), "mpyi({a}, {b})");
            }
        }
    });
}

#[test]
fn divmod_u16_exhaustive() {
    for_all_u16(|n| {
        let mut bad = false;
        for d in 1..65536u32 {
            let d = d as u16;
            let (q, r) = divmod_u16(n, d);
            bad |= (q as u32 * d as u32 + r as u32 != n as u32) | (r >= d);
        }
        if bad {
            for d in 1..=u16::MAX {
                assert_eq!(divmod_u16(n, d), (n / d, n % d), "divmod_u16({n}, {d})");
            }
        }
        assert_eq!(divmod_u16(n, 0), (u16::MAX, n));
    });
}

#[test]
fn divmod_i16_exhaustive() {
    for_all_u16(|n| {
        let n = n as i16;
        let mut bad = false;
        for d in -32768..32768i32 {
            let d = d as i16;
            let (q, r) = divmod_i16(n, d);
            // Truncating division: n = q*d + r, |r| < |d|, r has the sign of n (or is 0).
            // i16::MIN / -1 wraps to i16::MIN, where the identity holds modulo 2^16.
            let identity = (q as i32 * d as i32 + r as i32) as i16 == n;
            let range = (r as i32).abs() < (d as i32).abs();
            let sign = (r == 0) | ((r < 0) == (n < 0));
            bad |= (d != 0) & !(identity & range & sign);
        }
        if bad {
            for d in (i16::MIN..=i16::MAX).filter(|&d| d != 0) {
                let want = (n.wrapping_div(d), n.wrapping_rem(d));
                assert_eq!(divmod_i16(n, d), want, "divmod_i16({n}, {d})");
            }
        }
    });
}

#[test]
fn shifts_16_exhaustive() {
    for_all_u16(|x| {
        for n in 0..32u16 {
            assert_eq!(shl_u16(x, n), x.wrapping_shl(n as u32));
            assert_eq!(shr_u16(x, n), x.wrapping_shr(n as u32));
            assert_eq!(sar_i16(x as i16, n), (x as i16).wrapping_shr(n as u32));
        }
    });
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    /// Random value with a random number of significant bits, so small operands (the
    /// common case in the firmware) are as well covered as large ones.
    fn operand(&mut self) -> u32 {
        let bits = self.next_u32() % 33;
        let v = self.next_u32();
        if bits == 32 {
            v
        } else {
            v & ((1u32 << bits) - 1)
        }
    }
}

fn edge_cases() -> Vec<u32> {
    let mut v = vec![0, 1, 2, 3, 5, 7, 10, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x1_0001];
    for k in 0..32 {
        v.push(1 << k);
        v.push((1u32 << k).wrapping_sub(1));
        v.push((1u32 << k).wrapping_add(1));
    }
    v.extend([0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, 0xFFFF_FFFE, 0xFFFF_FFFF]);
    v.extend([1_000_000, 8_000_000, 1657, 122, 603, 8196]);
    v
}

fn check_32(a: u32, b: u32) {
    assert_eq!(mpyl(a, b), a.wrapping_mul(b), "mpyl({a}, {b})");
    if b != 0 {
        assert_eq!(divmod_u32(a, b), (a / b, a % b), "divmod_u32({a}, {b})");
        let (x, y) = (a as i32, b as i32);
        assert_eq!(divmod_i32(x, y), (x.wrapping_div(y), x.wrapping_rem(y)), "divmod_i32({x}, {y})");
    } else {
        assert_eq!(divmod_u32(a, 0), (u32::MAX, a));
    }
    let n = (b % 32) as u16;
    assert_eq!(shl_u32(a, n), a << n);
    assert_eq!(shr_u32(a, n), a >> n);
    assert_eq!(sar_i32(a as i32, n), (a as i32) >> n);
}

#[test]
fn helpers_32_edge_cases() {
    let edges = edge_cases();
    for &a in &edges {
        for &b in &edges {
            check_32(a, b);
        }
        for n in 0..64u16 {
            assert_eq!(shl_u32(a, n), a.wrapping_shl(n as u32));
            assert_eq!(shr_u32(a, n), a.wrapping_shr(n as u32));
            assert_eq!(sar_i32(a as i32, n), (a as i32).wrapping_shr(n as u32));
        }
    }
}

#[test]
fn helpers_32_random() {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(16);
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
                for _ in 0..4_000_000 / threads {
                    let (a, b) = (rng.operand(), rng.operand());
                    check_32(a, b);
                }
            });
        }
    });
}
