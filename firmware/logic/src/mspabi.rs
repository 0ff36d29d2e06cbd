//! Integer helpers of the MSP430 EABI, as pure functions.
//!
//! The G2553 has no hardware multiplier, so LLVM lowers `*`, `/`, `%` and variable 32-bit
//! shifts to calls of `__mspabi_*` routines, which compiler-builtins does not provide for
//! MSP430. The device binary exports thin `#[no_mangle]` wrappers around these functions.
//!
//! Each routine uses only additions, subtractions, comparisons and shifts by a *constant*
//! amount, which LLVM emits inline: an operator that is itself lowered to a helper call
//! would make the helper call itself. The host tests compare every routine with native
//! arithmetic: the 16-bit ones exhaustively, the 32-bit ones on edge cases and random sets.

/// 16 x 16 -> 16-bit multiplication (`__mspabi_mpyi`); the low half is the same for signed
/// and unsigned operands.
///
/// A fixed 16 rounds without data-dependent branches: on the device it costs about 100
/// cycles whatever the operands, and on the host the exhaustive test vectorises.
#[inline]
pub fn mpyi(mut a: u16, mut b: u16) -> u16 {
    let mut r: u16 = 0;
    for _ in 0..16 {
        r = r.wrapping_add(a & 0u16.wrapping_sub(b & 1));
        a <<= 1;
        b >>= 1;
    }
    r
}

/// 32 x 32 -> 32-bit multiplication (`__mspabi_mpyl`), signed or unsigned; stops early
/// once the remaining multiplier bits are zero (the firmware's operands are small).
#[inline]
pub fn mpyl(mut a: u32, mut b: u32) -> u32 {
    let mut r: u32 = 0;
    while b != 0 {
        if b & 1 != 0 {
            r = r.wrapping_add(a);
        }
        a <<= 1;
        b >>= 1;
    }
    r
}

/// Unsigned 16-bit division: (quotient, remainder) (`__mspabi_divu`, `__mspabi_remu`).
///
/// Restoring division, 16 rounds without data-dependent branches (see [`mpyi`]).
/// Division by zero is undefined in C and Rust checks it before calling; the loop then
/// gives `(0xFFFF, n)` by itself, deterministic without a branch.
#[inline]
pub fn divmod_u16(mut n: u16, d: u16) -> (u16, u16) {
    let mut q: u16 = 0;
    let mut r: u16 = 0;
    for _ in 0..16 {
        // r < d <= 2^16 - 1, so 2r + 1 can need 17 bits: the carry is that 17th bit.
        let carry = r >> 15;
        r = (r << 1) | (n >> 15);
        n <<= 1;
        let take = carry | (r >= d) as u16;
        r = r.wrapping_sub(d & 0u16.wrapping_sub(take));
        q = (q << 1) | take;
    }
    (q, r)
}

/// Signed 16-bit division, truncating toward zero; the remainder has the dividend's sign
/// (`__mspabi_divi`, `__mspabi_remi`). `i16::MIN / -1` wraps to `i16::MIN`.
#[inline]
pub fn divmod_i16(n: i16, d: i16) -> (i16, i16) {
    let (q, r) = divmod_u16(n.unsigned_abs(), d.unsigned_abs());
    // Conditional negation without branches: x ^ m - m is -x for m = !0 and x for m = 0.
    let neg_q = 0u16.wrapping_sub(((n ^ d) < 0) as u16);
    let neg_r = 0u16.wrapping_sub((n < 0) as u16);
    ((q ^ neg_q).wrapping_sub(neg_q) as i16, (r ^ neg_r).wrapping_sub(neg_r) as i16)
}

/// Unsigned 32-bit division: (quotient, remainder) (`__mspabi_divul`, `__mspabi_remul`).
/// Division by zero gives `(0xFFFF_FFFF, n)`.
#[inline]
pub fn divmod_u32(mut n: u32, d: u32) -> (u32, u32) {
    if d == 0 {
        return (u32::MAX, n);
    }
    let mut q: u32 = 0;
    let mut r: u32 = 0;
    let mut i = 32u8;
    while i != 0 {
        i -= 1;
        // r < d <= 2^32 - 1, so 2r + 1 can need 33 bits: keep the carry.
        let carry = r >> 31 != 0;
        r = (r << 1) | (n >> 31);
        n <<= 1;
        q <<= 1;
        if carry || r >= d {
            r = r.wrapping_sub(d);
            q |= 1;
        }
    }
    (q, r)
}

/// Signed 32-bit division, truncating toward zero (`__mspabi_divli`, `__mspabi_remli`).
#[inline]
pub fn divmod_i32(n: i32, d: i32) -> (i32, i32) {
    let (q, r) = divmod_u32(n.unsigned_abs(), d.unsigned_abs());
    let q = if (n < 0) != (d < 0) { q.wrapping_neg() } else { q };
    let r = if n < 0 { r.wrapping_neg() } else { r };
    (q as i32, r as i32)
}

/// 32-bit shift left by `n & 31` (`__mspabi_slll`).
#[inline]
pub fn shl_u32(mut x: u32, n: u16) -> u32 {
    let mut n = n & 31;
    if n >= 16 {
        x <<= 16;
        n -= 16;
    }
    if n >= 8 {
        x <<= 8;
        n -= 8;
    }
    while n != 0 {
        x <<= 1;
        n -= 1;
    }
    x
}

/// 32-bit logical shift right by `n & 31` (`__mspabi_srll`).
#[inline]
pub fn shr_u32(mut x: u32, n: u16) -> u32 {
    let mut n = n & 31;
    if n >= 16 {
        x >>= 16;
        n -= 16;
    }
    if n >= 8 {
        x >>= 8;
        n -= 8;
    }
    while n != 0 {
        x >>= 1;
        n -= 1;
    }
    x
}

/// 32-bit arithmetic shift right by `n & 31` (`__mspabi_sral`).
#[inline]
pub fn sar_i32(mut x: i32, n: u16) -> i32 {
    let mut n = n & 31;
    if n >= 16 {
        x >>= 16;
        n -= 16;
    }
    if n >= 8 {
        x >>= 8;
        n -= 8;
    }
    while n != 0 {
        x >>= 1;
        n -= 1;
    }
    x
}

/// 16-bit shift left by `n & 15` (`__mspabi_slli`; LLVM usually inlines 16-bit shifts).
#[inline]
pub fn shl_u16(mut x: u16, n: u16) -> u16 {
    let mut n = n & 15;
    if n >= 8 {
        x <<= 8;
        n -= 8;
    }
    while n != 0 {
        x <<= 1;
        n -= 1;
    }
    x
}

/// 16-bit logical shift right by `n & 15` (`__mspabi_srli`).
#[inline]
pub fn shr_u16(mut x: u16, n: u16) -> u16 {
    let mut n = n & 15;
    if n >= 8 {
        x >>= 8;
        n -= 8;
    }
    while n != 0 {
        x >>= 1;
        n -= 1;
    }
    x
}

/// 16-bit arithmetic shift right by `n & 15` (`__mspabi_srai`).
#[inline]
pub fn sar_i16(mut x: i16, n: u16) -> i16 {
    let mut n = n & 15;
    if n >= 8 {
        x >>= 8;
        n -= 8;
    }
    while n != 0 {
        x >>= 1;
        n -= 1;
    }
    x
}
